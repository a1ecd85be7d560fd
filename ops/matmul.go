// Matmul and Linear on the device: the GEMM kernels (gemm_cpu, gemm_gpu) and their dispatcher.
// M, N, K are GEMM sizes (C is M x N, the reduction is K); for Linear N is the batch, I the input
// and O the output features.
package ops

import (
	"fmt"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

// The "cpu" kernels give each invocation an 8x8 register tile (cpu_tile.glsl); the "gpu" kernels
// give a workgroup a block staged in shared memory (gemm_gpu.glsl, configured by gpuLocal).
const cpuTile = 8

func init() {
	tex4 := []vk.DescKind{vk.TexelVec4, vk.TexelVec4, vk.Storage, vk.Storage}
	tex1 := []vk.DescKind{vk.TexelFloat, vk.TexelFloat, vk.Storage, vk.Storage}
	for _, t := range []string{"nn", "nt", "tn", "tt"} {
		register("gemm_cpu_"+t, kernelDef{module: "gemm_cpu_" + t, bindings: tex4, push: 12 * 4, spec: cpuLocal})
		register("gemm_cpu_"+t+"_s", kernelDef{module: "gemm_cpu_" + t + "_s", bindings: tex1, push: 12 * 4, spec: cpuLocal})
	}
	register("gemm_gpu", kernelDef{module: "gemm_gpu", bindings: storage(4), push: 16 * 4, spec: gpuLocal})
	register("gemm_gpu_sum", kernelDef{module: "gemm_gpu_sum", bindings: storage(3), push: 7 * 4, spec: local1D})
}

func storage(n int) []vk.DescKind {
	d := make([]vk.DescKind, n)
	for i := range d {
		d[i] = vk.Storage
	}
	return d
}

// cpuLocal is the workgroup of the register-tiled kernels: 64 invocations (lavapipe runs a
// workgroup on one thread, 8 lanes at a time; 64 tiles of 8x8 cover a 64x64 block of C).
func cpuLocal(c *vk.Caps) []uint32 { return []uint32{min(64, c.MaxWorkgroupInvoc), 1, 1} }

// operand binds the float32 elements [first, first+n) of b for a shader that reads it as kind. The
// binding starts at the closest offset at or before them that the device accepts for kind, and
// off is the element offset of first inside it. ok is false when the device cannot bind the range
// that way: a vec4 layout whose first element is not 16-byte aligned, or a range over the device's
// limit for the kind. Reading up to the end of a vec4 texel past n stays inside b's buffer or fails.
// For TexelVec4, off is a whole number of texels (a multiple of 4): first is 16-byte aligned and so
// is the binding's start.
func (k *Kernels) operand(b vk.Binding, first, n int, kind vk.DescKind) (bind vk.Binding, off int, ok bool) {
	if b.Buf == nil {
		panic("ops: empty binding for an operand")
	}
	if uint64(4*(first+n)) > b.Size {
		panic(fmt.Sprintf("ops: operand needs %d float32s from element %d, binding holds %d", n, first, b.Size/4))
	}
	caps := &k.Ctx.Caps
	start, end := b.Off+uint64(4*first), b.Off+uint64(4*(first+n))
	align := caps.StorageAlign
	if kind != vk.Storage {
		align = caps.TexelAlign
	}
	align = max(align, 4)
	if kind == vk.TexelVec4 {
		if start%16 != 0 {
			return vk.Binding{}, 0, false
		}
		for align%16 != 0 {
			align *= 2
		}
		end = (end + 15) &^ 15
		if end > b.Buf.Size() {
			return vk.Binding{}, 0, false
		}
	}
	base := start - start%align
	size := end - base
	switch kind {
	case vk.Storage:
		ok = size <= caps.MaxStorageBufferRange
	case vk.TexelVec4:
		ok = size/16 <= uint64(caps.MaxTexelElements)
	case vk.TexelFloat:
		ok = size/4 <= uint64(caps.MaxTexelElements)
	}
	return vk.Binding{Buf: b.Buf, Off: base, Size: size}, int(start-base) / 4, ok
}

// gemm is one product C (M x N) = op(A) op(B) with stored row strides lda, ldb, ldc;
// mode 0 overwrites C, 1 accumulates into it, 2 adds bias (N values) to every row.
type gemm struct {
	M, N, K       int
	TA, TB        bool
	lda, ldb, ldc int
	mode          int
}

const (
	gemmSet = iota
	gemmAccumulate
	gemmBias
)

// extent is the number of elements a stored rows x cols matrix with row stride ld spans.
func extent(rows, cols, ld int) int { return (rows-1)*ld + cols }

func (g gemm) aExtent() int {
	if g.TA {
		return extent(g.K, g.M, g.lda)
	}
	return extent(g.M, g.K, g.lda)
}

func (g gemm) bExtent() int {
	if g.TB {
		return extent(g.N, g.K, g.ldb)
	}
	return extent(g.K, g.N, g.ldb)
}

// vec4able reports whether an operand's contiguous length and row stride allow vec4 loads.
func (g gemm) vec4able() bool {
	aFast, bFast := g.K, g.N // lengths along memory
	if g.TA {
		aFast = g.M
	}
	if g.TB {
		bFast = g.K
	}
	return aFast%4 == 0 && g.lda%4 == 0 && bFast%4 == 0 && g.ldb%4 == 0
}

// testStorageLimit, when not 0, lowers the storage range the dispatchers plan pieces for, so tests
// reach the splitting paths with small tensors.
var testStorageLimit uint64

// storageLimit is the largest storage binding the dispatchers plan for.
func (k *Kernels) storageLimit() uint64 {
	if testStorageLimit > 0 {
		return min(testStorageLimit, k.Ctx.Caps.MaxStorageBufferRange)
	}
	return k.Ctx.Caps.MaxStorageBufferRange
}

// Split K (the gpu variant). A GEMM whose C has few blocks keeps most of a GPU idle: a projection
// head's 512 x 128 output is four 128 x 128 blocks, and on an H200 (132 multiprocessors) such a
// product with a reduction of 512 took 0.6 ms, a third of the head's 2.7 ms in a width-16 step
// (BENCHMARKS.md). gemmChunks splits the reduction into chunks of whole BK steps, enough for about
// splitGroups workgroups and none shorter than splitMinK; gemm_gpu writes each chunk's partial
// product to scratch and gemm_gpu_sum adds them in chunk order, then the bias, if any. The
// split depends only on the shape and the device's block, so results are bit-identical from run
// to run. Only where the caller passes scratch (LinearScratch floats), C's rows are contiguous and
// the GEMM overwrites C (Linear's: with or without a bias; no caller accumulates with scratch).
const (
	splitGroups = 128
	splitMinK   = 64
)

// gemmChunks is the number of chunks gemm splits g's reduction into on this device, and the
// reduction length of each (the last may be shorter); 1 and g.K where it does not split.
func (k *Kernels) gemmChunks(g gemm) (chunks, kChunk int) {
	if k.Variant == "cpu" || k.Whole || g.ldc != g.N || g.mode == gemmAccumulate {
		return 1, g.K
	}
	p := k.pipe("gemm_gpu")
	bm, bn, _ := gpuBlock(p)
	bk := int(p.Spec[3])
	chunks = min(ceilDiv(splitGroups, ceilDiv(g.M, bm)*ceilDiv(g.N, bn)), g.K/splitMinK)
	if chunks <= 1 || uint64(4*chunks*g.M*g.N) > k.storageLimit() {
		return 1, g.K
	}
	kChunk = ceilDiv(ceilDiv(g.K, chunks), bk) * bk
	return ceilDiv(g.K, kChunk), kChunk
}

// gemmScratch is the scratch in float32s gemm needs to split g (0: it does not split).
func (k *Kernels) gemmScratch(g gemm) int {
	if chunks, _ := k.gemmChunks(g); chunks > 1 {
		return chunks * g.M * g.N
	}
	return 0
}

// gemm records g, splitting C by rows when it exceeds the device's storage-buffer range. bias is
// bound only in mode gemmBias. scratch, from float32 element sFirst on, holds gemmScratch(g)
// float32s for a split reduction, or is the zero Binding (no split).
func (k *Kernels) gemm(s *vk.Seq, g gemm, a, b, bias, c, scratch vk.Binding, sFirst int) {
	if scratch.Buf != nil && k.gemmScratch(g) > 0 {
		k.gemmSplit(s, g, a, b, bias, c, scratch, sFirst)
		return
	}
	if g.M <= 0 || g.N <= 0 || g.K <= 0 {
		panic(fmt.Sprintf("ops: gemm with empty dimensions %+v", g))
	}
	rows := g.M
	if lim := int(k.storageLimit() / uint64(4*g.ldc)); lim < g.M {
		rows = max(lim&^7, 8)
	}
	for m0 := 0; m0 < g.M; m0 += rows {
		piece := g
		piece.M = min(rows, g.M-m0)
		aFirst := m0 * g.lda
		if g.TA {
			aFirst = m0
		}
		k.gemmPiece(s, piece, a, aFirst, b, bias, c, m0*g.ldc)
	}
}

func (k *Kernels) gemmPiece(s *vk.Seq, g gemm, a vk.Binding, aFirst int, b, bias, c vk.Binding, cFirst int) {
	cb, coff, ok := k.operand(c, cFirst, extent(g.M, g.N, g.ldc), vk.Storage)
	if !ok {
		panic(fmt.Sprintf("ops: gemm output of %d bytes cannot be bound", cb.Size))
	}
	biasb, biasoff := cb, 0
	if g.mode == gemmBias {
		biasb, biasoff, ok = k.operand(bias, 0, g.N, vk.Storage)
		if !ok {
			panic("ops: gemm bias cannot be bound")
		}
	}
	if k.Variant == "cpu" {
		name := "gemm_cpu_" + map[bool]string{false: "n", true: "t"}[g.TA] + map[bool]string{false: "n", true: "t"}[g.TB]
		kinds := []vk.DescKind{vk.TexelVec4, vk.TexelFloat}
		if !g.vec4able() {
			kinds = kinds[1:]
		}
		for _, kind := range kinds {
			ab, aoff, okA := k.operand(a, aFirst, g.aExtent(), kind)
			bb, boff, okB := k.operand(b, 0, g.bExtent(), kind)
			if !okA || !okB {
				continue
			}
			n := name
			if kind == vk.TexelFloat {
				n += "_s"
			}
			tm, tn := cpuTiles(n)
			tilesM, tilesN := ceilDiv(g.M, tm), ceilDiv(g.N, tn)
			p := k.pipe(n)
			wg := int(p.Spec[0])
			wgn := min(tilesN, 8, wg)
			groups := ceilDiv(tilesM, wg/wgn) * ceilDiv(tilesN, wgn)
			gx, gy, gz := vk.Grid1D(k.Ctx, groups*wg, wg)
			s.Dispatch(p, gx, gy, gz, vk.Push(g.M, g.N, g.K, g.lda, g.ldb, g.ldc, aoff, boff, coff, biasoff, g.mode, wgn), ab, bb, biasb, cb)
			return
		}
	}
	ab, aoff, okA := k.gpuOperand(a, aFirst, g.aExtent())
	bb, boff, okB := k.gpuOperand(b, 0, g.bExtent())
	if !okA || !okB {
		panic(fmt.Sprintf("ops: gemm %+v: operands too large to bind; split the work", g))
	}
	p := k.pipe("gemm_gpu")
	bm, bn, nt := gpuBlock(p)
	groups := ceilDiv(g.M, bm) * ceilDiv(g.N, bn)
	gx, gy, gz := vk.Grid1D(k.Ctx, groups*nt, nt)
	s.Dispatch(p, gx, gy, gz, vk.Push(g.M, g.N, g.K, g.lda, g.ldb, g.ldc, aoff, boff, coff, biasoff, g.mode, g.TA, g.TB, g.K, 0, groups), ab, bb, biasb, cb)
}

// gemmSplit records g on the gpu variant with its reduction split (gemmChunks): the chunks' partial
// products into scratch, then their sum in chunk order into C with g's mode.
func (k *Kernels) gemmSplit(s *vk.Seq, g gemm, a, b, bias, c, scratch vk.Binding, sFirst int) {
	chunks, kChunk := k.gemmChunks(g)
	mn := g.M * g.N
	need("gemm split", "scratch", scratch, sFirst+chunks*mn)
	sb, soff, okS := k.operand(scratch, sFirst, chunks*mn, vk.Storage)
	cb, coff, okC := k.operand(c, 0, mn, vk.Storage)
	ab, aoff, okA := k.gpuOperand(a, 0, g.aExtent())
	bb, boff, okB := k.gpuOperand(b, 0, g.bExtent())
	if !okS || !okC || !okA || !okB {
		panic(fmt.Sprintf("ops: gemm %+v split in %d: operands too large to bind", g, chunks))
	}
	biasb, biasoff := cb, 0
	if g.mode == gemmBias {
		var ok bool
		if biasb, biasoff, ok = k.operand(bias, 0, g.N, vk.Storage); !ok {
			panic("ops: gemm bias cannot be bound")
		}
	}
	p := k.pipe("gemm_gpu")
	bm, bn, nt := gpuBlock(p)
	groups := ceilDiv(g.M, bm) * ceilDiv(g.N, bn)
	gx, gy, gz := vk.Grid1D(k.Ctx, groups*chunks*nt, nt)
	s.Dispatch(p, gx, gy, gz, vk.Push(g.M, g.N, g.K, g.lda, g.ldb, g.N, aoff, boff, soff, 0, gemmSet, g.TA, g.TB, kChunk, mn, groups), ab, bb, sb, sb)
	k.dispatch1D(s, "gemm_gpu_sum", mn, vk.Push(mn, g.N, chunks, soff, coff, biasoff, g.mode), sb, biasb, cb)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Matmul records C (M, N) = op(A) op(B), or C += op(A) op(B) when accumulate is set, all row-major:
// A is (M, K) or (K, M) with TransA, B is (K, N) or (N, K) with TransB. C must not alias A or B.
func (k *Kernels) Matmul(s *vk.Seq, p ref.Matmul, a, b, c vk.Binding, accumulate bool) {
	g := gemm{M: p.M, N: p.N, K: p.K, TA: p.TransA, TB: p.TransB, lda: p.K, ldb: p.N, ldc: p.N}
	if p.TransA {
		g.lda = p.M
	}
	if p.TransB {
		g.ldb = p.K
	}
	if accumulate {
		g.mode = gemmAccumulate
	}
	k.gemm(s, g, a, b, vk.Binding{}, c, vk.Binding{}, 0)
}

// The Linear GEMMs: forward y = x w (+ bias), backward dx = dy w^T and dw = x^T dy.
func linearFwd(p ref.Linear) gemm { return gemm{M: p.N, N: p.O, K: p.I, lda: p.I, ldb: p.O, ldc: p.O} }
func linearDx(p ref.Linear) gemm {
	return gemm{M: p.N, N: p.I, K: p.O, TB: true, lda: p.O, ldb: p.O, ldc: p.I}
}
func linearDw(p ref.Linear) gemm {
	return gemm{M: p.I, N: p.O, K: p.N, TA: true, lda: p.I, ldb: p.O, ldc: p.O}
}

// LinearScratch is the scratch in float32s that LinearForwardScratch and LinearBackwardScratch need
// for p on this device to split their reductions (gemmChunks); 0 where none splits.
func (k *Kernels) LinearScratch(p ref.Linear) int {
	return max(k.gemmScratch(linearFwd(p)), k.gemmScratch(linearDx(p))+k.gemmScratch(linearDw(p)))
}

// LinearForward records y (N, O) = x (N, I) w (I, O) + bias (O); bias may be the zero Binding.
func (k *Kernels) LinearForward(s *vk.Seq, p ref.Linear, x, w, bias, y vk.Binding) {
	k.LinearForwardScratch(s, p, x, w, bias, y, vk.Binding{})
}

// LinearForwardScratch is LinearForward with scratch (LinearScratch(p) float32s, or the zero
// Binding) for the gpu variant's split reductions.
func (k *Kernels) LinearForwardScratch(s *vk.Seq, p ref.Linear, x, w, bias, y, scratch vk.Binding) {
	g := linearFwd(p)
	if bias.Buf != nil {
		g.mode = gemmBias
	}
	k.gemm(s, g, x, w, bias, y, scratch, 0)
}

// LinearBackward records dx (N, I) = dy w^T, dw (I, O) = x^T dy and db (O) = the column sums of dy.
// dw and db are overwritten; dx or db may be the zero Binding to skip them.
func (k *Kernels) LinearBackward(s *vk.Seq, p ref.Linear, x, w, dy, dx, dw, db vk.Binding) {
	k.LinearBackwardScratch(s, p, x, w, dy, dx, dw, db, vk.Binding{})
}

// LinearBackwardScratch is LinearBackward with scratch (LinearScratch(p) float32s, or the zero
// Binding) for the gpu variant's split reductions: dx's partials first, then dw's, apart, since
// dw's product runs beside dx's sum.
func (k *Kernels) LinearBackwardScratch(s *vk.Seq, p ref.Linear, x, w, dy, dx, dw, db, scratch vk.Binding) {
	dwFirst := 0
	if dx.Buf != nil {
		k.gemm(s, linearDx(p), dy, w, vk.Binding{}, dx, scratch, 0)
		s.NoBarrier() // dw reads what dx's product reads and writes elsewhere
		dwFirst = k.gemmScratch(linearDx(p))
	}
	k.gemm(s, linearDw(p), x, dy, vk.Binding{}, dw, scratch, dwFirst)
	if db.Buf != nil {
		s.NoBarrier()
		dyb, dyoff, ok1 := k.operand(dy, 0, p.N*p.O, vk.Storage)
		dbb, dboff, ok2 := k.operand(db, 0, p.O, vk.Storage)
		if !ok1 || !ok2 {
			panic("ops: LinearBackward: dy too large to bind; split the batch")
		}
		k.dispatch1D(s, "colsum", p.O, vk.Push(p.O, p.N, dyoff, dboff), dyb, dbb)
	}
}
