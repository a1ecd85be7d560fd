// Batchnorm's training passes one stage at a time, for statistics over the
// batches of several devices (synchronized batchnorm): the caller reads the
// per-chunk partials the statistics stage leaves, combines every device's
// on the host, writes the combined one back as a single chunk and records
// the fold and the row pass. On one device, BatchNormForwardTrain and
// BatchNormBackward run the same kernels back to back.
package ops

import (
	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

// The stages do not split tensors over storage bindings (BatchNormForwardTrain
// does): a rank's (M, C) tensors must fit one binding.

// BatchNormChunks returns the chunk count and chunk height of p's statistics
// passes: they leave (chunks, 2, C) floats at the start of partial, per
// chunk (mean, M2) forward and (sum d, sum d*xhat) backward; every chunk
// holds rows rows but the last, which holds the rest of M.
func (k *Kernels) BatchNormChunks(p ref.BatchNorm) (chunks, rows int) {
	R := k.bnRows(p.M, p.C)
	return ceilDiv(p.M, R), R
}

// BatchNormStats records the forward statistics stage over x (M, C).
func (k *Kernels) BatchNormStats(s *vk.Seq, p ref.BatchNorm, x, partial vk.Binding) {
	const op = "BatchNormStats"
	k.bnCheck(op, p)
	partial = needHead(op, "partial", partial, k.BatchNormScratch(p))
	need(op, "x", x, p.M*p.C)
	R := k.bnRows(p.M, p.C)
	v, cg, n := k.bnGrid(p, R, []*vk.Binding{&x}, partial)
	k.dispatch1D(s, "batchnorm_stats"+v, n, vk.Push(p.M, cg, R), x, partial)
}

// BatchNormFoldCombined records the fold of one combined (mean, M2) chunk
// of total rows at the start of partial into mean and istd, and the
// running statistics' update with total rows (p gives C, eps and momentum).
func (k *Kernels) BatchNormFoldCombined(s *vk.Seq, p ref.BatchNorm, total int, partial, mean, istd, runMean, runVar vk.Binding) {
	const op = "BatchNormFoldCombined"
	k.bnCheck(op, p)
	partial = needHead(op, "partial", partial, 2*p.C)
	for _, b := range []vk.Binding{mean, istd, runMean, runVar} {
		need(op, "statistics", b, p.C)
	}
	k.bnFinal(s, "batchnorm_final", p.C, vk.Push(total, p.C, total, p.Eps, p.Momentum, true), partial, mean, istd, runMean, runVar)
}

// BatchNormApply records y = gamma*(x-mean)*istd + beta (then ReLU with o.ReLU).
func (k *Kernels) BatchNormApply(s *vk.Seq, p ref.BatchNorm, o BNOpts, x, gamma, beta, mean, istd, y vk.Binding) {
	const op = "BatchNormApply"
	k.bnCheck(op, p)
	need(op, "x", x, p.M*p.C)
	need(op, "y", y, p.M*p.C)
	if o.Residual.Buf != nil {
		need(op, "residual", o.Residual, p.M*p.C)
	}
	k.bnApply(s, "batchnorm_apply", p, p, k.bnRows(p.M, p.C), 0, true, o, x, gamma, beta, mean, istd, y)
}

// BatchNormBackwardStats records the backward statistics stage (see
// BatchNormBackward for x, y, dy and o).
func (k *Kernels) BatchNormBackwardStats(s *vk.Seq, p ref.BatchNorm, o BNOpts, x, y, dy, mean, istd, partial vk.Binding) {
	const op = "BatchNormBackwardStats"
	k.bnCheck(op, p)
	partial = needHead(op, "partial", partial, k.BatchNormScratch(p))
	need(op, "x", x, p.M*p.C)
	need(op, "dy", dy, p.M*p.C)
	if !o.ReLU {
		y = dy
	}
	R := k.bnRows(p.M, p.C)
	v, cg, n := k.bnGrid(p, R, []*vk.Binding{&x, &y, &dy}, mean, istd, partial)
	k.dispatch1D(s, "batchnorm_bwd"+reluSuffix(o)+v, n, vk.Push(p.M, cg, R), x, y, dy, mean, istd, partial)
}

// BatchNormBackwardFoldCombined records the fold of one combined (sum d,
// sum d*xhat) chunk over total rows into dgamma, dbeta and the row pass's
// coefficients (left in partial).
func (k *Kernels) BatchNormBackwardFoldCombined(s *vk.Seq, p ref.BatchNorm, total int, partial, gamma, mean, istd, dgamma, dbeta vk.Binding) {
	const op = "BatchNormBackwardFoldCombined"
	k.bnCheck(op, p)
	partial = needHead(op, "partial", partial, 4*p.C)
	k.bnFinal(s, "batchnorm_final_bwd", p.C, vk.Push(total, p.C, total), partial, gamma, mean, istd, dgamma, dbeta)
}

// BatchNormBackwardApply records dx from the coefficients the fold left in partial.
func (k *Kernels) BatchNormBackwardApply(s *vk.Seq, p ref.BatchNorm, o BNOpts, x, y, dy, partial, dx vk.Binding) {
	const op = "BatchNormBackwardApply"
	k.bnCheck(op, p)
	need(op, "dx", dx, p.M*p.C)
	if !o.ReLU {
		y = dy
	}
	R := k.bnRows(p.M, p.C)
	v, cg, n := k.bnGrid(p, R, []*vk.Binding{&x, &y, &dy}, partial, dx)
	k.dispatch1D(s, "batchnorm_bwd_apply"+reluSuffix(o)+v, n, vk.Push(p.M, cg, R), x, y, dy, partial, dx)
}
