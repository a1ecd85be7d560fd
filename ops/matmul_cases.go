// Test rows and benchmarks of Matmul and Linear.
package ops

import (
	"fmt"
	"math"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	registerCases(matmulCases)
	registerCases(linearCases)
	registerBench(matmulBench)
}

// sumTol is the tolerance of outputs that are float32 sums of K products of values of size about
// scale (the reference sums in float64 and rounds once). The float32 running sum drifts like a
// random walk: about sqrt(K) roundings of partial sums up to sqrt(K)*scale^2 in size, so the
// absolute error grows like K*eps*scale^2; the bounds leave a factor of 10 or more.
func sumTol(K int, scale float64) Tol {
	s2 := scale * scale
	return Tol{
		Atol: 1e-5 * math.Sqrt(float64(K)) * s2 * math.Max(1, math.Sqrt(float64(K))/8),
		Rtol: 1e-4,
		Nerr: 1e-5,
		Why:  fmt.Sprintf("float32 accumulation of %d products in a different order than the float64 reference", K),
	}
}

func matmulCases() []Case {
	var cs []Case
	shapes := []struct{ M, N, K int }{
		{1, 1, 1}, {3, 5, 7}, {1, 129, 3}, {17, 3, 129}, {8, 12, 16}, {64, 64, 64}, {129, 17, 64}, {20, 36, 64}, {33, 64, 129},
		// Past the gpu variant's 128 x 128 block in both dimensions, with a partial BK step (37) and
		// several double-buffered steps (72).
		{131, 133, 37}, {260, 136, 72},
	}
	for si, sh := range shapes {
		for t := 0; t < 4; t++ {
			p := ref.Matmul{M: sh.M, N: sh.N, K: sh.K, TransA: t&2 != 0, TransB: t&1 != 0}
			acc := si%3 == 1 || (sh.M == 64 && t == 3)
			a, b := Randn(p.M*p.K, int64(100*si+t)), Randn(p.K*p.N, int64(100*si+t+50))
			name := fmt.Sprintf("%dx%dx%d_%s", p.M, p.N, p.K, transName(p))
			c := Buf{Name: "c", N: p.M * p.N, Check: true}
			if acc {
				name += "_acc"
				c.Data = Randn(p.M*p.N, int64(100*si+t+70))
			}
			cs = append(cs, Case{
				Op: "matmul", Name: name, Tol: sumTol(p.K, 1),
				Bufs: []Buf{In("a", a), In("b", b), c},
				GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.Matmul(s, p, b[0], b[1], b[2], acc) },
				Ref:  func(b [][]float32, _ [][]int32) { ref.MatmulForward(p, b[0], b[1], b[2], acc) },
			})
		}
	}
	// Operands one float32 past an aligned offset: no vec4 texel layout fits, the dispatcher falls back.
	p := ref.Matmul{M: 20, N: 24, K: 36}
	a, b := Randn(1+p.M*p.K, 7), Randn(1+p.K*p.N, 8)
	cs = append(cs, Case{
		Op: "matmul", Name: "20x24x36_nn_misaligned", Tol: sumTol(p.K, 1),
		Bufs: []Buf{In("a", a), In("b", b), Out("c", 1+p.M*p.N)},
		GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
			k.Matmul(s, p, shift(b[0], 1), shift(b[1], 1), shift(b[2], 1), false)
		},
		Ref: func(b [][]float32, _ [][]int32) {
			b[2][0] = float32(math.NaN()) // never written
			ref.MatmulForward(p, b[0][1:], b[1][1:], b[2][1:], false)
		},
	})
	return cs
}

// shift drops the first n float32s of a binding.
func shift(b vk.Binding, n int) vk.Binding {
	return vk.Binding{Buf: b.Buf, Off: b.Off + uint64(4*n), Size: b.Size - uint64(4*n)}
}

func transName(p ref.Matmul) string {
	s := map[bool]string{false: "n", true: "t"}
	return s[p.TransA] + s[p.TransB]
}

func linearCases() []Case {
	var cs []Case
	for i, sh := range []ref.Linear{{N: 1, I: 3, O: 5}, {N: 3, I: 17, O: 129}, {N: 64, I: 64, O: 64}, {N: 17, I: 20, O: 12}, {N: 130, I: 36, O: 8}} {
		p, seed := sh, int64(1000+10*i)
		x, w, bias, dy := Randn(p.N*p.I, seed), Randn(p.I*p.O, seed+1), Randn(p.O, seed+2), Randn(p.N*p.O, seed+3)
		shape := fmt.Sprintf("N%d_I%d_O%d", p.N, p.I, p.O)
		for _, withBias := range []bool{true, false} {
			name := shape
			if !withBias {
				name += "_nobias"
			}
			cs = append(cs, Case{
				Op: "linear_fwd", Name: name, Tol: sumTol(p.I+1, 1),
				Bufs: []Buf{In("x", x), In("w", w), In("b", bias), Out("y", p.N*p.O)},
				GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
					bb := b[2]
					if !withBias {
						bb = vk.Binding{}
					}
					k.LinearForward(s, p, b[0], b[1], bb, b[3])
				},
				Ref: func(b [][]float32, _ [][]int32) {
					var bb []float32
					if withBias {
						bb = b[2]
					}
					ref.LinearForward(p, b[0], b[1], bb, b[3])
				},
			})
		}
		tol := sumTol(max(p.N, p.O), 1)
		cs = append(cs, Case{
			Op: "linear_bwd", Name: shape, Tol: tol,
			Bufs: []Buf{In("x", x), In("w", w), In("dy", dy), Out("dx", p.N*p.I), Out("dw", p.I*p.O), Out("db", p.O)},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				k.LinearBackward(s, p, b[0], b[1], b[2], b[3], b[4], b[5])
			},
			Ref: func(b [][]float32, _ [][]int32) { ref.LinearBackward(p, b[0], b[1], b[2], b[3], b[4], b[5]) },
		}, Case{
			Op: "linear_bwd", Name: shape + "_dw_only", Tol: tol,
			Bufs: []Buf{In("x", x), In("w", w), In("dy", dy), Out("dw", p.I*p.O)},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				k.LinearBackward(s, p, b[0], b[1], b[2], vk.Binding{}, b[3], vk.Binding{})
			},
			Ref: func(b [][]float32, _ [][]int32) { ref.LinearBackward(p, b[0], b[1], b[2], nil, b[3], nil) },
		})
	}
	return append(cs, linearSplitCases()...)
}

// linearSplitShapes are Linear shapes whose GEMMs the gpu variant splits over the reduction
// (gemmChunks, with lavapipe's 128 x 128 block at BK 16 and an H200's alike): the forward's 200 in 3
// chunks of 80, 80, 40; dx's 150 and dw's 130 in 2 each (both at once, in disjoint scratch); dw's 300
// in 4 (80 x 3 + 60). TestGemmSplitShapes holds them to that.
var linearSplitShapes = []ref.Linear{{N: 70, I: 200, O: 36}, {N: 130, I: 20, O: 150}, {N: 300, I: 40, O: 24}}

// linearSplitCases: linear_fwd and linear_bwd rows through LinearForwardScratch and
// LinearBackwardScratch (scratch bound: the gpu variant splits, the cpu variant ignores it).
func linearSplitCases() []Case {
	const maxScratch = 1 << 16
	var cs []Case
	for i, p := range linearSplitShapes {
		seed := int64(1500 + 10*i)
		x, w, bias, dy := Randn(p.N*p.I, seed), Randn(p.I*p.O, seed+1), Randn(p.O, seed+2), Randn(p.N*p.O, seed+3)
		name := fmt.Sprintf("N%d_I%d_O%d_split", p.N, p.I, p.O)
		scratch := func(k *Kernels, b vk.Binding) vk.Binding {
			if n := k.LinearScratch(p); n > maxScratch {
				panic(fmt.Sprintf("linear scratch of %d float32s exceeds the bound %d", n, maxScratch))
			}
			return b
		}
		cs = append(cs, Case{
			Op: "linear_fwd", Name: name, Tol: sumTol(p.I+1, 1),
			Bufs: []Buf{In("x", x), In("w", w), In("b", bias), Out("y", p.N*p.O), {Name: "scratch", N: maxScratch}},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				k.LinearForwardScratch(s, p, b[0], b[1], b[2], b[3], scratch(k, b[4]))
			},
			Ref: func(b [][]float32, _ [][]int32) { ref.LinearForward(p, b[0], b[1], b[2], b[3]) },
		}, Case{
			Op: "linear_bwd", Name: name, Tol: sumTol(max(p.N, p.O), 1),
			Bufs: []Buf{In("x", x), In("w", w), In("dy", dy), Out("dx", p.N*p.I), Out("dw", p.I*p.O), Out("db", p.O), {Name: "scratch", N: maxScratch}},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				k.LinearBackwardScratch(s, p, b[0], b[1], b[2], b[3], b[4], b[5], scratch(k, b[6]))
			},
			Ref: func(b [][]float32, _ [][]int32) { ref.LinearBackward(p, b[0], b[1], b[2], b[3], b[4], b[5]) },
		})
	}
	return cs
}

// gemmBench is a Matmul row: all operands filled with seeded normal values.
func gemmBench(p ref.Matmul) BenchCase {
	return BenchCase{
		Op: "matmul", Shape: fmt.Sprintf("%dx%dx%d %s", p.M, p.N, p.K, transName(p)), Flops: 2 * float64(p.M) * float64(p.N) * float64(p.K),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := newBuffers(k, p.M*p.K, p.K*p.N, p.M*p.N)
			if err != nil {
				return nil, nil, err
			}
			return func(s *vk.Seq) { k.Matmul(s, p, b[0].All(), b[1].All(), b[2].All(), false) }, free, nil
		},
	}
}

func linearBench(p ref.Linear, backward bool) BenchCase {
	shape := fmt.Sprintf("N%d %d->%d", p.N, p.I, p.O)
	flops := 2 * float64(p.N) * float64(p.I) * float64(p.O)
	op := "linear_fwd"
	if backward {
		op, flops = "linear_bwd", 2*flops
	}
	return BenchCase{
		Op: op, Shape: shape, Flops: flops,
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			// x, w, bias, y / dy, dx, dw, db
			b, free, err := newBuffers(k, p.N*p.I, p.I*p.O, p.O, p.N*p.O, p.N*p.I, p.I*p.O, p.O)
			if err != nil {
				return nil, nil, err
			}
			if backward {
				return func(s *vk.Seq) {
					k.LinearBackward(s, p, b[0].All(), b[1].All(), b[3].All(), b[4].All(), b[5].All(), b[6].All())
				}, free, nil
			}
			return func(s *vk.Seq) { k.LinearForward(s, p, b[0].All(), b[1].All(), b[2].All(), b[3].All()) }, free, nil
		},
	}
}

// matmulBench: SGEMM 1024^3, the GEMM a 64->64 3x3 conv at 32x32, batch 64 amounts to, and the
// projection head's layers (512->2048->128 at batch 512).
func matmulBench() []BenchCase {
	return []BenchCase{
		gemmBench(ref.Matmul{M: 1024, N: 1024, K: 1024}),
		gemmBench(ref.Matmul{M: 65536, N: 64, K: 576}),
		linearBench(ref.Linear{N: 512, I: 512, O: 2048}, false),
		linearBench(ref.Linear{N: 512, I: 2048, O: 128}, false),
		linearBench(ref.Linear{N: 512, I: 512, O: 2048}, true),
		linearBench(ref.Linear{N: 512, I: 2048, O: 128}, true),
	}
}
