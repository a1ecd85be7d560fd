package ops

import (
	"math"
	"testing"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

// TestReductionsAreDeterministic runs the ops with cross-invocation sums
// twice from the same inputs and wants bit-identical outputs: exact resume
// needs bit-identical steps, so no float atomics and fixed reduction orders.
func TestReductionsAreDeterministic(t *testing.T) {
	bn := ref.NewBatchNorm(20000, 16)
	nt := ref.NTXent{N: 100, D: 32, Temperature: 0.2}
	segs := []ref.Segment{{Offset: 0, Len: 30000}, {Offset: 30000, Len: 64, Exclude: true}, {Offset: 30064, Len: 9936}}
	table := mustTable(40000, segs)
	type op struct {
		name   string
		inputs [][]float32 // uploaded before each run
		ints   []int32     // uploaded into the last buffer
		outs   []int       // sizes of the outputs compared
		record func(k *Kernels, s *vk.Seq, in, out []vk.Binding, ints vk.Binding)
	}
	// Grad weight as the im2col GEMM: three batch pieces of four images, each reduced in two chunks.
	cv := ref.Conv2D{N: 12, H: 24, W: 23, C: 8, K: 12, R: 3, S: 3, Stride: 2, Pad: 1}
	defer func(f int) { im2colPieceFloats = f }(im2colPieceFloats)
	im2colPieceFloats = 4 * cv.P() * cv.Q() * 9 * cv.C
	if k := kernels(t, "cpu"); k != nil {
		if step, _, chunks, _ := k.im2colPlan(cv); step != 4 || chunks != 2 {
			t.Fatalf("im2col plan: pieces of %d images in %d chunks, want 4 and 2", step, chunks)
		}
	}
	for _, o := range []op{
		{"im2col grad weight", [][]float32{Randn(cv.N*cv.H*cv.W*cv.C, 8), Randn(cv.N*cv.P()*cv.Q()*cv.K, 9)}, nil,
			[]int{9 * cv.C * cv.K, 1 << 16},
			func(k *Kernels, s *vk.Seq, in, out []vk.Binding, _ vk.Binding) {
				k.Conv2DBackwardWeightIm2col(s, cv, in[0], in[1], out[0], out[1])
			}},
		{"batchnorm", [][]float32{affine(bn.M*bn.C, 1, 0.5, 2), affine(bn.C, 2, 1, 0.2), affine(bn.C, 3, 0, 1), Randn(bn.M*bn.C, 4)}, nil,
			[]int{bn.M * bn.C, bn.C, bn.C, bn.C, bn.C, bn.M * bn.C, bn.C, bn.C, bnScratchBound(bn)},
			func(k *Kernels, s *vk.Seq, in, out []vk.Binding, _ vk.Binding) {
				k.BatchNormForwardTrain(s, bn, BNOpts{ReLU: true}, in[0], in[1], in[2], out[0], out[1], out[2], out[3], out[4], out[8])
				k.BatchNormBackward(s, bn, BNOpts{ReLU: true}, in[0], out[0], in[3], in[1], out[1], out[2], out[5], out[6], out[7], out[8])
			}},
		{"ntxent", [][]float32{normalized(2*nt.N, nt.D, 5)}, nil,
			[]int{4 * nt.N * nt.N, 2, 2 * nt.N * nt.D},
			func(k *Kernels, s *vk.Seq, in, out []vk.Binding, _ vk.Binding) {
				k.NTXent(s, nt, in[0], out[0], out[1])
				k.NTXentBackward(s, nt, in[0], out[0], out[2])
			}},
		{"lars", [][]float32{Randn(40000, 6), affine(40000, 7, 0, 0.1), LARSHyper(0.3, 0.9, 1e-4, ref.DefaultLARSEta)}, table,
			[]int{40000, 40000, LARSScratch(len(segs)), 1, SumScratch(40000)},
			func(k *Kernels, s *vk.Seq, in, out []vk.Binding, ints vk.Binding) {
				k.Sum(s, 40000, in[1], out[3], out[4])
				s.Copy(out[0], in[0])
				k.LARSStep(s, 40000, len(segs), out[0], in[1], out[1], ints, in[2], out[2], false)
			}},
	} {
		t.Run(o.name, func(t *testing.T) {
			for _, v := range []string{"cpu", "gpu"} {
				k := kernels(t, v)
				var runs [2][][]uint32
				for r := range runs {
					runs[r] = runOnce(t, k, o.inputs, o.ints, o.outs, o.record)
				}
				for i := range runs[0] {
					for j := range runs[0][i] {
						if runs[0][i][j] != runs[1][i][j] {
							t.Fatalf("%s: output %d element %d: %g then %g", v, i, j,
								math.Float32frombits(runs[0][i][j]), math.Float32frombits(runs[1][i][j]))
						}
					}
				}
			}
		})
	}
}

// runOnce uploads inputs (and zeroed outputs), records and runs once, and
// returns the outputs' bits.
func runOnce(t *testing.T, k *Kernels, inputs [][]float32, ints []int32, outs []int,
	record func(k *Kernels, s *vk.Seq, in, out []vk.Binding, ints vk.Binding)) [][]uint32 {
	t.Helper()
	c := k.Ctx
	var bufs []*vk.Buffer
	defer func() {
		for _, b := range bufs {
			b.Release()
		}
	}()
	alloc := func(n int) vk.Binding {
		b, err := c.NewBuffer(uint64(4 * max(n, 4)))
		if err != nil {
			t.Fatal(err)
		}
		bufs = append(bufs, b)
		return b.All()
	}
	in, out := make([]vk.Binding, len(inputs)), make([]vk.Binding, len(outs))
	for i, x := range inputs {
		in[i] = alloc(len(x))
		if err := c.UploadF32(in[i], x); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range outs {
		out[i] = alloc(n)
		if err := c.UploadF32(out[i], make([]float32, n)); err != nil {
			t.Fatal(err)
		}
	}
	var ib vk.Binding
	if ints != nil {
		ib = alloc(len(ints))
		if err := c.Upload(ib, int32Bytes(ints)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Run(func(s *vk.Seq) { record(k, s, in, out, ib) }); err != nil {
		t.Fatal(err)
	}
	res := make([][]uint32, len(outs))
	for i, n := range outs {
		res[i] = make([]uint32, n)
		if err := c.Download(u32bytes(res[i]), out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return res
}
