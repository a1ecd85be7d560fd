// Optimizers over flat parameter buffers: SGD, LARS and AdamW, each one step
// over every parameter tensor in one dispatch (LARS adds two for its norms).
//
// params, grads and the optimizer state share one layout, described by the
// segment table: int32 triples (offset, len, exclude) uploaded to a device
// buffer (SegmentTable builds and checks it), sorted by offset and not
// overlapping. Elements outside every segment are left alone. The
// hyperparameters live in a small device (or host-visible) buffer, filled
// with SGDHyper, LARSHyper or AdamWHyper, so a recorded step can be
// replayed with a new learning rate by rewriting that buffer.
package ops

import (
	"fmt"
	"math"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	S, T := vk.Storage, vk.TexelVec4
	for _, o := range []string{"sgd", "lars", "adamw"} {
		register("optim_"+o, kernelDef{module: "optim_" + o, bindings: []vk.DescKind{S, S, S, S, S, S}, push: 16, spec: localOptim})
		// Texel variant: gradients as texels, and read-only texel views of
		// the parameters and momentum (bindings 6, 7) beside their storage
		// views; AdamW's v too (binding 8).
		binds := []vk.DescKind{S, T, S, S, S, S, T, T}
		if o == "adamw" {
			binds = append(binds, T)
		}
		register("optim_"+o+"_texel", kernelDef{module: "optim_" + o + "_texel", bindings: binds, push: 16, spec: localOptim})
	}
	register("optim_norms", kernelDef{module: "optim_norms", bindings: []vk.DescKind{S, S, S, S, S, S}, push: 12, spec: localWide})
	register("optim_norms_texel", kernelDef{module: "optim_norms_texel", bindings: []vk.DescKind{T, T, S, S, S, S}, push: 12, spec: localWide})
	register("optim_norms_final", kernelDef{module: "optim_norms_final", bindings: []vk.DescKind{S, S, S, S, S, S}, push: 12, spec: local1D})
}

// normChunks is the number of partial sums per segment in the norm pass
// (NCH in optim_norms.comp).
const normChunks = 256

// The hyper buffer layouts (float32 each):
//
//	SGD:   [0] lr, [1] momentum, [2] weight decay
//	LARS:  [0] lr, [1] momentum, [2] weight decay, [3] eta (trust coefficient)
//	AdamW: [0] lr, [1] beta1, [2] beta2, [3] eps, [4] weight decay, [5] step,
//	       [6] lr/(1-beta1^step), [7] sqrt(1-beta2^step), [8] 1-lr*wd,
//	       [9] 1-beta1, [10] 1-beta2  (derived in float64 on the host)
const (
	SGDHyperLen   = 3
	LARSHyperLen  = 4
	AdamWHyperLen = 11
)

// SGDHyper fills the SGD hyper buffer.
func SGDHyper(lr, momentum, wd float64) []float32 {
	return []float32{float32(lr), float32(momentum), float32(wd)}
}

// LARSHyper fills the LARS hyper buffer (eta: ref.DefaultLARSEta).
func LARSHyper(lr, momentum, wd, eta float64) []float32 {
	return []float32{float32(lr), float32(momentum), float32(wd), float32(eta)}
}

// AdamWHyper fills the AdamW hyper buffer for step (1 for the first step):
// the bias corrections are computed here in float64.
func AdamWHyper(lr, beta1, beta2, eps, wd float64, step int) []float32 {
	if step < 1 {
		panic(fmt.Sprintf("ops.AdamWHyper: step %d, want >= 1", step))
	}
	bc1 := 1 - math.Pow(beta1, float64(step))
	bc2 := 1 - math.Pow(beta2, float64(step))
	return []float32{float32(lr), float32(beta1), float32(beta2), float32(eps), float32(wd), float32(step),
		float32(lr / bc1), float32(math.Sqrt(bc2)), float32(1 - lr*wd), float32(1 - beta1), float32(1 - beta2)}
}

// SegmentTable returns the int32 table the optimizers read for segs over
// nParams elements, or an error unless they are sorted by offset, inside
// the buffer and not overlapping.
func SegmentTable(nParams int, segs []ref.Segment) ([]int32, error) {
	t := make([]int32, 0, 3*len(segs))
	end := 0
	for i, s := range segs {
		if s.Offset < end || s.Len < 0 || s.Offset+s.Len > nParams || s.Offset+s.Len > math.MaxInt32 {
			return nil, fmt.Errorf("ops: segment %d %+v: segments must be sorted by offset, inside %d elements and not overlap", i, s, nParams)
		}
		end = s.Offset + s.Len
		ex := int32(0)
		if s.Exclude {
			ex = 1
		}
		t = append(t, int32(s.Offset), int32(s.Len), ex)
	}
	return t, nil
}

// LARSScratch is the size in floats of LARSStep's scratch for nSegs segments.
func LARSScratch(nSegs int) int { return nSegs * (2*normChunks + 1) }

// SegmentNormsScratch is the size in floats of SegmentNorms' scratch.
func SegmentNormsScratch(nSegs int) int { return nSegs * 2 * normChunks }

func optimCheck(op string, nParams, nSegs int, segs, hyper vk.Binding, hyperLen int, bufs map[string]vk.Binding) {
	if nParams < 1 || nSegs < 1 {
		panic(fmt.Sprintf("ops.%s: %d parameters in %d segments", op, nParams, nSegs))
	}
	need(op, "segs", segs, 3*nSegs)
	need(op, "hyper", hyper, hyperLen)
	for name, b := range bufs {
		need(op, name, b, nParams)
		if b.Off%16 != 0 {
			panic(fmt.Sprintf("ops.%s: %s must be 16-byte aligned", op, name))
		}
	}
}

// optimDispatch records an update kernel over nParams elements. extra is
// binding 5 (AdamW's v, LARS's scratch; hyper again for SGD). The texel
// variant also reads params and mom (binds 0 and 2) through texel views,
// and AdamW's v (bind 5) through a third.
func (k *Kernels) optimDispatch(s *vk.Seq, name string, nParams int, push []byte, params, grads, mom, segs, hyper, extra vk.Binding) {
	binds := []vk.Binding{params, grads, mom, segs, hyper, extra}
	views := []*vk.Binding{&grads, &params, &mom}
	if name == "optim_adamw" {
		views = append(views, &extra)
	}
	if t, ok := k.texels(nParams, views...); ok {
		name = name + "_texel"
		binds = append(binds, t[1:]...)
		binds[1] = t[0]
	}
	p := k.pipe(name)
	per := int(p.Spec[0]) * optimVec4 * 4
	gx, gy, gz := vk.Grid1D(k.Ctx, ceilDiv(nParams, per)*int(p.Spec[0]), int(p.Spec[0]))
	s.Dispatch(p, gx, gy, gz, push, binds...)
}

// SGDStep records one step of PyTorch's SGD (dampening 0) over every
// segment: g = grad + wd*w (not for excluded segments), v = momentum*v + g,
// w -= lr*v, or w -= lr*(g + momentum*v) with nesterov. With momentum 0 in
// hyper, mom is neither read nor written (bind any buffer of nParams).
// hyper: SGDHyper.
func (k *Kernels) SGDStep(s *vk.Seq, nParams, nSegs int, params, grads, mom, segs, hyper vk.Binding, nesterov bool) {
	optimCheck("SGDStep", nParams, nSegs, segs, hyper, SGDHyperLen, map[string]vk.Binding{"params": params, "grads": grads, "mom": mom})
	k.optimDispatch(s, "optim_sgd", nParams, vk.Push(nParams, nSegs, nesterov, 0), params, grads, mom, segs, hyper, hyper)
}

// LARSStep records one step of LARS as the SimCLR reference code does it:
// per non-excluded segment g = grad + wd*w and trust = eta*||w||/||g|| (1
// when a norm is 0; excluded segments: raw gradient, trust 1), then
// v = momentum*v + lr*trust*g and w -= v (nesterov: w -= momentum*v +
// lr*trust*g). The norms are a segmented reduction in a fixed order, taken
// before the update. scratch holds LARSScratch(nSegs) floats; hyper: LARSHyper.
func (k *Kernels) LARSStep(s *vk.Seq, nParams, nSegs int, params, grads, mom, segs, hyper, scratch vk.Binding, nesterov bool) {
	const op = "LARSStep"
	optimCheck(op, nParams, nSegs, segs, hyper, LARSHyperLen, map[string]vk.Binding{"params": params, "grads": grads, "mom": mom})
	need(op, "scratch", scratch, LARSScratch(nSegs))
	trustOff := nSegs * 2 * normChunks
	push := vk.Push(nSegs, true, trustOff)
	norms, pn, gn := "optim_norms", params, grads
	if t, ok := k.texels(nParams, &params, &grads); ok {
		norms, pn, gn = "optim_norms_texel", t[0], t[1]
	}
	k.dispatch1D(s, norms, nSegs*normChunks, push, pn, gn, segs, hyper, scratch, scratch)
	k.dispatch1D(s, "optim_norms_final", nSegs, push, params, grads, segs, hyper, scratch, scratch)
	k.optimDispatch(s, "optim_lars", nParams, vk.Push(nParams, nSegs, nesterov, trustOff), params, grads, mom, segs, hyper, scratch)
}

// AdamWStep records one step of PyTorch's AdamW: w *= 1 - lr*wd (not for
// excluded segments), m = beta1*m + (1-beta1)*g, v = beta2*v + (1-beta2)*g^2,
// w -= lr/(1-beta1^step) * m / (sqrt(v)/sqrt(1-beta2^step) + eps).
// hyper: AdamWHyper (rewrite it every step: it carries the step count).
func (k *Kernels) AdamWStep(s *vk.Seq, nParams, nSegs int, params, grads, m, v, segs, hyper vk.Binding) {
	optimCheck("AdamWStep", nParams, nSegs, segs, hyper, AdamWHyperLen, map[string]vk.Binding{"params": params, "grads": grads, "m": m, "v": v})
	k.optimDispatch(s, "optim_adamw", nParams, vk.Push(nParams, nSegs, false, 0), params, grads, m, segs, hyper, v)
}

// SegmentNorms records out[j] = ||x[segment j]|| for the nSegs segments of
// the table segs (excluded or not) over x's n elements, summed in a fixed
// order. scratch holds SegmentNormsScratch(nSegs) floats.
func (k *Kernels) SegmentNorms(s *vk.Seq, n, nSegs int, x, segs, out, scratch vk.Binding) {
	const op = "SegmentNorms"
	if nSegs < 1 {
		panic(fmt.Sprintf("ops.%s: %d segments", op, nSegs))
	}
	need(op, "segs", segs, 3*nSegs)
	need(op, "out", out, nSegs)
	need(op, "scratch", scratch, SegmentNormsScratch(nSegs))
	if x.Off%16 != 0 {
		panic("ops." + op + ": x must be 16-byte aligned")
	}
	need(op, "x", x, n)
	push := vk.Push(nSegs, false, 0)
	norms, xn := "optim_norms", x
	if t, ok := k.texels(n, &x); ok {
		norms, xn = "optim_norms_texel", t[0]
	}
	k.dispatch1D(s, norms, nSegs*normChunks, push, xn, xn, segs, scratch, scratch, out)
	k.dispatch1D(s, "optim_norms_final", nSegs, push, x, x, segs, scratch, scratch, out)
}

// optimVec4 is how many vec4s of parameters each invocation of the optimizer kernels updates (spec
// constant 3, K in optim.comp): 16, not the elementwise kernels' wideVec4. A workgroup finds its first
// segment, reads the hyperparameters and runs the scalar head and tail loops of each segment it
// touches (on lavapipe an empty loop still takes one masked trip with its loads and stores) once per
// K*4 floats a lane, so more vec4s a lane spread that over more work: AdamW 39.5-41.0 -> 24.4-26.1 ms
// and SGD 28.6-29.7 -> 19.1-20.1 over ResNet-18's 11.5 M parameters (bench ops --op "adamw,sgd", K 8:
// 30.8-31.0 and 20.9-21.4; K 32 and 64 no better than 16; BENCHMARKS.md).
const optimVec4 = 16

func localOptim(c *vk.Caps) []uint32 { return append(localWide(c), optimVec4) }
