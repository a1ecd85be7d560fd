package ops

import (
	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

// Full-window convolutions, for the cpu variant.
//
// On the smallest maps of an ImageNet-stem ResNet at 28-32 px (the demo preset: 2x2 maps of 256
// channels in layer3, then a stride-2 step to 1x1) every output pixel o = (i, j) of a 3x3 convolution
// sees every input pixel a = (h, w) through a tap inside the filter, t(o, a) = (h - i*st + pad,
// w - j*st + pad). The convolution is then, for each output pixel, one GEMM over (input pixel,
// channel): y[:, o, :] = x (N, H*W*C) B_o, where B_o stacks the filters w[t(o, a)] of the H*W input
// pixels. That is the direct convolution's sum without its zero taps (a 2x2 map meets 4 of the 9 taps
// of each output, a 1x1 output of a stride-2 step 4 of 9), and Winograd F(2x2)'s multiplications
// (16 per 4 outputs and channel pair at 2x2) without its transforms or their rounding.
//
//   forward:       gather B (P*Q blocks of H*W*C x K) from w, then the batched Winograd GEMM (nn) with
//                  x as the A of every output pixel and y's column blocks as C;
//   backward data: gather B' (H*W blocks of P*Q*K x C) from w transposed, then the same GEMM with dy
//                  as A and dx's column blocks as C;
//   grad weight:   the batched grad-weight GEMM (tn) G_o = x^T dy[:, o, :] (H*W*C x K each), then
//                  dw[t] = the sum over o, in order, of the G_o block of the input pixel t meets
//                  (conv2d_fullwin_wsum; zero for taps no output meets).
//
// Every sum has a fixed order, so results are bit-identical from run to run. The cpu variant takes it
// (fullWindow) for 3x3 filters with C and K multiples of 4 and at least 32, more than one input
// pixel (one is the single-tap path), x, y, dy, dx and dw 16-byte aligned, and not for backward
// data's _add form (the GEMM overwrites), where the Winograd or direct kernels run as before.

func init() {
	for _, v := range []string{"gather", "gather_t", "wsum"} {
		register("conv2d_fullwin_"+v, kernelDef{module: "conv2d_fullwin_" + v, bindings: []vk.DescKind{vk.TexelVec4, vk.Storage}, push: 10 * 4, spec: local1D})
	}
}

// fullWindow reports whether the cpu variant runs p as a full-window convolution (above).
func (k *Kernels) fullWindow(p ref.Conv2D) bool {
	if k.Variant != "cpu" || p.R != 3 || p.S != 3 || p.C%4 != 0 || p.K%4 != 0 || min(p.C, p.K) < 32 || p.H*p.W < 2 {
		return false
	}
	// The extreme pairs: the first input pixel against the last output pixel, and the other way.
	P, Q := p.P(), p.Q()
	if p.Pad-(P-1)*p.Stride < 0 || p.Pad-(Q-1)*p.Stride < 0 || p.H-1+p.Pad >= p.R || p.W-1+p.Pad >= p.S {
		return false
	}
	return uint64(4*fullWindowFloats(p)) <= k.storageLimit()
}

// fullWindowFloats is the scratch in float32s a full-window convolution needs in any direction: the
// gathered filters (P*Q*H*W blocks of C x K), or grad weight's G.
func fullWindowFloats(p ref.Conv2D) int { return p.P() * p.Q() * p.H * p.W * p.C * p.K }

// fullWindowPush is conv2d_fullwin.comp's push block.
func fullWindowPush(p ref.Conv2D, inOff, outOff int) []byte {
	return vk.Push(p.C, p.K, p.H, p.W, p.P(), p.Q(), p.Stride, p.Pad, inOff, outOff)
}

// tex4 binds n float32s of b from element 0 as RGBA32F texels whose first is element 0; ok is false
// where b does not start on a texel or exceeds the device's limits.
func (k *Kernels) tex4(b vk.Binding, n int) (vk.Binding, int, bool) {
	t, off, ok := k.operand(b, 0, n, vk.TexelVec4)
	return t, off, ok && off%4 == 0
}

// fullWindowGEMM records the batched nn GEMM of a full-window forward or backward data: for each of
// xis blocks, C[:, xi] (M x cols, row stride xis*cols) = A (M x red) B_xi (red x cols), B_xi at
// xi*red*cols in scratch. It reports false, recording nothing, where a or c cannot be bound so.
func (k *Kernels) fullWindowGEMM(s *vk.Seq, M, red, cols, xis int, a, scratch, c vk.Binding) bool {
	ab, aoff, okA := k.tex4(a, M*red)
	cb, coff, okC := k.operand(c, 0, M*xis*cols, vk.Storage)
	if !okA || !okC || coff%4 != 0 {
		return false
	}
	bb, boff := k.scratchSpan("fullWindow", scratch, 0, xis*red*cols, vk.TexelVec4)
	k.winoGemmNN(s, M, cols, red, red, cols, xis*cols, 0, red*cols, cols, xis, ab, aoff, bb, boff, cb, coff)
	return true
}

// conv2DForwardFullWindow records p's forward as a full-window convolution (fullWindow(p) holds;
// scratch holds fullWindowFloats(p)), or reports false where x or y cannot be bound for it.
func (k *Kernels) conv2DForwardFullWindow(s *vk.Seq, p ref.Conv2D, x, w, y, scratch vk.Binding) bool {
	pin, pout := p.H*p.W, p.P()*p.Q()
	wb, woff, okW := k.tex4(w, 9*p.C*p.K)
	if _, _, ok := k.tex4(x, p.N*pin*p.C); !ok || !okW {
		return false
	}
	if _, coff, ok := k.operand(y, 0, p.N*pout*p.K, vk.Storage); !ok || coff%4 != 0 {
		return false
	}
	gb, goff := k.scratchSpan("fullWindow", scratch, 0, fullWindowFloats(p), vk.Storage)
	k.dispatch1D(s, "conv2d_fullwin_gather", fullWindowFloats(p)/4, fullWindowPush(p, woff, goff), wb, gb)
	return k.fullWindowGEMM(s, p.N, pin*p.C, p.K, pout, x, scratch, y)
}

// conv2DBackwardDataFullWindow is conv2DForwardFullWindow for backward data (dx overwritten).
func (k *Kernels) conv2DBackwardDataFullWindow(s *vk.Seq, p ref.Conv2D, dy, w, dx, scratch vk.Binding) bool {
	pin, pout := p.H*p.W, p.P()*p.Q()
	wb, woff, okW := k.tex4(w, 9*p.C*p.K)
	if _, _, ok := k.tex4(dy, p.N*pout*p.K); !ok || !okW {
		return false
	}
	if _, coff, ok := k.operand(dx, 0, p.N*pin*p.C, vk.Storage); !ok || coff%4 != 0 {
		return false
	}
	gb, goff := k.scratchSpan("fullWindow", scratch, 0, fullWindowFloats(p), vk.Storage)
	k.dispatch1D(s, "conv2d_fullwin_gather_t", fullWindowFloats(p)/16, fullWindowPush(p, woff, goff), wb, gb)
	return k.fullWindowGEMM(s, p.N, pout*p.K, p.C, pin, dy, scratch, dx)
}

// conv2DBackwardWeightFullWindow records p's grad weight (dw overwritten) as a full-window
// convolution, or reports false where x, dy or dw cannot be bound for it.
func (k *Kernels) conv2DBackwardWeightFullWindow(s *vk.Seq, p ref.Conv2D, x, dy, dw, scratch vk.Binding) bool {
	pin, pout := p.H*p.W, p.P()*p.Q()
	xb, xoff, okX := k.tex4(x, p.N*pin*p.C)
	yb, yoff, okY := k.tex4(dy, p.N*pout*p.K)
	db, doff, okD := k.operand(dw, 0, 9*p.C*p.K, vk.Storage)
	if !okX || !okY || !okD || doff%4 != 0 {
		return false
	}
	M, N := pin*p.C, p.K
	gb, goff := k.scratchSpan("fullWindow", scratch, 0, fullWindowFloats(p), vk.Storage)
	gemm := k.pipe(k.gemmTN(M, N))
	gx, gy, gz := k.gridTN(gemm, pout, M, N)
	s.Dispatch(gemm, gx, gy, gz, vk.Push(M, N, p.N, M, pout*N, N, 0, N, M*N,
		xoff, yoff, goff, 0, 0, pout, 1, p.N, pout*M*N, false), xb, yb, gb)
	gt, gtoff := k.scratchSpan("fullWindow", scratch, 0, fullWindowFloats(p), vk.TexelVec4)
	k.dispatch1D(s, "conv2d_fullwin_wsum", 9*p.C*p.K/4, fullWindowPush(p, gtoff, doff), gt, db)
	return true
}
