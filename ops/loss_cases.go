// Test and bench rows of L2 normalization, NT-Xent and softmax cross-entropy.
package ops

import (
	"fmt"
	"math/rand"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	registerCases(lossCases)
	registerBench(lossBench)
}

// normalized returns rows seeded random unit vectors of dim features.
func normalized(rows, dim int, seed int64) []float32 {
	h := Randn(rows*dim, seed)
	z, norms := make([]float32, rows*dim), make([]float32, rows)
	ref.L2NormalizeForward(rows, dim, h, z, norms)
	return z
}

func lossCases() []Case {
	var cs []Case
	// L2 normalize, including an all-zero row whose norm is clamped to 1e-12.
	for _, sh := range []struct{ rows, dim int }{{1, 1}, {3, 3}, {7, 5}, {6, 128}, {300, 16}} {
		rows, dim := sh.rows, sh.dim
		h, dz := Randn(rows*dim, int64(rows*dim)), Randn(rows*dim, int64(rows*dim)+1)
		if rows > 1 {
			for k := 0; k < dim; k++ {
				h[dim+k] = 0
			}
		}
		z, norms := make([]float32, rows*dim), make([]float32, rows)
		ref.L2NormalizeForward(rows, dim, h, z, norms)
		name := fmt.Sprintf("%dx%d", rows, dim)
		tol := Tol{Atol: 1e-6, Rtol: 2e-6, Why: fmt.Sprintf("float32 sum of %d squares, sqrt and division vs float64", dim)}
		cs = append(cs, Case{
			Op: "l2_normalize", Name: name, Tol: tol,
			Bufs: []Buf{In("h", h), Out("z", rows*dim), Out("norms", rows)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.L2Normalize(s, rows, dim, b[0], b[1], b[2]) },
			Ref:  func(b [][]float32, _ [][]int32) { ref.L2NormalizeForward(rows, dim, b[0], b[1], b[2]) },
		}, Case{
			Op: "l2_normalize_bwd", Name: name, Tol: Tol{Atol: 1e-6, Rtol: 1e-5, Nerr: 1e-6, Why: tol.Why},
			Bufs: []Buf{In("z", z), In("norms", norms), In("dz", dz), Out("dh", rows*dim)},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				k.L2NormalizeBackward(s, rows, dim, b[0], b[1], b[2], b[3])
			},
			Ref: func(b [][]float32, _ [][]int32) { ref.L2NormalizeBackward(rows, dim, b[0], b[1], b[2], b[3]) },
		})
	}

	// NT-Xent on unit vectors: |s| <= 1/t, so exp and log see arguments of a
	// few units; GLSL's exp is within 3+2|x| ulp, the sums are float32.
	for _, p := range []ref.NTXent{
		{N: 1, D: 1, Temperature: 0.5}, {N: 1, D: 3, Temperature: 0.5}, {N: 3, D: 5, Temperature: 0.1},
		{N: 4, D: 8, Temperature: 0.5}, {N: 7, D: 13, Temperature: 0.2}, {N: 64, D: 128, Temperature: 0.5},
		{N: 150, D: 16, Temperature: 0.1},  // 300 rows: two workgroups of partial sums
		{N: 256, D: 128, Temperature: 0.5}, // SimCLR at batch 256
	} {
		rows := 2 * p.N
		z := normalized(rows, p.D, int64(100*p.N+p.D))
		name := fmt.Sprintf("N=%d_D=%d_t=%g", p.N, p.D, p.Temperature)
		sim := Buf{Name: "sim", N: rows * rows}
		lossTol := Tol{Atol: 1e-5, Rtol: 1e-5, Why: "float32 dot products, exp and log over 2N terms vs float64"}
		cs = append(cs, Case{
			Op: "ntxent", Name: name, Tol: lossTol,
			Bufs: []Buf{In("z", z), sim, Out("out", 2)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.NTXent(s, p, b[0], b[1], b[2]) },
			Ref: func(b [][]float32, _ [][]int32) {
				b[2][0], b[2][1] = ref.NTXentForward(p, b[0])
			},
		}, Case{
			Op: "ntxent_bwd", Name: name,
			Tol: Tol{Atol: 1e-6 / p.Temperature, Rtol: 1e-4, Nerr: 2e-6,
				Why: fmt.Sprintf("float32 softmax and a sum of %d products vs float64", rows)},
			Bufs: []Buf{In("z", z), sim, {Name: "out", N: 2}, Out("dz", rows*p.D)},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				k.NTXent(s, p, b[0], b[1], b[2])
				k.NTXentBackward(s, p, b[0], b[1], b[3])
			},
			Ref: func(b [][]float32, _ [][]int32) { ref.NTXentBackward(p, b[0], b[3]) },
		})
	}
	// Views close to each other, so the accuracy is neither 0 nor 1 and its argmax is exercised.
	{
		p := ref.NTXent{N: 20, D: 8, Temperature: 0.2}
		h := Randn(2*p.N*p.D, 11)
		noise := Randn(p.N*p.D, 12)
		for i := range noise {
			h[p.N*p.D+i] = h[i] + 0.6*noise[i]
		}
		z, norms := make([]float32, len(h)), make([]float32, 2*p.N)
		ref.L2NormalizeForward(2*p.N, p.D, h, z, norms)
		_, acc := ref.NTXentForward(p, z)
		if acc == 0 || acc == 1 {
			panic(fmt.Sprintf("ops: NT-Xent accuracy case has accuracy %g", acc))
		}
		cs = append(cs, Case{
			Op: "ntxent", Name: "N=20_D=8_close_views", Tol: Tol{Atol: 1e-5, Rtol: 1e-5, Why: "as above"},
			Bufs: []Buf{In("z", z), {Name: "sim", N: 4 * p.N * p.N}, Out("out", 2)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.NTXent(s, p, b[0], b[1], b[2]) },
			Ref:  func(b [][]float32, _ [][]int32) { b[2][0], b[2][1] = ref.NTXentForward(p, b[0]) },
		})
	}
	// The loss and accuracy at an unaligned offset inside a bigger buffer (the trainer's metrics block).
	p := ref.NTXent{N: 3, D: 4, Temperature: 0.5}
	z := normalized(6, 4, 9)
	cs = append(cs, Case{
		Op: "ntxent", Name: "N=3_D=4_out_at_offset_1", Tol: Tol{Atol: 1e-5, Rtol: 1e-5, Why: "as above"},
		Bufs: []Buf{In("z", z), {Name: "sim", N: 36}, InOut("out", []float32{7, 0, 0, 9})},
		GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.NTXent(s, p, b[0], b[1], shift(b[2], 1)) },
		Ref: func(b [][]float32, _ [][]int32) {
			b[2][1], b[2][2] = ref.NTXentForward(p, b[0])
		},
	})

	// Softmax cross-entropy, with and without the gradient.
	for _, sh := range []struct{ B, classes int }{{1, 1}, {1, 10}, {3, 2}, {5, 100}, {300, 10}, {1000, 100}} {
		B, classes := sh.B, sh.classes
		logits := affine(B*classes, int64(B*classes), 0, 3)
		r := rand.New(rand.NewSource(int64(B)))
		labels := make([]int32, B)
		for i := range labels {
			labels[i] = int32(r.Intn(classes))
		}
		name := fmt.Sprintf("B=%d_classes=%d", B, classes)
		tol := Tol{Atol: 1e-6, Rtol: 1e-5, Why: "float32 exp, log and sums over the classes vs float64"}
		refOut := func(b [][]float32, ib [][]int32, out []float32) {
			loss, correct := ref.SoftmaxCEForward(B, classes, b[0], ib[1])
			out[0], out[1] = loss, float32(correct)
		}
		cs = append(cs, Case{
			Op: "softmax_ce", Name: name, Tol: tol,
			Bufs: []Buf{In("logits", logits), Ints("labels", labels), Out("out", 2), Out("dlogits", B*classes)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.SoftmaxCE(s, B, classes, b[0], b[1], b[2], b[3]) },
			Ref: func(b [][]float32, ib [][]int32) {
				refOut(b, ib, b[2])
				ref.SoftmaxCEBackward(B, classes, b[0], ib[1], b[3])
			},
		}, Case{
			Op: "softmax_ce", Name: name + "_forward_only", Tol: tol,
			Bufs: []Buf{In("logits", logits), Ints("labels", labels), Out("out", 2)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.SoftmaxCEForward(s, B, classes, b[0], b[1], b[2]) },
			Ref:  func(b [][]float32, ib [][]int32) { refOut(b, ib, b[2]) },
		})
	}
	return cs
}

// lossBench: the loss head of a SimCLR step at batch 256 (2N = 512 rows of
// 128 features) and the linear probe's loss (512-feature ResNet-18, CIFAR-10).
func lossBench() []BenchCase {
	p := ref.NTXent{N: 256, D: 128, Temperature: 0.5}
	rows := 2 * p.N
	simFlops := float64(2 * rows * rows * p.D)
	return []BenchCase{{
		Op: "l2_normalize", Shape: "512x128", Bytes: float64(4 * 2 * rows * p.D),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := newBuffers(k, rows*p.D, rows*p.D, rows)
			if err != nil {
				return nil, nil, err
			}
			return func(s *vk.Seq) { k.L2Normalize(s, rows, p.D, b[0].All(), b[1].All(), b[2].All()) }, free, nil
		},
	}, {
		Op: "ntxent", Shape: "N=256_D=128", Flops: simFlops,
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := newBuffers(k, rows*p.D, rows*rows, 2)
			if err != nil {
				return nil, nil, err
			}
			z := normalized(rows, p.D, 1)
			if err := k.Ctx.UploadF32(b[0].All(), z); err != nil {
				free()
				return nil, nil, err
			}
			return func(s *vk.Seq) { k.NTXent(s, p, b[0].All(), b[1].All(), b[2].All()) }, free, nil
		},
	}, {
		Op: "ntxent_bwd", Shape: "N=256_D=128", Flops: simFlops,
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := newBuffers(k, rows*p.D, rows*rows, rows*p.D)
			if err != nil {
				return nil, nil, err
			}
			return func(s *vk.Seq) { k.NTXentBackward(s, p, b[0].All(), b[1].All(), b[2].All()) }, free, nil
		},
	}, {
		Op: "softmax_ce", Shape: "B=512_classes=10", Bytes: float64(4 * 2 * 512 * 10),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := newBuffers(k, 512*10, 512, 2, 512*10)
			if err != nil {
				return nil, nil, err
			}
			if err := k.Ctx.Upload(b[1].All(), make([]byte, 4*512)); err != nil { // labels 0
				free()
				return nil, nil, err
			}
			return func(s *vk.Seq) { k.SoftmaxCE(s, 512, 10, b[0].All(), b[1].All(), b[2].All(), b[3].All()) }, free, nil
		},
	}}
}
