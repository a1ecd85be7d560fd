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
// cross the update's workgroup ranges (16,384 elements on lavapipe: 256
// invocations of optimVec4 vec4s) and span more vec4s than the norm pass
// has partials (1,024 elements: 256 partials of a vec4 each per step).
const optimN = 40000

var optimSegs = []ref.Segment{
	{Offset: 0, Len: 3}, {Offset: 3, Len: 1, Exclude: true}, {Offset: 5, Len: 16400},
	{Offset: 16405, Len: 0}, {Offset: 16405, Len: 63, Exclude: true}, {Offset: 16470, Len: 20000},
	{Offset: 36470, Len: 17}, {Offset: 36487, Len: 3512},
}

func mustTable(n int, segs []ref.Segment) []int32 {
	t, err := SegmentTable(n, segs)
	if err != nil {
		panic(err)
	}
	return t
}

// optimInputs: weights ~1, gradients and first moments ~0.1, second
// moments ~0.01. Segment 0 has zero gradients (with wd = 0 both LARS norms
// but ||w|| are 0: trust 1), segment 6 zero weights (||w|| = 0: trust 1).
func optimInputs(n int) (w, g, mom, v []float32) {
	w, g, mom, v = Randn(n, 31), affine(n, 32, 0, 0.1), affine(n, 33, 0, 0.1), Randn(n, 34)
	for i := range v {
		v[i] = 0.01 * v[i] * v[i]
	}
	for i := 0; i < 3; i++ {
		g[i] = 0
	}
	for i := 36470; i < 36487; i++ {
		w[i] = 0
	}
	return w, g, mom, v
}

func optimCases() []Case {
	n, segs := optimN, optimSegs
	table := mustTable(n, segs)
	w, g, mom, v := optimInputs(n)
	// Parameters and state are compared by their change (Step), so each term
	// of an update must be right to its own precision, not to the parameters'.
	// The hyperparameters make every term a sizeable part of the update
	// (weight decay ~ gradient ~ momentum; updates ~1e-2 of the weights) so
	// that one wrong term moves the normalized error far past Nerr
	// (the mutation check in tools/mutate plants such bugs).
	// Error: w_new rounded to float32 on both sides (<= 2.4e-7 for |w| < 4)
	// plus a few float32 roundings of the update (float32 norms for LARS).
	tol := func(nerr float64) Tol {
		return Tol{Atol: 5e-7, Rtol: 2e-5, Nerr: nerr, Why: "float32 update vs float64, and w+update rounded to float32 (compared as the change)"}
	}
	var cs []Case
	type sh struct {
		lr, momentum, wd float64
		nesterov         bool
	}
	for _, h := range []sh{{0.5, 0.9, 0.2, false}, {0.5, 0.9, 0.2, true}, {0.5, 0, 0.2, false}, {0.1, 0.9, 5e-4, false}} {
		cs = append(cs, Case{
			Op: "sgd", Name: fmt.Sprintf("lr=%g_m=%g_wd=%g_nesterov=%v", h.lr, h.momentum, h.wd, h.nesterov), Tol: tol(3e-6),
			Bufs: []Buf{Updated("params", w), In("grads", g), Updated("mom", mom), Ints("segs", table), In("hyper", SGDHyper(h.lr, h.momentum, h.wd))},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				k.SGDStep(s, n, len(segs), b[0], b[1], b[2], b[3], b[4], h.nesterov)
			},
			Ref: func(b [][]float32, _ [][]int32) {
				ref.SGDStep(b[0], b[1], b[2], segs, h.lr, h.momentum, h.wd, h.nesterov)
			},
		})
	}
	// eta 0.05 with wd 0.2 puts the trust ratio near 0.2 and lr*trust*g near
	// the momentum term; lr 4.8, eta 1e-3, wd 1e-6 is SimCLR's batch-4096 setting.
	for _, h := range []struct {
		sh
		eta float64
	}{{sh{1, 0.9, 0.2, false}, 0.05}, {sh{1, 0.9, 0.2, true}, 0.05}, {sh{1, 0.9, 0, false}, 0.05}, {sh{4.8, 0.9, 1e-6, false}, ref.DefaultLARSEta}} {
		cs = append(cs, Case{
			Op: "lars", Name: fmt.Sprintf("lr=%g_m=%g_wd=%g_eta=%g_nesterov=%v", h.lr, h.momentum, h.wd, h.eta, h.nesterov), Tol: tol(3e-6),
			Bufs: []Buf{Updated("params", w), In("grads", g), Updated("mom", mom), Ints("segs", table),
				In("hyper", LARSHyper(h.lr, h.momentum, h.wd, h.eta)), {Name: "scratch", N: LARSScratch(len(segs))}},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				k.LARSStep(s, n, len(segs), b[0], b[1], b[2], b[3], b[4], b[5], h.nesterov)
			},
			Ref: func(b [][]float32, _ [][]int32) {
				ref.LARSStep(b[0], b[1], b[2], segs, h.lr, h.momentum, h.wd, h.eta, h.nesterov)
			},
		})
	}
	// beta2 0.9 makes the g^2 term a tenth of the second moment; eps 0.05 a
	// sizeable part of the denominator; step 1 the largest bias corrections.
	// With beta2 0.999 v changes by ~1e-3 of itself, so its float32 rounding
	// is ~6e-5 of the change (nerr 4e-5 measured): a looser bound there.
	for _, h := range []struct {
		step                      int
		lr, b1, b2, eps, wd, nerr float64
	}{{1, 0.02, 0.9, 0.999, 1e-8, 0.5, 2e-4}, {10, 0.02, 0.9, 0.9, 1e-8, 0.5, 5e-6}, {3, 0.02, 0.8, 0.99, 0.05, 0.5, 2e-5}} {
		cs = append(cs, Case{
			Op: "adamw", Name: fmt.Sprintf("step=%d_lr=%g_b1=%g_b2=%g_eps=%g_wd=%g", h.step, h.lr, h.b1, h.b2, h.eps, h.wd), Tol: tol(h.nerr),
			Bufs: []Buf{Updated("params", w), In("grads", g), Updated("m", mom), Updated("v", v), Ints("segs", table),
				In("hyper", AdamWHyper(h.lr, h.b1, h.b2, h.eps, h.wd, h.step))},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				k.AdamWStep(s, n, len(segs), b[0], b[1], b[2], b[3], b[4], b[5])
			},
			Ref: func(b [][]float32, _ [][]int32) {
				ref.AdamWStep(b[0], b[1], b[2], b[3], segs, h.lr, h.b1, h.b2, h.eps, h.wd, h.step)
			},
		})
	}
	// A single small segment at an odd offset of a tiny buffer.
	one := []ref.Segment{{Offset: 1, Len: 5}}
	cs = append(cs, Case{
		Op: "sgd", Name: "n=7_one_segment", Tol: tol(3e-6),
		Bufs: []Buf{Updated("params", w[:7]), In("grads", g[:7]), Updated("mom", mom[:7]), Ints("segs", mustTable(7, one)), In("hyper", SGDHyper(0.5, 0.9, 0.2))},
		GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.SGDStep(s, 7, 1, b[0], b[1], b[2], b[3], b[4], false) },
		Ref:  func(b [][]float32, _ [][]int32) { ref.SGDStep(b[0], b[1], b[2], one, 0.5, 0.9, 0.2, false) },
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
		Op: "segment_norms", Name: "40000_8_segments",
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
