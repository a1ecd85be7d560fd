// Batchnorm over (M, C) rows: BN2d on channels-last activations (M = N*H*W)
// and BN1d on (N, C) features, training and eval, with ReLU fused on demand.
// M rows, C channels; partial sums over chunks of R rows live in the
// caller's scratch buffer (BatchNormScratch floats).
package ops

import (
	"fmt"
	"strings"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	S := vk.Storage
	for _, v := range []string{"", "_vec4", "_texel"} {
		// I is the kind of the big read-only inputs (x, y, dy).
		I := S
		if v == "_texel" {
			I = vk.TexelVec4
		}
		// The statistics passes (forward and backward) keep their 256-row chunks (the sums' order) but
		// take local1D's workgroups (64 invocations on a CPU): no shared memory, so the same values,
		// and the demo's small layers (128-256 invocations) span both of lavapipe's threads instead
		// of one workgroup on one (BENCHMARKS.md, "apply passes on both threads").
		register("batchnorm_stats"+v, kernelDef{module: "batchnorm_stats" + v, bindings: []vk.DescKind{I, S}, push: 12, spec: local1D})
		register("batchnorm_apply"+v, kernelDef{module: "batchnorm_apply" + v, bindings: []vk.DescKind{I, S, S, S, S, S}, push: 20, spec: localWide})
		register("batchnorm_apply_eval"+v, kernelDef{module: "batchnorm_apply_eval" + v, bindings: []vk.DescKind{I, S, S, S, S, S}, push: 20, spec: localWide})
		register("batchnorm_apply_res"+v, kernelDef{module: "batchnorm_apply_res" + v, bindings: []vk.DescKind{I, S, S, S, S, S, I}, push: 20, spec: localWide})
		register("batchnorm_apply_eval_res"+v, kernelDef{module: "batchnorm_apply_eval_res" + v, bindings: []vk.DescKind{I, S, S, S, S, S, I}, push: 20, spec: localWide})
		for _, r := range []string{"", "_relu"} {
			register("batchnorm_bwd"+r+v, kernelDef{module: "batchnorm_bwd" + r + v, bindings: []vk.DescKind{I, I, I, S, S, S}, push: 12, spec: local1D})
			register("batchnorm_bwd_apply"+r+v, kernelDef{module: "batchnorm_bwd_apply" + r + v, bindings: []vk.DescKind{I, I, I, S, S}, push: 12, spec: localWide})
		}
		if v == "_texel" {
			// The apply passes' _x8 forms: two channel groups an invocation, eight floats a store
			// (common.glsl, bnX8).
			for _, a := range []string{"batchnorm_apply", "batchnorm_apply_eval"} {
				register(a+v+"_x8", kernelDef{module: a + v + "_x8", bindings: []vk.DescKind{I, S, S, S, S, S}, push: 20, spec: localWide})
				register(a+"_res"+v+"_x8", kernelDef{module: a + "_res" + v + "_x8", bindings: []vk.DescKind{I, S, S, S, S, S, I}, push: 20, spec: localWide})
			}
			for _, r := range []string{"", "_relu"} {
				register("batchnorm_bwd_apply"+r+v+"_x8", kernelDef{module: "batchnorm_bwd_apply" + r + v + "_x8", bindings: []vk.DescKind{I, I, I, S, S}, push: 12, spec: localWide})
			}
		}
	}
	register("batchnorm_final", kernelDef{module: "batchnorm_final", bindings: []vk.DescKind{S, S, S, S, S}, push: 24, spec: local1D})
	register("batchnorm_final_bwd", kernelDef{module: "batchnorm_final_bwd", bindings: []vk.DescKind{S, S, S, S, S, S}, push: 12, spec: local1D})
	register("batchnorm_final_wg", kernelDef{module: "batchnorm_final_wg", bindings: []vk.DescKind{S, S, S, S, S}, push: 24, spec: local1D})
	register("batchnorm_final_wg_bwd", kernelDef{module: "batchnorm_final_wg_bwd", bindings: []vk.DescKind{S, S, S, S, S, S}, push: 12, spec: local1D})
}

// bnFinal records the fold of the per-chunk partials into each channel's statistics (name
// "batchnorm_final") or backward sums ("batchnorm_final_bwd"), for C channels. The cpu variant
// gives a channel one invocation that walks its chunks in order; the gpu variant gives it a
// workgroup (batchnorm_final_wg.comp), since a GPU left with C threads walking thousands of chunks
// spent up to 30% of a training step there.
func (k *Kernels) bnFinal(s *vk.Seq, name string, C int, push []byte, binds ...vk.Binding) {
	if k.Variant != "gpu" {
		k.dispatch1D(s, name, C, push, binds...)
		return
	}
	wg := strings.Replace(name, "batchnorm_final", "batchnorm_final_wg", 1)
	p := k.pipe(wg)
	gx, gy, gz := vk.Grid1D(k.Ctx, C*int(p.Spec[0]), int(p.Spec[0]))
	s.Dispatch(p, gx, gy, gz, push, binds...)
}

// BNOpts are a batchnorm's fused extras.
type BNOpts struct {
	// ReLU applies ReLU to the output in the same pass (forward), and masks
	// dy with the post-ReLU output y > 0 before the batchnorm gradient
	// (backward, which then needs y).
	ReLU bool
	// Residual, when bound, is added to the output before the ReLU (forward
	// only): y = relu(bn(x) + Residual), a residual block's last batchnorm
	// and its AddReLU in one pass. Its backward is AddReLU's (ReLUBackward
	// on y) followed by a plain BatchNormBackward.
	Residual vk.Binding
}

// bnApply records the apply pass (name: batchnorm_apply or batchnorm_apply_eval) over the rows of q
// from row r0, with o's residual when bound.
func (k *Kernels) bnApply(s *vk.Seq, name string, p, q ref.BatchNorm, R, r0 int, whole bool, o BNOpts, x, gamma, beta, mean, istd, y vk.Binding) {
	xp, yp := piece(x, r0*p.C, q.M*p.C, whole), piece(y, r0*p.C, q.M*p.C, whole)
	inputs := []*vk.Binding{&xp}
	var rp vk.Binding
	if o.Residual.Buf != nil {
		rp = piece(o.Residual, r0*p.C, q.M*p.C, whole)
		inputs = append(inputs, &rp)
		name += "_res"
	}
	v, cg, n := k.bnGrid(q, R, inputs, yp, gamma, beta, mean, istd)
	binds := []vk.Binding{xp, gamma, beta, mean, istd, yp}
	if rp.Buf != nil {
		binds = append(binds, rp)
	}
	v, n = k.bnX8(v, cg, n)
	Ra, n := k.bnApplyRows(name+v, q.M, R, n)
	k.dispatch1D(s, name+v, n, vk.Push(q.M, cg, Ra, o.ReLU, p.Eps), binds...)
}

// bnApplyRows is the chunk height and invocation count of apply pass name over M rows, given the
// statistics' height R and the n invocations that height gives. An apply pass is elementwise (its
// chunks only share the rows among invocations), so any height gives the same values: R, or fewer
// rows (a multiple of 4) where R would leave fewer than 4 workgroups. The demo's layers of 256 to
// 1,024 rows had one workgroup there, one of lavapipe's two threads idle (BENCHMARKS.md, "apply
// passes on both threads"). The statistics passes keep R: their chunks are the sums' order.
func (k *Kernels) bnApplyRows(name string, M, R, n int) (int, int) {
	chunks := ceilDiv(M, R)
	per := n / chunks // invocations a chunk of rows
	want := 4 * int(k.pipe(name).Spec[0])
	if n >= want {
		return R, n
	}
	Ra := max(4, min(R, (M*per/want)&^3))
	return Ra, ceilDiv(M, Ra) * per
}

// bnX8 is the apply passes' form and invocation count: the _texel form's _x8 (two channel groups an
// invocation, eight floats a store: the same values, half the stores, each a loop over the lanes on
// lavapipe) where x8 holds and the groups pair up; v, cg and n as bnGrid gave them otherwise.
func (k *Kernels) bnX8(v string, cg, n int) (string, int) {
	if v == "_texel" && k.x8() && cg%2 == 0 {
		return v + "_x8", n / 2
	}
	return v, n
}

// maxBNChunks bounds the chunk count, so the final pass stays short.
const maxBNChunks = 4096

// bnRows is the chunk height R: 256 rows for the CPU kernels (long loops,
// few workgroups), 64 for the GPU ones (more parallelism), more when M would
// give over maxBNChunks chunks; fewer (a multiple of 4) when two chunks of
// C channels would not fit one storage binding, so the rows can be split
// over bindings by whole chunks.
func (k *Kernels) bnRows(M, C int) int {
	r := 256
	if k.Variant == "gpu" {
		r = 64
	}
	r = max(r, ceilDiv(M, maxBNChunks))
	if fit := int(k.storageLimit()/uint64(8*C)) &^ 3; r > fit {
		r = max(fit, 4)
	}
	return r
}

// BatchNormScratch is the size in floats of the partial buffer the training
// forward and the backward of p need.
func (k *Kernels) BatchNormScratch(p ref.BatchNorm) int {
	return max(2*ceilDiv(p.M, k.bnRows(p.M, p.C)), 4) * p.C
}

// bnPieces calls f for consecutive row ranges of p (q.M rows from row r0,
// chunk c0 on) made of whole chunks of R rows, whose (M, C) tensors fit one
// storage binding; whole is set when all rows are one piece. The partial
// sums of chunk c sit at 2*c*C floats whatever the piece, so the final pass
// merges the same chunks in the same order as an unsplit run.
func (k *Kernels) bnPieces(p ref.BatchNorm, R int, f func(q ref.BatchNorm, r0, c0 int, whole bool)) {
	chunks := ceilDiv(p.M, R)
	step := k.pieceUnits(chunks, R*p.C, 2*p.C)
	for c0 := 0; c0 < chunks; c0 += step {
		q := p
		q.M = min(step*R, p.M-c0*R)
		f(q, c0*R, c0, step >= chunks)
	}
}

func (k *Kernels) bnCheck(op string, p ref.BatchNorm) {
	if p.M < 1 || p.C < 1 || !(p.Eps > 0) {
		panic(fmt.Sprintf("ops.%s: invalid %+v", op, p))
	}
}

// bnGrid returns the kernel-name suffix, channel groups per row, chunk rows
// and invocation count of p's (chunk, channel group) grid. inputs are the
// big (M, C) read-only tensors, which the texel variant reads as texels
// (rebound to whole texels); others are the remaining bindings.
func (k *Kernels) bnGrid(p ref.BatchNorm, R int, inputs []*vk.Binding, others ...vk.Binding) (v string, cg, n int) {
	v, cg = "", p.C
	all := append([]vk.Binding(nil), others...)
	for _, b := range inputs {
		all = append(all, *b)
	}
	if vec4OK(p.C, all...) {
		v, cg = "_vec4", p.C/4
		if tex, ok := k.texels(p.M*p.C, inputs...); ok {
			v = "_texel"
			for i, b := range inputs {
				*b = tex[i]
			}
		}
	}
	return v, cg, ceilDiv(p.M, R) * cg
}

// BatchNormForwardTrain records batchnorm with batch statistics: per channel
// mean and biased variance over the M rows of x (M, C), saved as mean and
// istd = 1/sqrt(var+eps) (C each) for the backward, and y = gamma*(x-mean)*istd
// + beta (then ReLU with o.ReLU). Statistics are per-chunk Welford partials
// merged in a fixed order, so a replayed step is bit-identical. When runMean
// and runVar are bound they are updated like PyTorch (momentum, unbiased
// variance); leave them zero to skip that. partial holds
// BatchNormScratch(p) floats. y may not alias x or o.Residual.
func (k *Kernels) BatchNormForwardTrain(s *vk.Seq, p ref.BatchNorm, o BNOpts, x, gamma, beta, y, mean, istd, runMean, runVar, partial vk.Binding) {
	const op = "BatchNormForwardTrain"
	k.bnCheck(op, p)
	partial = needHead(op, "partial", partial, k.BatchNormScratch(p))
	if p.M < 2 {
		panic(fmt.Sprintf("ops.%s: expected more than 1 value per channel, got M = %d", op, p.M))
	}
	need(op, "x", x, p.M*p.C)
	need(op, "y", y, p.M*p.C)
	if o.Residual.Buf != nil {
		need(op, "residual", o.Residual, p.M*p.C)
	}
	for _, b := range []struct {
		n string
		b vk.Binding
	}{{"gamma", gamma}, {"beta", beta}, {"mean", mean}, {"istd", istd}} {
		need(op, b.n, b.b, p.C)
	}
	running := runMean.Buf != nil
	if running {
		need(op, "runMean", runMean, p.C)
		need(op, "runVar", runVar, p.C)
	} else {
		runMean, runVar = mean, istd // bound but untouched
	}
	R := k.bnRows(p.M, p.C)
	k.bnPieces(p, R, func(q ref.BatchNorm, r0, c0 int, whole bool) {
		xp, yp := piece(x, r0*p.C, q.M*p.C, whole), piece(y, r0*p.C, q.M*p.C, whole)
		pp := piece(partial, 2*c0*p.C, 2*ceilDiv(q.M, R)*p.C, whole)
		v, cg, n := k.bnGrid(q, R, []*vk.Binding{&xp}, yp, gamma, beta, mean, istd, pp)
		if r0 > 0 {
			s.NoBarrier() // pieces write disjoint chunks
		}
		k.dispatch1D(s, "batchnorm_stats"+v, n, vk.Push(q.M, cg, R), xp, pp)
	})
	k.bnFinal(s, "batchnorm_final", p.C, vk.Push(p.M, p.C, R, p.Eps, p.Momentum, running), partial, mean, istd, runMean, runVar)
	k.bnPieces(p, R, func(q ref.BatchNorm, r0, c0 int, whole bool) {
		if r0 > 0 {
			s.NoBarrier()
		}
		k.bnApply(s, "batchnorm_apply", p, q, R, r0, whole, o, x, gamma, beta, mean, istd, y)
	})
}

// BatchNormForwardEval records y = (x-runMean) * gamma/sqrt(runVar+eps) + beta
// (then ReLU with o.ReLU), the frozen-statistics forward for evaluation and
// the linear probe. y may alias x, not o.Residual.
func (k *Kernels) BatchNormForwardEval(s *vk.Seq, p ref.BatchNorm, o BNOpts, x, gamma, beta, runMean, runVar, y vk.Binding) {
	const op = "BatchNormForwardEval"
	k.bnCheck(op, p)
	need(op, "x", x, p.M*p.C)
	need(op, "y", y, p.M*p.C)
	if o.Residual.Buf != nil {
		need(op, "residual", o.Residual, p.M*p.C)
	}
	need(op, "gamma", gamma, p.C)
	need(op, "beta", beta, p.C)
	need(op, "runMean", runMean, p.C)
	need(op, "runVar", runVar, p.C)
	R := k.bnRows(p.M, p.C)
	k.bnPieces(p, R, func(q ref.BatchNorm, r0, _ int, whole bool) {
		if r0 > 0 {
			s.NoBarrier()
		}
		k.bnApply(s, "batchnorm_apply_eval", p, q, R, r0, whole, o, x, gamma, beta, runMean, runVar, y)
	})
}

// reluSuffix names the backward kernels' form for o: "_relu" masks dy by the fused forward's ReLU
// (batchnorm_bwd.comp keeps it a variant, not a flag: on lavapipe an untaken if still loads y).
func reluSuffix(o BNOpts) string {
	if o.ReLU {
		return "_relu"
	}
	return ""
}

// BatchNormBackward records the training-mode gradients from the mean and
// istd saved by BatchNormForwardTrain: with xhat = (x-mean)*istd and d = dy
// (or dy*[y > 0] with o.ReLU, y being the fused forward's output),
// dgamma = sum d*xhat, dbeta = sum d and dx = gamma*istd/M * (M*d - dbeta -
// xhat*dgamma). y is ignored without o.ReLU (leave it zero). dx may alias dy
// but not x or y; partial holds BatchNormScratch(p) floats.
func (k *Kernels) BatchNormBackward(s *vk.Seq, p ref.BatchNorm, o BNOpts, x, y, dy, gamma, mean, istd, dx, dgamma, dbeta, partial vk.Binding) {
	const op = "BatchNormBackward"
	k.bnCheck(op, p)
	partial = needHead(op, "partial", partial, k.BatchNormScratch(p))
	need(op, "x", x, p.M*p.C)
	need(op, "dy", dy, p.M*p.C)
	need(op, "dx", dx, p.M*p.C)
	for _, b := range []struct {
		n string
		b vk.Binding
	}{{"gamma", gamma}, {"mean", mean}, {"istd", istd}, {"dgamma", dgamma}, {"dbeta", dbeta}} {
		need(op, b.n, b.b, p.C)
	}
	if o.ReLU {
		need(op, "y", y, p.M*p.C)
	} else {
		y = dy // bound but never read
	}
	relu := reluSuffix(o)
	R := k.bnRows(p.M, p.C)
	rows := func(q ref.BatchNorm, r0 int, whole bool) (xp, yp, dyp, dxp vk.Binding) {
		return piece(x, r0*p.C, q.M*p.C, whole), piece(y, r0*p.C, q.M*p.C, whole), piece(dy, r0*p.C, q.M*p.C, whole), piece(dx, r0*p.C, q.M*p.C, whole)
	}
	k.bnPieces(p, R, func(q ref.BatchNorm, r0, c0 int, whole bool) {
		xp, yp, dyp, dxp := rows(q, r0, whole)
		pp := piece(partial, 2*c0*p.C, 2*ceilDiv(q.M, R)*p.C, whole)
		v, cg, n := k.bnGrid(q, R, []*vk.Binding{&xp, &yp, &dyp}, dxp, mean, istd, pp)
		if r0 > 0 {
			s.NoBarrier()
		}
		k.dispatch1D(s, "batchnorm_bwd"+relu+v, n, vk.Push(q.M, cg, R), xp, yp, dyp, mean, istd, pp)
	})
	k.bnFinal(s, "batchnorm_final_bwd", p.C, vk.Push(p.M, p.C, R), partial, gamma, mean, istd, dgamma, dbeta)
	// (the final pass leaves its per-channel results in partial's first 4*C floats)
	k.bnPieces(p, R, func(q ref.BatchNorm, r0, _ int, whole bool) {
		xp, yp, dyp, dxp := rows(q, r0, whole)
		v, cg, n := k.bnGrid(q, R, []*vk.Binding{&xp, &yp, &dyp}, dxp, mean, istd, partial)
		if r0 > 0 {
			s.NoBarrier()
		}
		v, n = k.bnX8(v, cg, n)
		Ra, n := k.bnApplyRows("batchnorm_bwd_apply"+relu+v, q.M, R, n)
		k.dispatch1D(s, "batchnorm_bwd_apply"+relu+v, n, vk.Push(q.M, cg, Ra), xp, yp, dyp, partial, dxp)
	})
}
