// Test and bench rows of global average pooling and max pooling.
package ops

import (
	"fmt"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	registerCases(poolCases)
	registerBench(poolBench)
}

// distinct returns n seeded values without ties (a shuffled ramp plus
// noise), so max pooling's argmax is unambiguous.
func distinct(n int, seed int64) []float32 {
	v := Randn(n, seed)
	for i := range v {
		v[i] = float32(i%97)*0.25 + 0.01*v[i]
	}
	return v
}

func poolCases() []Case {
	var cs []Case
	for _, sh := range []struct{ N, H, W, C int }{{1, 1, 1, 1}, {1, 1, 1, 3}, {3, 5, 5, 5}, {2, 4, 4, 64}, {1, 7, 5, 3}, {3, 8, 8, 20}} {
		N, H, W, C := sh.N, sh.H, sh.W, sh.C
		x, dy := Randn(N*H*W*C, int64(N*H*W*C)), Randn(N*C, int64(N*C)+1)
		name := fmt.Sprintf("%dx%dx%dx%d", N, H, W, C)
		cs = append(cs, Case{
			Op: "global_avg_pool", Name: name,
			Tol:  Tol{Atol: 1e-6, Rtol: 1e-5, Why: fmt.Sprintf("float32 sum of %d values, then a division, vs float64", H*W)},
			Bufs: []Buf{In("x", x), Out("y", N*C)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.GlobalAvgPool(s, N, H, W, C, b[0], b[1]) },
			Ref:  func(b [][]float32, _ [][]int32) { ref.GlobalAvgPoolForward(N, H, W, C, b[0], b[1]) },
		}, Case{
			Op: "global_avg_pool_bwd", Name: name,
			Tol:  Tol{Rtol: 3e-7, Why: "one float32 division (GLSL allows 2.5 ulp)"},
			Bufs: []Buf{In("dy", dy), Out("dx", N*H*W*C)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.GlobalAvgPoolBackward(s, N, H, W, C, b[0], b[1]) },
			Ref:  func(b [][]float32, _ [][]int32) { ref.GlobalAvgPoolBackward(N, H, W, C, b[0], b[1]) },
		})
	}
	for _, p := range []ref.MaxPool{
		{N: 1, H: 7, W: 7, C: 3, R: 3, S: 3, Stride: 2, Pad: 1}, // ResNet stem
		{N: 3, H: 5, W: 5, C: 5, R: 3, S: 3, Stride: 1, Pad: 1}, // heavy overlap
		{N: 1, H: 5, W: 7, C: 3, R: 2, S: 2, Stride: 2, Pad: 0},
		{N: 3, H: 5, W: 5, C: 1, R: 1, S: 1, Stride: 1, Pad: 0},
		{N: 1, H: 7, W: 5, C: 5, R: 3, S: 3, Stride: 2, Pad: 0},
		{N: 1, H: 7, W: 7, C: 3, R: 7, S: 7, Stride: 1, Pad: 3},
		{N: 2, H: 9, W: 9, C: 8, R: 3, S: 3, Stride: 2, Pad: 1}, // vec4 channels
		{N: 1, H: 6, W: 6, C: 12, R: 2, S: 3, Stride: 3, Pad: 1},
	} {
		n, m := p.N*p.H*p.W*p.C, p.N*p.P()*p.Q()*p.C
		x, dy := distinct(n, int64(n)), Randn(m, int64(m))
		name := fmt.Sprintf("%dx%dx%dx%d_%dx%d_s%dp%d", p.N, p.H, p.W, p.C, p.R, p.S, p.Stride, p.Pad)
		cs = append(cs, Case{
			Op: "max_pool", Name: name, Tol: Tol{Why: "exact: a selection"},
			Bufs: []Buf{In("x", x), Out("y", m)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.MaxPool(s, p, b[0], b[1]) },
			Ref:  func(b [][]float32, _ [][]int32) { ref.MaxPoolForward(p, b[0], b[1]) },
		}, Case{
			Op: "max_pool_bwd", Name: name,
			Tol:  Tol{Atol: 1e-6, Rtol: 1e-6, Why: "float32 sums of the few dy whose windows overlap, vs float64"},
			Bufs: []Buf{In("x", x), In("dy", dy), Out("dx", n)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.MaxPoolBackward(s, p, b[0], b[1], b[2]) },
			Ref:  func(b [][]float32, _ [][]int32) { ref.MaxPoolBackward(p, b[0], b[1], b[2]) },
		})
	}
	// Ties: the first maximum in scan order takes the gradient, as in the reference.
	p := ref.MaxPool{N: 1, H: 4, W: 4, C: 4, R: 3, S: 3, Stride: 1, Pad: 1}
	x := make([]float32, p.N*p.H*p.W*p.C)
	for i := range x {
		x[i] = float32((i / 4 % 3) + i%4)
	}
	dy := Randn(p.N*p.P()*p.Q()*p.C, 5)
	cs = append(cs, Case{
		Op: "max_pool_bwd", Name: "4x4x4_ties", Tol: Tol{Atol: 1e-6, Rtol: 1e-6, Why: "float32 sums of overlapping windows' dy"},
		Bufs: []Buf{In("x", x), In("dy", dy), Out("dx", len(x))},
		GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.MaxPoolBackward(s, p, b[0], b[1], b[2]) },
		Ref:  func(b [][]float32, _ [][]int32) { ref.MaxPoolBackward(p, b[0], b[1], b[2]) },
	})
	// The kept pair (MaxPoolKeep, then MaxPoolBackwardKept from its argmax) of the stem's window:
	// odd and even sides, a single pixel, batch 1, ties.
	for _, sh := range []struct{ N, H, W, C int }{{2, 9, 9, 8}, {3, 7, 5, 4}, {1, 14, 14, 16}, {1, 1, 1, 4}, {2, 2, 3, 4}, {1, 8, 6, 12}} {
		p := ref.MaxPool{N: sh.N, H: sh.H, W: sh.W, C: sh.C, R: 3, S: 3, Stride: 2, Pad: 1}
		n, m := p.N*p.H*p.W*p.C, p.N*p.P()*p.Q()*p.C
		cs = append(cs, keptPoolCase(p, distinct(n, int64(n)+7), Randn(m, int64(m)+7), fmt.Sprintf("%dx%dx%dx%d", p.N, p.H, p.W, p.C)))
	}
	pt := ref.MaxPool{N: 2, H: 7, W: 6, C: 4, R: 3, S: 3, Stride: 2, Pad: 1}
	xt := make([]float32, pt.N*pt.H*pt.W*pt.C)
	for i := range xt {
		xt[i] = float32((i / 4 % 3) + i%4)
	}
	cs = append(cs, keptPoolCase(pt, xt, Randn(pt.N*pt.P()*pt.Q()*pt.C, 6), "2x7x6x4_ties"))
	return cs
}

// keptPoolCase checks MaxPoolKeep's y and MaxPoolBackwardKept's dx (from the kept argmax) against the
// references; arg is scratch, checked through dx. (TestMaxPoolKeptBitIdentical compares dx with
// MaxPoolBackward's bit for bit.)
func keptPoolCase(p ref.MaxPool, x, dy []float32, name string) Case {
	return Case{
		Op: "max_pool_kept", Name: name,
		Tol:  Tol{Atol: 1e-6, Rtol: 1e-6, Why: "y exact (a selection); dx float32 sums of the few dy whose windows overlap, vs float64"},
		Bufs: []Buf{In("x", x), In("dy", dy), In("arg", make([]float32, MaxPoolKeepFloats(p))), Out("y", len(dy)), Out("dx", len(x))},
		GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
			k.MaxPoolKeep(s, p, b[0], b[3], b[2])
			k.MaxPoolBackwardKept(s, p, b[0], b[1], b[4], b[2])
		},
		Ref: func(b [][]float32, _ [][]int32) {
			ref.MaxPoolForward(p, b[0], b[3])
			ref.MaxPoolBackward(p, b[0], b[1], b[4])
		},
	}
}

// poolBench: the encoder's global average pool at batch 256 (256x4x4x512)
// and a 3x3/2 max pool over a layer1-sized map (CIFAR ResNet-18 has none;
// the ImageNet stem does).
func poolBench() []BenchCase {
	N, H, C := 256, 4, 512
	mp := ref.MaxPool{N: 256, H: 32, W: 32, C: 64, R: 3, S: 3, Stride: 2, Pad: 1}
	nx, ny := mp.N*mp.H*mp.W*mp.C, mp.N*mp.P()*mp.Q()*mp.C
	return []BenchCase{{
		Op: "global_avg_pool", Shape: "256x4x4x512", Bytes: float64(4 * (N*H*H*C + N*C)),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := newBuffers(k, N*H*H*C, N*C)
			if err != nil {
				return nil, nil, err
			}
			return func(s *vk.Seq) { k.GlobalAvgPool(s, N, H, H, C, b[0].All(), b[1].All()) }, free, nil
		},
	}, {
		Op: "global_avg_pool_bwd", Shape: "256x4x4x512", Bytes: float64(4 * (N*H*H*C + N*C)),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := newBuffers(k, N*C, N*H*H*C)
			if err != nil {
				return nil, nil, err
			}
			return func(s *vk.Seq) { k.GlobalAvgPoolBackward(s, N, H, H, C, b[0].All(), b[1].All()) }, free, nil
		},
	}, {
		Op: "max_pool", Shape: "256x32x32x64_3x3s2", Bytes: float64(4 * (nx + ny)),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := newBuffers(k, nx, ny)
			if err != nil {
				return nil, nil, err
			}
			return func(s *vk.Seq) { k.MaxPool(s, mp, b[0].All(), b[1].All()) }, free, nil
		},
	}, {
		Op: "max_pool_bwd", Shape: "256x32x32x64_3x3s2", Bytes: float64(4 * (2*nx + ny)),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := newBuffers(k, nx, ny, nx)
			if err != nil {
				return nil, nil, err
			}
			return func(s *vk.Seq) { k.MaxPoolBackward(s, mp, b[0].All(), b[1].All(), b[2].All()) }, free, nil
		},
	}}
}
