// Test and bench rows of batchnorm: training forward, eval and backward, with and without the fused ReLU.
package ops

import (
	"fmt"
	"math"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	registerCases(batchnormCases)
	registerBench(batchnormBench)
}

// affine returns n seeded normal values scaled by sd around mean.
func affine(n int, seed int64, mean, sd float32) []float32 {
	v := Randn(n, seed)
	for i := range v {
		v[i] = mean + sd*v[i]
	}
	return v
}

// bnScratchBound is BatchNormScratch for the smallest chunk height, 4 rows
// (bnRows with the storage range lowered, as TestSplitLargeTensors does), so
// one table serves every device and every range.
func bnScratchBound(p ref.BatchNorm) int { return max(2*ceilDiv(p.M, 4), 4) * p.C }

func batchnormCases() []Case {
	// Sums of M values in float32 (chunked Welford, then a chunk merge) against
	// the float64 reference: relative errors of a few 1e-7 on mean and
	// variance, so y = (x-mean)*gamma*istd + beta is off by about 1e-6 per
	// unit of |xhat|; dgamma and dbeta are sums of M terms of size about 1.
	fwdTol := Tol{Atol: 2e-5, Rtol: 2e-5, Nerr: 2e-6, Why: "float32 chunked Welford statistics vs float64 two-pass"}
	var cs []Case
	type shape struct {
		M, C     int
		mean, sd float32
	}
	for i, sh := range []shape{
		{2, 1, 0, 1}, {3, 3, 0, 1}, {5, 5, 0.5, 2}, {7, 64, 0, 1}, {257, 3, 0, 1}, {1000, 16, -1, 0.5},
		{4099, 5, 0, 1}, {20000, 12, 0, 1},
		{300000, 4, 0, 1}, // over 4096 chunks of 64 rows: the GPU style's chunks grow
		{300, 8, 100, 1},  // a large mean: a one-pass E[x^2]-E[x]^2 would lose most digits
		{130, 40, 0, 1},   // with ReLU, channel groups in pairs (the apply passes' _x8 forms on lavapipe)
	} {
		p := ref.NewBatchNorm(sh.M, sh.C)
		seed := int64(1000 + 10*i)
		x := affine(p.M*p.C, seed, sh.mean, sh.sd)
		gamma, beta := affine(p.C, seed+1, 1, 0.3), affine(p.C, seed+2, 0, 0.5)
		rm, rv := affine(p.C, seed+3, 0, 0.2), affine(p.C, seed+4, 1, 0.1)
		dy := Randn(p.M*p.C, seed+5)
		tol := fwdTol
		if sh.mean >= 10 {
			// The mean of |x| ~ 100 carries float32 rounding into x-mean: the cpu kernels' Welford walks
			// chunks of 256 rows, and each update rounds the running mean near 100 by up to half an ulp
			// (3.8e-6, 2.2e-6 rms); those roundings add as a random walk, about 16 x 2.2e-6 = 3.5e-5 rms,
			// and y = gamma*(x-mean)*istd + beta (|y| ~ 1) carries it whole. Measured: under 2e-5 on
			// lavapipe, 2.27e-5 on an NVIDIA H200 (its compiler fuses multiply-adds). A float32 one-pass
			// E[x^2]-E[x]^2 over these rows puts 0.6e-3 to 3.8e-3 into y (numpy, eight draws): 12-76 times this.
			tol = Tol{Atol: 2e-4, Rtol: 2e-5, Nerr: 5e-5, Why: "float32 statistics of values near 100: x-mean inherits a random walk of half-ulp roundings, ~3.5e-5 rms"}
		}
		// dgamma and dbeta are sums of M terms of size ~1 (magnitude ~sqrt(M)),
		// rounded along chunks of rows and then two levels of chunks.
		bwdTol := Tol{Atol: 4e-6 * math.Sqrt(float64(p.M)), Rtol: 2e-5, Nerr: 1e-5,
			Why: fmt.Sprintf("float32 sums of %d products, chunked, vs float64", p.M)}
		if sh.mean >= 10 {
			bwdTol.Atol, bwdTol.Nerr = 1e-3, 1e-4
		}
		if sh.M == 2 {
			// With two rows dx = 0 exactly (xhat = -1, +1): only rounding is left, so no relative error.
			bwdTol.Nerr, bwdTol.Why = 0, "dx is 0 in exact arithmetic for M = 2; float32 rounding only"
		}
		for _, relu := range []bool{false, true} {
			if relu && i%2 == 1 {
				continue
			}
			o := BNOpts{ReLU: relu}
			name := fmt.Sprintf("M=%d_C=%d", p.M, p.C)
			if sh.mean != 0 {
				name += fmt.Sprintf("_mean=%g", sh.mean)
			}
			if relu {
				name += "_relu"
			}
			part := Buf{Name: "partial", N: bnScratchBound(p)}
			cs = append(cs, Case{
				Op: "batchnorm", Name: name, Tol: tol,
				Bufs: []Buf{In("x", x), In("gamma", gamma), In("beta", beta), Out("y", p.M*p.C), Out("mean", p.C), Out("istd", p.C),
					InOut("runMean", rm), InOut("runVar", rv), part},
				GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
					k.BatchNormForwardTrain(s, p, o, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8])
				},
				Ref: func(b [][]float32, _ [][]int32) {
					ref.BatchNormForwardTrain(p, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7])
					if relu {
						ref.ReLUForward(b[3], b[3])
					}
				},
			})
			// The backward's inputs: the reference forward's y, mean and istd.
			y, mean, istd := make([]float32, p.M*p.C), make([]float32, p.C), make([]float32, p.C)
			ref.BatchNormForwardTrain(p, x, gamma, beta, y, mean, istd, nil, nil)
			if relu {
				ref.ReLUForward(y, y)
			}
			cs = append(cs, Case{
				Op: "batchnorm_bwd", Name: name, Tol: bwdTol,
				Bufs: []Buf{In("x", x), In("y", y), In("dy", dy), In("gamma", gamma), In("mean", mean), In("istd", istd),
					Out("dx", p.M*p.C), Out("dgamma", p.C), Out("dbeta", p.C), part},
				GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
					y := b[1]
					if !relu {
						y = vk.Binding{}
					}
					k.BatchNormBackward(s, p, o, b[0], y, b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9])
				},
				Ref: func(b [][]float32, _ [][]int32) {
					d := b[2]
					if relu {
						d = make([]float32, len(d))
						ref.ReLUBackward(b[1], b[2], d)
					}
					ref.BatchNormBackward(p, b[0], d, b[3], b[4], b[5], b[6], b[7], b[8])
				},
			})
			if relu {
				// A residual block's end: y = relu(bn(x) + r) in one pass.
				r := Randn(p.M*p.C, seed+6)
				addRes := func(y, r []float32) {
					for j := range y {
						y[j] += r[j]
					}
					ref.ReLUForward(y, y)
				}
				cs = append(cs, Case{
					Op: "batchnorm_res", Name: name, Tol: tol,
					Bufs: []Buf{In("x", x), In("gamma", gamma), In("beta", beta), Out("y", p.M*p.C), Out("mean", p.C), Out("istd", p.C),
						InOut("runMean", rm), InOut("runVar", rv), part, In("residual", r)},
					GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
						k.BatchNormForwardTrain(s, p, BNOpts{ReLU: true, Residual: b[9]}, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8])
					},
					Ref: func(b [][]float32, _ [][]int32) {
						ref.BatchNormForwardTrain(p, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7])
						addRes(b[3], b[9])
					},
				}, Case{
					Op: "batchnorm_eval_res", Name: name, Tol: Tol{Atol: 1e-5, Rtol: 1e-5, Why: "float32 (x-mean)*scale+beta+r vs float64"},
					Bufs: []Buf{In("x", x), In("gamma", gamma), In("beta", beta), In("runMean", rm), In("runVar", rv), Out("y", p.M*p.C), In("residual", r)},
					GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
						k.BatchNormForwardEval(s, p, BNOpts{ReLU: true, Residual: b[6]}, b[0], b[1], b[2], b[3], b[4], b[5])
					},
					Ref: func(b [][]float32, _ [][]int32) {
						ref.BatchNormForwardEval(p, b[0], b[1], b[2], b[3], b[4], b[5])
						addRes(b[5], b[6])
					},
				})
			}
			cs = append(cs, Case{
				Op: "batchnorm_eval", Name: name, Tol: Tol{Atol: 1e-5, Rtol: 1e-5, Why: "float32 (x-mean)*scale+beta vs float64"},
				Bufs: []Buf{In("x", x), In("gamma", gamma), In("beta", beta), In("runMean", rm), In("runVar", rv), Out("y", p.M*p.C)},
				GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
					k.BatchNormForwardEval(s, p, o, b[0], b[1], b[2], b[3], b[4], b[5])
				},
				Ref: func(b [][]float32, _ [][]int32) {
					ref.BatchNormForwardEval(p, b[0], b[1], b[2], b[3], b[4], b[5])
					if relu {
						ref.ReLUForward(b[5], b[5])
					}
				},
			})
		}
	}
	// No running statistics; a constant channel (variance 0, istd = 1/sqrt(eps)).
	p := ref.NewBatchNorm(6, 4)
	x := affine(p.M*p.C, 77, 0, 1)
	for m := 0; m < p.M; m++ {
		x[m*p.C+2] = 3
	}
	gamma, beta := affine(p.C, 78, 1, 0.3), affine(p.C, 79, 0, 0.5)
	cs = append(cs, Case{
		Op: "batchnorm", Name: "M=6_C=4_constant_channel_no_running", Tol: fwdTol,
		Bufs: []Buf{In("x", x), In("gamma", gamma), In("beta", beta), Out("y", p.M*p.C), Out("mean", p.C), Out("istd", p.C),
			{Name: "partial", N: bnScratchBound(p)}},
		GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
			k.BatchNormForwardTrain(s, p, BNOpts{}, b[0], b[1], b[2], b[3], b[4], b[5], vk.Binding{}, vk.Binding{}, b[6])
		},
		Ref: func(b [][]float32, _ [][]int32) {
			ref.BatchNormForwardTrain(p, b[0], b[1], b[2], b[3], b[4], b[5], nil, nil)
		},
	})
	return cs
}

// batchnormBench: layer1 of a CIFAR ResNet-18 at batch 256 (M = 256*32*32, C = 64),
// forward with ReLU and backward with the ReLU mask, and the 512-channel layer4.
func batchnormBench() []BenchCase {
	var out []BenchCase
	for _, sh := range []struct{ N, H, C int }{{256, 32, 64}, {256, 4, 512}} {
		p := ref.NewBatchNorm(sh.N*sh.H*sh.H, sh.C)
		n := p.M * p.C
		shape := fmt.Sprintf("%dx%dx%dx%d", sh.N, sh.H, sh.H, sh.C)
		out = append(out, BenchCase{
			Op: "batchnorm_relu", Shape: shape, Bytes: float64(4 * (3 * n)),
			Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
				b, free, err := newBuffers(k, n, n, p.C, p.C, p.C, p.C, p.C, p.C, k.BatchNormScratch(p))
				if err != nil {
					return nil, nil, err
				}
				return func(s *vk.Seq) {
					k.BatchNormForwardTrain(s, p, BNOpts{ReLU: true}, b[0].All(), b[2].All(), b[3].All(), b[1].All(), b[4].All(), b[5].All(), b[6].All(), b[7].All(), b[8].All())
				}, free, nil
			},
		}, BenchCase{
			Op: "batchnorm_relu_bwd", Shape: shape, Bytes: float64(4 * (7 * n)),
			Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
				b, free, err := newBuffers(k, n, n, n, n, p.C, p.C, p.C, p.C, p.C, k.BatchNormScratch(p))
				if err != nil {
					return nil, nil, err
				}
				return func(s *vk.Seq) {
					k.BatchNormBackward(s, p, BNOpts{ReLU: true}, b[0].All(), b[1].All(), b[2].All(), b[4].All(), b[5].All(), b[6].All(), b[3].All(), b[7].All(), b[8].All(), b[9].All())
				}, free, nil
			},
		})
	}
	return out
}
