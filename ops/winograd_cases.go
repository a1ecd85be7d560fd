// Test rows and benchmarks of the Winograd convolutions (winograd.go), checked against the float64
// direct convolution of ops/ref.
package ops

import (
	"fmt"
	"math"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	registerCases(winogradCases)
	registerBench(winogradBench)
}

// winogradShapes: odd image sizes (tiles cut by the edge), padding 0, 1 and 2, batch 1, channel
// counts that are not multiples of 4 (scalar loads and stores, padded frequency matrices), images
// smaller than one tile, and reductions long enough for backward weight to split into chunks.
var winogradShapes = []ref.Conv2D{
	{N: 1, H: 5, W: 5, C: 4, K: 8, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 3, H: 7, W: 6, C: 3, K: 5, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 1, H: 6, W: 6, C: 12, K: 4, R: 3, S: 3, Stride: 1, Pad: 0},
	{N: 2, H: 9, W: 11, C: 8, K: 12, R: 3, S: 3, Stride: 1, Pad: 2},
	{N: 1, H: 3, W: 3, C: 5, K: 7, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 1, H: 4, W: 4, C: 64, K: 64, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 2, H: 16, W: 16, C: 16, K: 36, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 3, H: 8, W: 8, C: 20, K: 3, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 5, H: 29, W: 29, C: 4, K: 8, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 8, H: 32, W: 32, C: 16, K: 16, R: 3, S: 3, Stride: 1, Pad: 1},
	// 16 channels (padded from 14 forward, 16 backward data) take unshared 16x16 GEMM tiles, here
	// with 3 x 2 x 3 = 18 tiles: a row tile cut by the edge.
	{N: 3, H: 7, W: 9, C: 16, K: 14, R: 3, S: 3, Stride: 1, Pad: 1},
	// 64 channels and up take 16x16 GEMM tiles: column tiles cut by the edge, forward (68) and
	// backward data (72).
	{N: 2, H: 6, W: 5, C: 36, K: 68, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 1, H: 5, W: 7, C: 72, K: 40, R: 3, S: 3, Stride: 1, Pad: 1},
	// 64 output channels over 320 tiles: the shared forward GEMM's workgroups cover two row blocks
	// per frequency.
	{N: 5, H: 30, W: 30, C: 8, K: 64, R: 3, S: 3, Stride: 1, Pad: 1},
	// Two F(4x4) tiles an image: blocks of 2 tiles in one piece, and TestWinogradBlocks's pieces of
	// 2 images then 1.
	{N: 3, H: 7, W: 3, C: 16, K: 16, R: 3, S: 3, Stride: 1, Pad: 1},
}

// winoTol is a row's tolerance: the direct kernels' float32 summation bound (sumTol), which F(2x2,3x3)
// meets as it is (its transforms have coefficients 1 and 1/2; measured: largest error under 0.15 of
// the bound, normalized error under 5e-7), widened 8x per element for F(4x4,3x3), whose transforms
// multiply by up to 5 and 8 and divide by 6, 12 and 24 (measured: largest error up to 1.6x sumTol's,
// normalized error up to 3.3e-6, within sumTol's 1e-5). TestWinogradError logs the figures.
func winoTol(m, terms int) Tol {
	t := sumTol(terms, 1)
	if m == 4 {
		t.Atol *= 8
		t.Rtol *= 8
	}
	t.Why = fmt.Sprintf("float32 Winograd F(%dx%d,3x3): transforms round in float32 before and after the sums; %s", m, m, t.Why)
	return t
}

func winogradCases() []Case {
	var cs []Case
	for i, p := range winogradShapes {
		P, Q := p.P(), p.Q()
		x, w, dy, nx, nw, ny := convData(p, int64(5000+10*i)) // 3x3 filters: nw = 9*C*K
		for _, m := range []int{2, 4} {
			name := fmt.Sprintf("%s_f%d", convName(p), m)
			fwd, data := fwdPlan("", m, p), dataPlan("", m, p)
			wp, chunks, _ := weightPlan(m, p, math.MaxUint64)
			cs = append(cs, Case{
				Op: "conv2d_winograd_fwd", Name: name, Tol: winoTol(m, 9*p.C),
				Bufs: []Buf{In("x", x), In("w", w), Out("y", ny), {Name: "scratch", N: fwd.filterFloats() + fwd.inFloats() + fwd.outFloats()}},
				GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
					k.Conv2DForwardWinograd(s, p, m, b[0], b[1], b[2], b[3])
				},
				Ref: func(b [][]float32, _ [][]int32) { ref.Conv2DForward(p, b[0], b[1], b[2]) },
			}, Case{
				Op: "conv2d_winograd_bwd_data", Name: name, Tol: winoTol(m, 9*p.K),
				Bufs: []Buf{In("dy", dy), In("w", w), Out("dx", nx), {Name: "scratch", N: dataScratch(data, p)}},
				GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
					k.Conv2DBackwardDataWinograd(s, p, m, b[0], b[1], b[2], b[3])
				},
				Ref: func(b [][]float32, _ [][]int32) { ref.Conv2DBackwardData(p, b[0], b[1], b[2]) },
			}, Case{
				Op: "conv2d_winograd_bwd_data_add", Name: name, Tol: winoTol(m, 9*p.K+1),
				Bufs: []Buf{In("dy", dy), In("w", w), InOut("dx", Randn(nx, int64(5003+10*i))), {Name: "scratch", N: dataScratch(data, p)}},
				GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
					k.Conv2DBackwardDataWinogradAdd(s, p, m, b[0], b[1], b[2], b[3])
				},
				Ref: func(b [][]float32, _ [][]int32) {
					refAdd(b[2], func(dx []float32) { ref.Conv2DBackwardData(p, b[0], b[1], dx) })
				},
			}, Case{
				Op: "conv2d_winograd_bwd_weight", Name: name, Tol: winoTol(m, p.N*P*Q),
				Bufs: []Buf{In("x", x), In("dy", dy), Out("dw", nw), {Name: "scratch", N: wp.inFloats() + wp.outFloats() + chunks*wp.filterFloats()}},
				GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
					k.Conv2DBackwardWeightWinograd(s, p, m, b[0], b[1], b[2], b[3])
				},
				Ref: func(b [][]float32, _ [][]int32) { ref.Conv2DBackwardWeight(p, b[0], b[1], b[2]) },
			})
			// The same rows through the plain GEMMs where the device takes the subgroup-shuffle
			// forms (Kernels.Plain); the forms give bit-identical results, so the rows share tolerances.
			if m == 4 {
				for _, c := range cs[len(cs)-4:] {
					if c.Op == "conv2d_winograd_bwd_data_add" {
						continue
					}
					c.Name += "_plain"
					c.GPU = plainForms(c.GPU)
					cs = append(cs, c)
				}
			}
		}
	}
	return cs
}

// plainForms records f with the cpu variant's GEMMs and direct kernels kept off their subgroup-shuffle
// forms.
func plainForms(f func(k *Kernels, s *vk.Seq, b []vk.Binding)) func(k *Kernels, s *vk.Seq, b []vk.Binding) {
	return func(k *Kernels, s *vk.Seq, b []vk.Binding) {
		old := k.Plain
		k.Plain = true
		defer func() { k.Plain = old }()
		f(k, s, b)
	}
}

// winogradBench: the 3x3 stride-1 rows of conv2dBench again through the Winograd kernels, under the
// direct rows' op names so `vkclr bench ops --op conv2d_fwd` lists both; flops count the direct
// convolution's multiply-adds, so the rates compare time for the same work.
// The width-16 ResNet-18 at batch 2x256 gets direct rows here too (conv2dBench has width 64), and so
// does the demo preset's encoder (width 32, ImageNet stem at 28 px, batch 2x128), whose maps shrink
// to 7x7 down to 1x1, where a 4x4 tile is mostly padding.
func winogradBench() []BenchCase {
	w16 := []struct {
		n, hw, c, k int
		label       string
	}{{512, 32, 4, 16, "w16 stem"}, {512, 32, 16, 16, "w16 layer1"}, {512, 16, 32, 32, "w16 layer2"}, {512, 8, 64, 64, "w16 layer3"}, {512, 4, 128, 128, "w16 layer4"},
		{256, 7, 32, 32, "demo layer1"}, {256, 4, 64, 64, "demo layer2"}, {256, 2, 128, 128, "demo layer3"}, {256, 1, 256, 256, "demo layer4"}}
	var out []BenchCase
	for _, dir := range []string{"fwd", "bwd_data", "bwd_weight"} {
		direct := conv2dBench()
		for _, s := range w16 {
			b := convBench(dir, ref.Conv2D{N: s.n, H: s.hw, W: s.hw, C: s.c, K: s.k, R: 3, S: 3, Stride: 1, Pad: 1}, s.label)
			direct = append(direct, b)
			out = append(out, b)
		}
		for _, d := range direct {
			if d.Op != "conv2d_"+dir {
				continue
			}
			for _, m := range []int{2, 4} {
				if b, ok := winogradBenchCase(dir, d, m); ok {
					out = append(out, b)
				}
			}
		}
	}
	return out
}

// winogradBenchCase is direct row d through the Winograd kernels with tile m, if they take its shape.
func winogradBenchCase(dir string, d BenchCase, m int) (BenchCase, bool) {
	p, ok := benchConvShape(d.Shape)
	if !ok || !WinogradOK(p) {
		return BenchCase{}, false
	}
	nx, nw, ny := p.N*p.H*p.W*p.C, 9*p.C*p.K, p.N*p.P()*p.Q()*p.K
	return BenchCase{
		Op: d.Op, Shape: fmt.Sprintf("%s winograd F(%dx%d)", d.Shape, m, m), Flops: d.Flops,
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := newBuffers(k, nx, nw, ny, k.Conv2DWinogradScratch(p, dir, m))
			if err != nil {
				return nil, nil, err
			}
			x, w, y, sc := b[0].All(), b[1].All(), b[2].All(), b[3].All()
			switch dir {
			case "fwd":
				return func(s *vk.Seq) { k.Conv2DForwardWinograd(s, p, m, x, w, y, sc) }, free, nil
			case "bwd_data":
				return func(s *vk.Seq) { k.Conv2DBackwardDataWinograd(s, p, m, y, w, x, sc) }, free, nil
			}
			return func(s *vk.Seq) { k.Conv2DBackwardWeightWinograd(s, p, m, x, y, w, sc) }, free, nil
		},
	}, true
}

// benchConvShape parses convBench's shape text back ("N64 32x32 64->64 3x3/1 (label)").
func benchConvShape(shape string) (ref.Conv2D, bool) {
	var p ref.Conv2D
	_, err := fmt.Sscanf(shape, "N%d %dx%d %d->%d %dx%d/%d", &p.N, &p.H, &p.W, &p.C, &p.K, &p.R, &p.S, &p.Stride)
	p.Pad = p.R / 2
	return p, err == nil
}
