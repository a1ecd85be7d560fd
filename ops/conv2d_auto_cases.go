// Test rows of Conv2DForwardAuto, Conv2DBackwardDataAuto and Conv2DBackwardWeightAuto: the choice
// between the direct kernels, Winograd F(2x2) and F(4x4) by map size, and the window path of a
// padded convolution to one output pixel (windowTaps), each against the full reference convolution.
package ops

import (
	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() { registerCases(conv2dAutoCases) }

// conv2dAutoShapes: 1x1 maps (one tap of a 3x3 or 5x5 filter meets the image; C and K multiples of
// 4 and not), maps of 2 pixels and 2x2 (F(2x2) on the cpu variant), 3x3, 4x4 and 7x7 maps (F(4x4)),
// and 16 channels (direct at 2x2; F(4x4) at 5x7 to 11x9 in every direction); batch 1 to 3.
var conv2dAutoShapes = []ref.Conv2D{
	{N: 3, H: 1, W: 1, C: 32, K: 36, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 2, H: 1, W: 1, C: 5, K: 7, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 1, H: 1, W: 1, C: 32, K: 32, R: 5, S: 5, Stride: 1, Pad: 2},
	{N: 2, H: 2, W: 2, C: 32, K: 40, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 1, H: 3, W: 3, C: 36, K: 32, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 2, H: 7, W: 7, C: 32, K: 32, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 2, H: 2, W: 2, C: 16, K: 16, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 2, H: 6, W: 6, C: 16, K: 20, R: 3, S: 3, Stride: 1, Pad: 1}, // F(4x4), backward data on 16x16 GEMM tiles
	// 16 channels in and out at F(4x4) (width 16's first stage: the 16x16 GEMM tiles of one column):
	// maps that end mid-tile, padding 0 (backward data then 2), batch 1.
	{N: 3, H: 7, W: 5, C: 16, K: 16, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 2, H: 8, W: 6, C: 16, K: 16, R: 3, S: 3, Stride: 1, Pad: 0},
	{N: 1, H: 9, W: 11, C: 16, K: 16, R: 3, S: 3, Stride: 1, Pad: 1},
	// A 2x2 map to 1x1 by stride 2 (direct, 4 of 9 taps meet the image), a 1x2 and a 2x1 map, batch
	// 1, and 2x2 with 36 input channels.
	{N: 3, H: 2, W: 2, C: 32, K: 44, R: 3, S: 3, Stride: 2, Pad: 1},
	{N: 1, H: 1, W: 2, C: 40, K: 32, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 2, H: 2, W: 1, C: 32, K: 36, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 1, H: 2, W: 2, C: 36, K: 64, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 2, H: 4, W: 4, C: 32, K: 32, R: 3, S: 3, Stride: 1, Pad: 1}, // F(4x4), one tile an image: kept in pieces
	// One output pixel whose window holds the image (windowTaps): a 3x3 map in a 5x5 filter's window
	// (three blocks of weights, 5 channels), a 2x1 map by stride 2 (two blocks); and a 3x3 map by a
	// stride-3 3x3 whose window misses a row of it (the direct kernel).
	{N: 1, H: 3, W: 3, C: 5, K: 7, R: 5, S: 5, Stride: 4, Pad: 2},
	{N: 2, H: 2, W: 1, C: 32, K: 36, R: 3, S: 3, Stride: 2, Pad: 1},
	{N: 1, H: 3, W: 3, C: 8, K: 8, R: 3, S: 3, Stride: 3, Pad: 1},
}

func conv2dAutoCases() []Case {
	var cs []Case
	for i, p := range conv2dAutoShapes {
		x, w, dy, nx, nw, ny := convData(p, int64(7000+10*i))
		name := convName(p)
		scratch := func(k *Kernels) int { return k.Conv2DScratch(p) }
		// The loosest of the kernels the dispatcher may pick: F(4x4) Winograd.
		cs = append(cs, Case{
			Op: "conv2d_auto_fwd", Name: name, Tol: winoTol(4, p.R*p.S*p.C),
			Bufs: []Buf{In("x", x), In("w", w), Out("y", ny), {Name: "scratch", N: 1 << 16}},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				need("conv2d_auto_fwd", "scratch", b[3], scratch(k))
				k.Conv2DForwardAuto(s, p, b[0], b[1], b[2], b[3])
			},
			Ref: func(b [][]float32, _ [][]int32) { ref.Conv2DForward(p, b[0], b[1], b[2]) },
		}, Case{
			Op: "conv2d_auto_bwd_data", Name: name, Tol: winoTol(4, p.R*p.S*p.K),
			Bufs: []Buf{In("dy", dy), In("w", w), Out("dx", nx), {Name: "scratch", N: 1 << 16}},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				need("conv2d_auto_bwd_data", "scratch", b[3], scratch(k))
				k.Conv2DBackwardDataAuto(s, p, b[0], b[1], b[2], b[3])
			},
			Ref: func(b [][]float32, _ [][]int32) { ref.Conv2DBackwardData(p, b[0], b[1], b[2]) },
		}, Case{
			Op: "conv2d_auto_bwd_data_add", Name: name, Tol: winoTol(4, p.R*p.S*p.K+1),
			Bufs: []Buf{In("dy", dy), In("w", w), InOut("dx", Randn(nx, int64(7003+10*i))), {Name: "scratch", N: 1 << 16}},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				need("conv2d_auto_bwd_data_add", "scratch", b[3], scratch(k))
				k.Conv2DBackwardDataAutoAdd(s, p, b[0], b[1], b[2], b[3])
			},
			Ref: func(b [][]float32, _ [][]int32) {
				refAdd(b[2], func(dx []float32) { ref.Conv2DBackwardData(p, b[0], b[1], dx) })
			},
		}, Case{
			// dw starts as NaN: a tap the window path leaves unwritten fails.
			Op: "conv2d_auto_bwd_weight", Name: name, Tol: winoTol(4, p.N*p.P()*p.Q()),
			Bufs: []Buf{In("x", x), In("dy", dy), Out("dw", nw), {Name: "scratch", N: 1 << 16}},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				need("conv2d_auto_bwd_weight", "scratch", b[3], scratch(k))
				k.Conv2DBackwardWeightAuto(s, p, b[0], b[1], b[2], b[3])
			},
			Ref: func(b [][]float32, _ [][]int32) { ref.Conv2DBackwardWeight(p, b[0], b[1], b[2]) },
		}, Case{
			// The forward leaves x's Winograd transform in keep, grad weight reads it back.
			Op: "conv2d_auto_bwd_weight_kept", Name: name, Tol: winoTol(4, p.N*p.P()*p.Q()),
			Bufs: []Buf{In("x", x), In("dy", dy), Out("dw", nw), In("w", w), {Name: "scratch", N: 1 << 16},
				{Name: "keep", N: 1 << 16}, {Name: "y", N: ny}},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				need("conv2d_auto_bwd_weight_kept", "scratch", b[4], scratch(k))
				need("conv2d_auto_bwd_weight_kept", "keep", b[5], k.Conv2DKeepFloats(p))
				k.Conv2DForwardAutoKeep(s, p, b[0], b[3], b[6], b[4], b[5])
				k.Conv2DBackwardWeightAutoKept(s, p, b[0], b[1], b[2], b[4], b[5])
			},
			Ref: func(b [][]float32, _ [][]int32) { ref.Conv2DBackwardWeight(p, b[0], b[1], b[2]) },
		})
	}
	return cs
}
