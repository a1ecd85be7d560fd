// Pooling: global average pooling (the end of the encoder) and max pooling
// (the ImageNet-style stem), forward and backward, channels-last.
// N batch, H W input size, C channels, P Q output size.
package ops

import (
	"fmt"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	S := vk.Storage
	register("global_avg_pool_bwd", kernelDef{module: "global_avg_pool_bwd", bindings: []vk.DescKind{S, S}, push: 12, spec: local1D})
	register("global_avg_pool_bwd_vec4", kernelDef{module: "global_avg_pool_bwd_vec4", bindings: []vk.DescKind{S, S}, push: 12, spec: local1D})
	for _, v := range []string{"", "_vec4", "_texel"} {
		I := S // the kind of x
		if v == "_texel" {
			I = vk.TexelVec4
		}
		register("global_avg_pool"+v, kernelDef{module: "global_avg_pool" + v, bindings: []vk.DescKind{I, S}, push: 12, spec: local1D})
		register("max_pool"+v, kernelDef{module: "max_pool" + v, bindings: []vk.DescKind{I, S}, push: 56, spec: local1D})
		register("max_pool_bwd"+v, kernelDef{module: "max_pool_bwd" + v, bindings: []vk.DescKind{I, S, S}, push: 56, spec: local1D})
		if v != "" { // the 3x3 window unrolled
			register("max_pool"+v+"_3x3", kernelDef{module: "max_pool" + v + "_3x3", bindings: []vk.DescKind{I, S}, push: 56, spec: local1D})
			register("max_pool_bwd"+v+"_3x3", kernelDef{module: "max_pool_bwd" + v + "_3x3", bindings: []vk.DescKind{I, S, S}, push: 56, spec: local1D})
			// The kept forms (3x3 stride 2 pad 1): the forward writes each window's argmax, the
			// backward gathers from it.
			register("max_pool"+v+"_3x3_keep", kernelDef{module: "max_pool" + v + "_3x3_keep", bindings: []vk.DescKind{I, S, S}, push: 56, spec: local1D})
			register("max_pool_bwd_gather"+v, kernelDef{module: "max_pool_bwd_gather" + v, bindings: []vk.DescKind{I, I, S}, push: 56, spec: local1D})
		}
	}
}

// groups returns the kernel suffix and channel-group count for C channels:
// vec4 when C and every binding allow it, and then the texel variant with
// x (n floats; 0 for none) rebound as texels where the device allows.
func (k *Kernels) groups(C int, x *vk.Binding, n int, binds ...vk.Binding) (string, int) {
	if !vec4OK(C, append(binds, *x)...) {
		return "", C
	}
	if x != nil && n > 0 {
		if t, ok := k.texels(n, x); ok {
			*x = t[0]
			return "_texel", C / 4
		}
	}
	return "_vec4", C / 4
}

func checkDims(op string, dims ...int) {
	for _, d := range dims {
		if d <= 0 {
			panic(fmt.Sprintf("ops.%s: dimensions must be positive, got %v", op, dims))
		}
	}
}

// GlobalAvgPool records y[n,c] = mean over (h, w) of x[n,h,w,c].
// x is (N, H, W, C), y is (N, C).
func (k *Kernels) GlobalAvgPool(s *vk.Seq, N, H, W, C int, x, y vk.Binding) {
	const op = "GlobalAvgPool"
	checkDims(op, N, H, W, C)
	need(op, "x", x, N*H*W*C)
	need(op, "y", y, N*C)
	k.byImage(N, []int{H * W * C, C}, func(n0, nn int, whole bool) {
		xp, yp := piece(x, n0*H*W*C, nn*H*W*C, whole), piece(y, n0*C, nn*C, whole)
		v, cg := k.groups(C, &xp, nn*H*W*C, yp)
		if n0 > 0 {
			s.NoBarrier() // pieces write disjoint images
		}
		k.dispatch1D(s, "global_avg_pool"+v, nn*cg, vk.Push(nn, H*W, cg), xp, yp)
	})
}

// GlobalAvgPoolBackward records dx[n,h,w,c] = dy[n,c] / (H*W).
func (k *Kernels) GlobalAvgPoolBackward(s *vk.Seq, N, H, W, C int, dy, dx vk.Binding) {
	const op = "GlobalAvgPoolBackward"
	checkDims(op, N, H, W, C)
	need(op, "dy", dy, N*C)
	need(op, "dx", dx, N*H*W*C)
	k.byImage(N, []int{H * W * C, C}, func(n0, nn int, whole bool) {
		dyp, dxp := piece(dy, n0*C, nn*C, whole), piece(dx, n0*H*W*C, nn*H*W*C, whole)
		v, cg := k.groups(C, &dyp, 0, dxp)
		if n0 > 0 {
			s.NoBarrier()
		}
		k.dispatch1D(s, "global_avg_pool_bwd"+v, nn*cg, vk.Push(nn, H*W, cg), dyp, dxp)
	})
}

// poolPhases is the number of window phases per dimension in the
// backward: windows ph apart never overlap.
func poolPhases(p ref.MaxPool) (int, int) { return ceilDiv(p.R, p.Stride), ceilDiv(p.S, p.Stride) }

func poolPush(p ref.MaxPool, cg, ph, pw int) []byte {
	PH, PW := poolPhases(p)
	return vk.Push(p.N, p.H, p.W, cg, p.P(), p.Q(), p.R, p.S, p.Stride, p.Pad, ph, pw, PH, PW)
}

// win3 is the suffix of the unrolled 3x3 kernels, which exist for the vec4
// and texel variants.
func win3(p ref.MaxPool, v string) string {
	if p.R == 3 && p.S == 3 && v != "" {
		return "_3x3"
	}
	return ""
}

func checkMaxPool(op string, p ref.MaxPool) {
	checkDims(op, p.N, p.H, p.W, p.C, p.R, p.S, p.Stride)
	if p.Pad < 0 || 2*p.Pad > p.R || 2*p.Pad > p.S || p.H+2*p.Pad < p.R || p.W+2*p.Pad < p.S {
		panic(fmt.Sprintf("ops.%s: padding must be in [0, window/2] and the window fit the padded input: %+v", op, p))
	}
}

// MaxPool records y[n,p,q,c] = max over the window of x with -inf padding
// (a NaN in the window wins, like PyTorch). x is (N, H, W, C), y (N, P, Q, C).
func (k *Kernels) MaxPool(s *vk.Seq, p ref.MaxPool, x, y vk.Binding) {
	const op = "MaxPool"
	checkMaxPool(op, p)
	need(op, "x", x, p.N*p.H*p.W*p.C)
	need(op, "y", y, p.N*p.P()*p.Q()*p.C)
	in, out := p.H*p.W*p.C, p.P()*p.Q()*p.C
	k.byImage(p.N, []int{in, out}, func(n0, nn int, whole bool) {
		q := p
		q.N = nn
		xp, yp := piece(x, n0*in, nn*in, whole), piece(y, n0*out, nn*out, whole)
		v, cg := k.groups(p.C, &xp, nn*in, yp)
		v += win3(p, v)
		if n0 > 0 {
			s.NoBarrier()
		}
		k.dispatch1D(s, "max_pool"+v, nn*p.P()*p.Q()*cg, poolPush(q, cg, 0, 0), xp, yp)
	})
}

// MaxPoolBackward records dx: each dy goes to its window's argmax (first
// maximum in scan order, recomputed from x), summed where windows overlap.
// No atomics: dx is zeroed, then the windows are taken in ceil(R/stride) x
// ceil(S/stride) phases (4 for 3x3 stride 2) whose windows do not overlap,
// each adding its dy to its argmax; the sums are in that fixed phase order.
func (k *Kernels) MaxPoolBackward(s *vk.Seq, p ref.MaxPool, x, dy, dx vk.Binding) {
	const op = "MaxPoolBackward"
	checkMaxPool(op, p)
	need(op, "x", x, p.N*p.H*p.W*p.C)
	need(op, "dy", dy, p.N*p.P()*p.Q()*p.C)
	need(op, "dx", dx, p.N*p.H*p.W*p.C)
	s.Fill(vk.Binding{Buf: dx.Buf, Off: dx.Off, Size: uint64(4 * p.N * p.H * p.W * p.C)}, 0)
	in, out := p.H*p.W*p.C, p.P()*p.Q()*p.C
	k.byImage(p.N, []int{in, out}, func(n0, nn int, whole bool) {
		q := p
		q.N = nn
		xp, dyp, dxp := piece(x, n0*in, nn*in, whole), piece(dy, n0*out, nn*out, whole), piece(dx, n0*in, nn*in, whole)
		v, cg := k.groups(p.C, &xp, nn*in, dyp, dxp)
		v += win3(p, v)
		PH, PW := poolPhases(p)
		for ph := 0; ph < PH; ph++ {
			for pw := 0; pw < PW; pw++ {
				n := nn * ceilDiv(p.P()-ph, PH) * ceilDiv(p.Q()-pw, PW) * cg
				if n > 0 {
					k.dispatch1D(s, "max_pool_bwd"+v, n, poolPush(q, cg, ph, pw), xp, dyp, dxp)
				}
			}
		}
	})
}

// MaxPoolKeepFloats is the float32s MaxPoolKeep keeps for MaxPoolBackwardKept (each window's argmax):
// N*P*Q*C for the ResNet stem's window (3x3, stride 2, padding 1) over vec4 channel groups, else 0
// (the backward then recomputes the windows).
func MaxPoolKeepFloats(p ref.MaxPool) int {
	if p.C%4 != 0 || p.R != 3 || p.S != 3 || p.Stride != 2 || p.Pad != 1 {
		return 0
	}
	return p.N * p.P() * p.Q() * p.C
}

// checkMaxPoolKept checks a kept pair's shape and its argmax buffer.
func checkMaxPoolKept(op string, p ref.MaxPool, arg vk.Binding) {
	checkMaxPool(op, p)
	if MaxPoolKeepFloats(p) == 0 {
		panic(fmt.Sprintf("ops.%s: needs a 3x3 window, stride 2, padding 1 and channels a multiple of 4 (%+v)", op, p))
	}
	need(op, "arg", arg, MaxPoolKeepFloats(p))
}

// MaxPoolKeep records MaxPool and, when arg is bound (MaxPoolKeepFloats(p) floats), each window's
// argmax for MaxPoolBackwardKept: its pixel h*W + w within the image, as a float32.
func (k *Kernels) MaxPoolKeep(s *vk.Seq, p ref.MaxPool, x, y, arg vk.Binding) {
	const op = "MaxPoolKeep"
	if arg.Buf == nil {
		k.MaxPool(s, p, x, y)
		return
	}
	checkMaxPoolKept(op, p, arg)
	need(op, "x", x, p.N*p.H*p.W*p.C)
	need(op, "y", y, p.N*p.P()*p.Q()*p.C)
	in, out := p.H*p.W*p.C, p.P()*p.Q()*p.C
	k.byImage(p.N, []int{in, out, out}, func(n0, nn int, whole bool) {
		q := p
		q.N = nn
		xp, yp, ap := piece(x, n0*in, nn*in, whole), piece(y, n0*out, nn*out, whole), piece(arg, n0*out, nn*out, whole)
		v, cg := k.groups(p.C, &xp, nn*in, yp, ap)
		if v == "" {
			panic(fmt.Sprintf("ops.%s: x, y and arg must start on 16-byte boundaries", op))
		}
		if n0 > 0 {
			s.NoBarrier()
		}
		k.dispatch1D(s, "max_pool"+v+"_3x3_keep", nn*p.P()*p.Q()*cg, poolPush(q, cg, 0, 0), xp, yp, ap)
	})
}

// MaxPoolBackwardKept records MaxPoolBackward's dx from the argmax MaxPoolKeep kept in arg, in one
// pass that writes every element of dx (no zeroing): one invocation a window writes its 2x2 block of
// input elements, each adding the dy of the windows whose argmax it is in the scatter's phase
// order, so dx is MaxPoolBackward's bit for bit. An unbound arg takes MaxPoolBackward (x is read only
// then).
func (k *Kernels) MaxPoolBackwardKept(s *vk.Seq, p ref.MaxPool, x, dy, dx, arg vk.Binding) {
	const op = "MaxPoolBackwardKept"
	if arg.Buf == nil {
		k.MaxPoolBackward(s, p, x, dy, dx)
		return
	}
	checkMaxPoolKept(op, p, arg)
	need(op, "dy", dy, p.N*p.P()*p.Q()*p.C)
	need(op, "dx", dx, p.N*p.H*p.W*p.C)
	in, out := p.H*p.W*p.C, p.P()*p.Q()*p.C
	k.byImage(p.N, []int{in, out, out}, func(n0, nn int, whole bool) {
		q := p
		q.N = nn
		ap, dyp, dxp := piece(arg, n0*out, nn*out, whole), piece(dy, n0*out, nn*out, whole), piece(dx, n0*in, nn*in, whole)
		if !vec4OK(p.C, ap, dyp, dxp) {
			panic(fmt.Sprintf("ops.%s: arg, dy and dx must start on 16-byte boundaries", op))
		}
		v, cg := "_vec4", p.C/4
		if t, ok := k.texels(nn*out, &ap, &dyp); ok {
			ap, dyp, v = t[0], t[1], "_texel"
		}
		if n0 > 0 {
			s.NoBarrier() // pieces write disjoint images
		}
		k.dispatch1D(s, "max_pool_bwd_gather"+v, nn*p.P()*p.Q()*cg, poolPush(q, cg, 0, 0), ap, dyp, dxp)
	})
}
