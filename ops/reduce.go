// Whole-buffer reductions: a fixed-order sum and the non-finite check that
// stops training before a NaN or Inf gradient reaches the parameters.
package ops

import "github.com/vkclr/vkclr/vk"

func init() {
	S := vk.Storage
	T := vk.TexelVec4
	register("reduce", kernelDef{module: "reduce", bindings: []vk.DescKind{S, S}, push: 8, spec: local1D})
	register("reduce_texel", kernelDef{module: "reduce_texel", bindings: []vk.DescKind{T, S}, push: 8, spec: local1D})
	register("reduce_final", kernelDef{module: "reduce_final", bindings: []vk.DescKind{S, S}, push: 8, spec: local1D})
	register("reduce_nonfinite", kernelDef{module: "reduce_nonfinite", bindings: []vk.DescKind{S, S}, push: 8, spec: localWideK})
	register("reduce_nonfinite_texel", kernelDef{module: "reduce_nonfinite_texel", bindings: []vk.DescKind{T, S}, push: 8, spec: localWideK})
	// Column sums in row order: conv2d backward weight's partials, linear's bias gradient.
	// One push block for both (the plain sum pushes its first four fields).
	register("colsum", kernelDef{module: "colsum", bindings: []vk.DescKind{S, S}, push: 8 * 4, spec: local1D})
	register("colsum_expand", kernelDef{module: "colsum_expand", bindings: []vk.DescKind{S, S}, push: 8 * 4, spec: local1D})
}

// sumChunk is the number of elements per partial sum (CH in reduce.comp).
const sumChunk = 2048

// SumScratch is the size in floats of Sum's scratch for n elements.
func SumScratch(n int) int { return max(1, ceilDiv(n, sumChunk)) }

// Sum records out[0] = the sum of x's n elements: float32 partial sums over
// chunks of 2048 (four interleaved lanes each), then the partials in
// order. scratch holds SumScratch(n) floats; out may sit at any offset.
func (k *Kernels) Sum(s *vk.Seq, n int, x, out, scratch vk.Binding) {
	const op = "Sum"
	checkDims(op, n)
	need(op, "x", x, n)
	need(op, "out", out, 1)
	need(op, "scratch", scratch, SumScratch(n))
	if x.Off%16 != 0 {
		panic("ops." + op + ": x must be 16-byte aligned")
	}
	ob, oi := k.small(out)
	name := "reduce"
	if t, ok := k.texels(n, &x); ok {
		name, x = "reduce_texel", t[0]
	}
	k.dispatch1D(s, name, ceilDiv(n, sumChunk), vk.Push(n, 0), x, scratch)
	k.dispatch1D(s, "reduce_final", 1, vk.Push(n, oi), scratch, ob)
}

// NonFinite records flag = 1.0 if any of x's n elements is NaN or
// infinite, else 0.0 (the flag is cleared first). flag is one float32 at any
// offset, for instance in a host-visible metrics buffer.
func (k *Kernels) NonFinite(s *vk.Seq, n int, x, flag vk.Binding) {
	need("NonFinite", "flag", flag, 1)
	s.Fill(vk.Binding{Buf: flag.Buf, Off: flag.Off, Size: 4}, 0)
	k.NonFiniteOr(s, n, x, flag)
}

// NonFiniteOr is NonFinite without clearing the flag first, to check
// several buffers into one flag. The flag is set with an integer atomic OR,
// so the result does not depend on scheduling.
func (k *Kernels) NonFiniteOr(s *vk.Seq, n int, x, flag vk.Binding) {
	const op = "NonFinite"
	checkDims(op, n)
	need(op, "x", x, n)
	need(op, "flag", flag, 1)
	if x.Off%16 != 0 {
		panic("ops." + op + ": x must be 16-byte aligned")
	}
	fb, fi := k.small(flag)
	name := "reduce_nonfinite"
	if t, ok := k.texels(n, &x); ok {
		name, x = "reduce_nonfinite_texel", t[0]
	}
	k.dispatchWide(s, name, n/4, vk.Push(n, fi), x, fb)
}
