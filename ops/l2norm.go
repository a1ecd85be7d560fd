// L2 normalization of rows, the last step of the projection head before NT-Xent.
// rows, dim: the input is (rows, dim).
package ops

import "github.com/vkclr/vkclr/vk"

func init() {
	S := vk.Storage
	register("l2_normalize", kernelDef{module: "l2_normalize", bindings: []vk.DescKind{S, S, S}, push: 8, spec: local1D})
	register("l2_normalize_bwd", kernelDef{module: "l2_normalize_bwd", bindings: []vk.DescKind{S, S, S, S}, push: 8, spec: local1D})
}

// L2Normalize records z = h / max(||h||, 1e-12) per row (like F.normalize),
// saving the denominators in norms (rows) for the backward. z may alias h.
func (k *Kernels) L2Normalize(s *vk.Seq, rows, dim int, h, z, norms vk.Binding) {
	const op = "L2Normalize"
	checkDims(op, rows, dim)
	need(op, "h", h, rows*dim)
	need(op, "z", z, rows*dim)
	need(op, "norms", norms, rows)
	k.dispatch1D(s, "l2_normalize", rows, vk.Push(rows, dim), h, z, norms)
}

// L2NormalizeBackward records dh = (dz - z*(z.dz)) / norm per row from the
// forward's z and norms; where the norm was clamped to 1e-12, dh = dz/1e-12
// (PyTorch's gradient). dh may alias dz.
func (k *Kernels) L2NormalizeBackward(s *vk.Seq, rows, dim int, z, norms, dz, dh vk.Binding) {
	const op = "L2NormalizeBackward"
	checkDims(op, rows, dim)
	need(op, "z", z, rows*dim)
	need(op, "norms", norms, rows)
	need(op, "dz", dz, rows*dim)
	need(op, "dh", dh, rows*dim)
	k.dispatch1D(s, "l2_normalize_bwd", rows, vk.Push(rows, dim), z, norms, dz, dh)
}
