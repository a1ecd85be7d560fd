// NT-Xent, the SimCLR contrastive loss, over the 2N normalized projections
// of N images in two views. N images, D features; z is (2N, D) with the
// views of image i at rows i and i+N; sim is a (2N, 2N) work buffer.
package ops

import (
	"fmt"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	S, T := vk.Storage, vk.TexelVec4
	three := []vk.DescKind{S, S, S}
	for _, v := range []string{"row", "grad", "final"} {
		register("ntxent_"+v, kernelDef{module: "ntxent_" + v, bindings: three, push: 24, spec: localWide})
	}
	register("ntxent_sim", kernelDef{module: "ntxent_sim", bindings: three, push: 24, spec: local1D})
	register("ntxent_sim_vec4", kernelDef{module: "ntxent_sim_vec4", bindings: three, push: 24, spec: local1D})
	register("ntxent_sim_texel", kernelDef{module: "ntxent_sim_texel", bindings: []vk.DescKind{T, S, S}, push: 24, spec: local1D})
	register("ntxent_bwd", kernelDef{module: "ntxent_bwd", bindings: three, push: 12, spec: local1D})
	register("ntxent_bwd_vec4", kernelDef{module: "ntxent_bwd_vec4", bindings: three, push: 12, spec: local1D})
	register("ntxent_bwd_texel", kernelDef{module: "ntxent_bwd_texel", bindings: []vk.DescKind{T, S, S}, push: 12, spec: local1D})
}

func ntxentCheck(op string, p ref.NTXent, z, sim vk.Binding) (rows int, v string, dg int) {
	if p.N < 1 || p.D < 1 || !(p.Temperature > 0) {
		panic(fmt.Sprintf("ops.%s: invalid %+v", op, p))
	}
	rows = 2 * p.N
	need(op, "z", z, rows*p.D)
	need(op, "sim", sim, rows*rows)
	if vec4OK(p.D, z) {
		return rows, "_vec4", p.D / 4
	}
	return rows, "", p.D
}

// NTXent records the loss: s_ij = z_i.z_j / t with the diagonal excluded
// (-inf, never a large constant), loss_i = logsumexp_{j != i} s_ij -
// s_i,pos(i) with the running max, and writes out[0] = the mean over the 2N
// rows and out[1] = the contrastive top-1 accuracy (first argmax_{j != i} is
// pos(i)), both left on the device. z must be normalized (L2Normalize). sim
// ((2N)^2 floats) is left holding the symmetric gradient of the loss with
// respect to the similarities (dL/ds_ij + dL/ds_ji off the diagonal), which
// NTXentBackward reads; its diagonal holds per-workgroup partial sums.
// Five dispatches; every sum has a fixed order.
func (k *Kernels) NTXent(s *vk.Seq, p ref.NTXent, z, sim, out vk.Binding) {
	const op = "NTXent"
	rows, v, dg := ntxentCheck(op, p, z, sim)
	need(op, "out", out, 2)
	ob, oi := k.small(out)
	block := int(k.pipe("ntxent_row").Spec[0])
	if block%2 != 0 {
		panic(fmt.Sprintf("ops.%s: workgroup of %d invocations; the per-block partials need an even size", op, block))
	}
	push := vk.Push(rows, p.N, dg, p.Temperature, block, oi)
	tiles := ceilDiv(rows, 4)
	zs := z
	if t, ok := k.texels(rows*p.D, &zs); ok && v != "" {
		v, zs = "_texel", t[0]
	}
	k.dispatch1D(s, "ntxent_sim"+v, tiles*tiles, push, zs, sim, ob)
	k.dispatch1D(s, "ntxent_row", rows, push, z, sim, ob)
	k.dispatch1D(s, "ntxent_grad", rows*ceilDiv(rows, 64), push, z, sim, ob)
	k.dispatch1D(s, "ntxent_final", 1, push, z, sim, ob)
}

// NTXentBackward records dz_i = (1/t) sum_{j != i} G_ij z_j, the gradient of
// the mean loss, from the G that NTXent left in sim. dz may not alias z.
func (k *Kernels) NTXentBackward(s *vk.Seq, p ref.NTXent, z, sim, dz vk.Binding) {
	const op = "NTXentBackward"
	rows, v, dg := ntxentCheck(op, p, z, sim)
	need(op, "dz", dz, rows*p.D)
	if v != "" && !vec4OK(p.D, dz) {
		v, dg = "", p.D
	}
	if t, ok := k.texels(rows*p.D, &z); ok && v != "" {
		v, z = "_texel", t[0]
	}
	k.dispatch1D(s, "ntxent_bwd"+v, ceilDiv(rows, 4)*ceilDiv(dg, 4), vk.Push(rows, dg, p.Temperature), z, sim, dz)
}
