package model

import (
	"math"
	"math/rand/v2"
)

// Init fills params and state like torchvision: convolutions Kaiming-normal
// (fan_out, ReLU gain), batchnorm weight 1 and bias 0, linear layers
// PyTorch's default (uniform in +-1/sqrt(fan_in) for weight and bias),
// running mean 0 and variance 1. Device padding channels stay zero.
func (g *Graph) Init(seed uint64, params, state []float32) {
	clear(params)
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	for _, p := range g.Params {
		v := params[p.Offset : p.Offset+p.Len]
		switch p.kind {
		case convWeight:
			std := math.Sqrt(2 / float64(p.fanOut))
			R, S, C, K := p.Shape[0], p.Shape[1], p.Shape[2], p.Shape[3]
			for i := 0; i < R*S; i++ {
				for c := 0; c < C; c++ {
					for k := 0; k < K; k++ {
						x := r.NormFloat64() * std
						if c >= p.trueC {
							x = 0
						}
						v[(i*C+c)*K+k] = float32(x)
					}
				}
			}
		case bnWeight:
			for i := range v {
				v[i] = 1
			}
		case bnBias:
		case linWeight, linBias:
			bound := 1 / math.Sqrt(float64(p.fanIn))
			for i := range v {
				v[i] = float32((2*r.Float64() - 1) * bound)
			}
		}
	}
	clear(state)
	for _, s := range g.Stats {
		for i := 0; i < s.C; i++ {
			state[s.VarOff+i] = 1
		}
	}
}

// Randn32 returns n seeded standard-normal float32s (tests and benchmarks).
func Randn32(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}
