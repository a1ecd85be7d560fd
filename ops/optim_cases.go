// Test and bench rows of the optimizers (SGD, LARS, AdamW) and the reductions (Sum, SegmentNorms, NonFinite).
package ops

import (
	"fmt"
	"math"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	registerCases(optimCases)
	registerCases(reduceCases)
	registerBench(optimBench)
}

// optimLayout: odd offsets and lengths, excluded segments, a gap and a tail
// outside every segment, an empty segment, one element, and segments that
// cross the 4096-element workgroup ranges.
const optimN = 10000

var optimSegs = []ref.Segment{
	{Offset: 0, Len: 3}, {Offset: 3, Len: 1, Exclude: true}, {Offset: 5, Len: 4100},
	{Offset: 4105, Len: 0}, {Offset: 4105, Len: 63, Exclude: true}, {Offset: 4170, Len: 5000},
	{Offset: 9170, Len: 17}, {Offset: 9187, Len: 812},
}

func mustTable(n int, segs []ref.Segment) []int32 {
	t, err := SegmentTable(n, segs)
	if err != nil {
		panic(err)
	}
	return t
}

func optimCases() []Case {
	n, segs := optimN, optimSegs
	table := mustTable(n, segs)
	w, g := Randn(n, 31), affine(n, 32, 0, 0.1)
	mom, v := affine(n, 33, 0, 0.05), Randn(n, 34)
	for i := range v {
		v[i] = 0.01 * v[i] * v[i]
	}
	// Segment 6 has zero weights and zero gradients: both LARS norms are 0, so trust is 1.
	for i := 9170; i < 9187; i++ {
		w[i], g[i] = 0, 0
	}
	// One float32 rounding per operation against the float64 reference: the
	// parameters move by lr*update ~ 1e-3 and are otherwise carried exactly.
	tol := Tol{Atol: 1e-7, Rtol: 1e-6, Why: "float32 arithmetic (and float32 norms for LARS) vs float64"}
	var cs []Case
	for _, sh := range []struct {
		lr, momentum, wd float64
		nesterov         bool
	}{{0.1, 0.9, 5e-4, false}, {0.05, 0.9, 1e-4, true}, {0.1, 0, 5e-4, false}} {
		name := fmt.Sprintf("lr=%g_m=%g_wd=%g_nesterov=%v", sh.lr, sh.momentum, sh.wd, sh.nesterov)
		cs = append(cs, Case{
			Op: "sgd", Name: name, Tol: tol,
			Bufs: []Buf{InOut("params", w), In("grads", g), InOut("mom", mom), Ints("segs", table), In("hyper", SGDHyper(sh.lr, sh.momentum, sh.wd))},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				k.SGDStep(s, n, len(segs), b[0], b[1], b[2], b[3], b[4], sh.nesterov)
			},
			Ref: func(b [][]float32, _ [][]int32) {
				ref.SGDStep(b[0], b[1], b[2], segs, sh.lr, sh.momentum, sh.wd, sh.nesterov)
			},
		})
		if sh.momentum == 0 {
			continue
		}
		cs = append(cs, Case{
			Op: "lars", Name: name, Tol: tol,
			Bufs: []Buf{InOut("params", w), In("grads", g), InOut("mom", mom), Ints("segs", table),
				In("hyper", LARSHyper(sh.lr, sh.momentum, sh.wd, ref.DefaultLARSEta)), {Name: "scratch", N: LARSScratch(len(segs))}},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				k.LARSStep(s, n, len(segs), b[0], b[1], b[2], b[3], b[4], b[5], sh.nesterov)
			},
			Ref: func(b [][]float32, _ [][]int32) {
				ref.LARSStep(b[0], b[1], b[2], segs, sh.lr, sh.momentum, sh.wd, ref.DefaultLARSEta, sh.nesterov)
			},
		})
	}
	for _, step := range []int{1, 10} {
		lr, b1, b2, eps, wd := 1e-3, 0.9, 0.999, 1e-8, 0.05
		cs = append(cs, Case{
			Op: "adamw", Name: fmt.Sprintf("step=%d", step), Tol: tol,
			Bufs: []Buf{InOut("params", w), In("grads", g), InOut("m", mom), InOut("v", v), Ints("segs", table),
				In("hyper", AdamWHyper(lr, b1, b2, eps, wd, step))},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				k.AdamWStep(s, n, len(segs), b[0], b[1], b[2], b[3], b[4], b[5])
			},
			Ref: func(b [][]float32, _ [][]int32) {
				ref.AdamWStep(b[0], b[1], b[2], b[3], segs, lr, b1, b2, eps, wd, step)
			},
		})
	}
	// A single small segment at an odd offset of a tiny buffer.
	one := []ref.Segment{{Offset: 1, Len: 5}}
	cs = append(cs, Case{
		Op: "sgd", Name: "n=7_one_segment", Tol: tol,
		Bufs: []Buf{InOut("params", w[:7]), In("grads", g[:7]), InOut("mom", mom[:7]), Ints("segs", mustTable(7, one)), In("hyper", SGDHyper(0.1, 0.9, 1e-3))},
		GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.SGDStep(s, 7, 1, b[0], b[1], b[2], b[3], b[4], false) },
		Ref:  func(b [][]float32, _ [][]int32) { ref.SGDStep(b[0], b[1], b[2], one, 0.1, 0.9, 1e-3, false) },
	})
	return cs
}

func reduceCases() []Case {
	var cs []Case
	for _, n := range []int{1, 3, 2048, 2049, 10007, 100003} {
		x := Randn(n, int64(n)+3)
		cs = append(cs, Case{
			Op: "sum", Name: fmt.Sprintf("n=%d", n),
			Tol: Tol{Atol: 2e-6 * math.Sqrt(float64(n)), Rtol: 1e-6,
				Why: "float32 chunked sum of standard normals (partial sums ~sqrt(n)) vs float64"},
			Bufs: []Buf{In("x", x), Out("out", 1), {Name: "scratch", N: SumScratch(n)}},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.Sum(s, n, b[0], b[1], b[2]) },
			Ref:  func(b [][]float32, _ [][]int32) { b[1][0] = ref.Sum(b[0]) },
		})
	}
	x := Randn(optimN, 41)
	cs = append(cs, Case{
		Op: "segment_norms", Name: "10000_8_segments",
		Tol:  Tol{Atol: 1e-6, Rtol: 2e-6, Why: "float32 sums of squares over 256 interleaved partials vs float64"},
		Bufs: []Buf{In("x", x), Ints("segs", mustTable(optimN, optimSegs)), Out("out", len(optimSegs)), {Name: "scratch", N: SegmentNormsScratch(len(optimSegs))}},
		GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
			k.SegmentNorms(s, optimN, len(optimSegs), b[0], b[1], b[2], b[3])
		},
		Ref: func(b [][]float32, _ [][]int32) { ref.SegmentNorms(b[0], optimSegs, b[2]) },
	})
	flagCase := func(name string, x []float32) {
		cs = append(cs, Case{
			Op: "nonfinite", Name: name, Tol: Tol{Why: "exact: a flag"},
			Bufs: []Buf{In("x", x), Out("flag", 1)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.NonFinite(s, len(x), b[0], b[1]) },
			Ref: func(b [][]float32, _ [][]int32) {
				b[1][0] = 0
				if !ref.AllFinite(b[0]) {
					b[1][0] = 1
				}
			},
		})
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, n := range []int{1, 5, 4097, 70001} {
		x := Randn(n, int64(n))
		x[n/2] = 3e38 // large but finite
		flagCase(fmt.Sprintf("n=%d_finite", n), x)
		for _, at := range []struct {
			name string
			i    int
			v    float32
		}{{"nan_first", 0, nan}, {"inf_last", n - 1, inf}, {"-inf_middle", n / 3, -inf}} {
			y := append([]float32(nil), x...)
			y[at.i] = at.v
			flagCase(fmt.Sprintf("n=%d_%s", n, at.name), y)
		}
	}
	// The flag as the third float of a metrics block: not storage-aligned; the neighbours stay.
	bad := Randn(100, 5)
	bad[50] = nan
	cs = append(cs, Case{
		Op: "nonfinite", Name: "flag_at_offset_2", Tol: Tol{Why: "exact: a flag"},
		Bufs: []Buf{In("x", bad), InOut("metrics", []float32{1.5, 2.5, 7, 3.5})},
		GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.NonFinite(s, 100, b[0], shift(b[1], 2)) },
		Ref:  func(b [][]float32, _ [][]int32) { b[1][2] = 1 },
	})
	return cs
}

// optimBench: one LARS, SGD and AdamW step over the 11.2M parameters of a
// CIFAR ResNet-18 with a 512-512-128 head, laid out as 62 segments of the
// real sizes (conv weights, batchnorm and bias vectors excluded).
func optimBench() []BenchCase {
	segs := resnet18Segments()
	n := 0
	for _, s := range segs {
		n = max(n, s.Offset+s.Len)
	}
	table := mustTable(n, segs)
	setup := func(k *Kernels, hyper []float32, extra int) ([]*vk.Buffer, func(), error) {
		sizes := []int{n, n, n, len(table), len(hyper), extra}
		b, free, err := newBuffers(k, sizes...)
		if err != nil {
			return nil, nil, err
		}
		if err := k.Ctx.Upload(b[3].All(), int32Bytes(table)); err != nil {
			free()
			return nil, nil, err
		}
		if err := k.Ctx.UploadF32(b[4].All(), hyper); err != nil {
			free()
			return nil, nil, err
		}
		return b, free, nil
	}
	shape := fmt.Sprintf("%d_params_%d_segments", n, len(segs))
	return []BenchCase{{
		Op: "lars", Shape: shape, Bytes: float64(4 * 7 * n),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := setup(k, LARSHyper(0.3, 0.9, 1e-6, ref.DefaultLARSEta), LARSScratch(len(segs)))
			if err != nil {
				return nil, nil, err
			}
			return func(s *vk.Seq) {
				k.LARSStep(s, n, len(segs), b[0].All(), b[1].All(), b[2].All(), b[3].All(), b[4].All(), b[5].All(), false)
			}, free, nil
		},
	}, {
		Op: "sgd", Shape: shape, Bytes: float64(4 * 5 * n),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := setup(k, SGDHyper(0.1, 0.9, 5e-4), 1)
			if err != nil {
				return nil, nil, err
			}
			return func(s *vk.Seq) {
				k.SGDStep(s, n, len(segs), b[0].All(), b[1].All(), b[2].All(), b[3].All(), b[4].All(), false)
			}, free, nil
		},
	}, {
		Op: "adamw", Shape: shape, Bytes: float64(4 * 7 * n),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := setup(k, AdamWHyper(1e-3, 0.9, 0.999, 1e-8, 0.05, 3), n)
			if err != nil {
				return nil, nil, err
			}
			return func(s *vk.Seq) {
				k.AdamWStep(s, n, len(segs), b[0].All(), b[1].All(), b[2].All(), b[5].All(), b[3].All(), b[4].All())
			}, free, nil
		},
	}, {
		Op: "nonfinite", Shape: fmt.Sprintf("%d", n), Bytes: float64(4 * n),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := newBuffers(k, n, 1)
			if err != nil {
				return nil, nil, err
			}
			return func(s *vk.Seq) { k.NonFinite(s, n, b[0].All(), b[1].All()) }, free, nil
		},
	}}
}

// resnet18Segments lays out a CIFAR ResNet-18 (3x3 stem) with a 512-512-128
// projection head: conv weights (R, S, C, K), then batchnorm gamma and beta.
func resnet18Segments() []ref.Segment {
	var segs []ref.Segment
	off := 0
	add := func(n int, ex bool) {
		segs = append(segs, ref.Segment{Offset: off, Len: n, Exclude: ex})
		off += n
	}
	conv := func(r, c, k int) {
		add(r*r*c*k, false)
		add(k, true)
		add(k, true)
	}
	conv(3, 3, 64)
	in := 64
	for _, w := range []int{64, 128, 256, 512} {
		for b := 0; b < 2; b++ {
			conv(3, in, w)
			conv(3, w, w)
			if in != w {
				conv(1, in, w)
			}
			in = w
		}
	}
	add(512*512, false)
	add(512, true)
	add(512, true)
	add(512*128, false)
	return segs
}

// int32Bytes views v as bytes for an upload.
func int32Bytes(v []int32) []byte {
	u := make([]uint32, len(v))
	for i, x := range v {
		u[i] = uint32(x)
	}
	return u32bytes(u)
}
