package ops

import (
	"fmt"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

// Grad weight as one GEMM over an im2col matrix, for the cpu variant.
//
// dw (R*S*C, K) = cols^T dy, where cols (N*P*Q, R*S*C) holds, for every output pixel, the input values
// under each tap (zero in the padding) and dy is (N*P*Q, K) as it is. The GEMM is the Winograd path's
// grad-weight reduction (conv2d_winograd_gemm tn: 16x16 register tiles, eight rows a loop trip) with
// one frequency. The direct kernel (conv2d_bwd_weight_cpu) walks the same sum pixel row by pixel row,
// a loop trip per pixel, which on lavapipe (a trip costs about 50 cycles) runs at 11-35 GFLOP/s where
// the output map is small: the stride-2 convolutions that open ResNet stages, their 1x1 downsamples,
// the 1x1-map layers of the demo preset, the stems (BENCHMARKS.md, "im2col").
//
// A 1x1 stride-1 convolution without padding needs no im2col: x is the matrix. Otherwise each batch
// piece (at most im2colPieceFloats floats of cols, or one image, so a piece stays in the last-level
// cache between the two passes) is laid out by conv2d_im2col, then reduced by the GEMM in chunks of rows; the chunks'
// partial sums accumulate over the pieces in piece order and colsum adds them in chunk order, so the
// result is bit-identical from run to run. A single chunk writes dw directly.

func init() {
	// One push block for both (the full-channel kernel pushes its first twelve fields).
	register("conv2d_im2col", kernelDef{module: "conv2d_im2col", bindings: []vk.DescKind{vk.TexelVec4, vk.Storage}, push: 14 * 4, spec: local1D})
	register("conv2d_im2col_u", kernelDef{module: "conv2d_im2col_u", bindings: []vk.DescKind{vk.TexelVec4, vk.Storage}, push: 14 * 4, spec: local1D})
	register("conv2d_im2col_x8", kernelDef{module: "conv2d_im2col_x8", bindings: []vk.DescKind{vk.TexelVec4, vk.Storage}, push: 14 * 4, spec: local1D})
	// The 1-channel 7x7 stem's, its window and used channels compiled in (conv2d_im2col.comp).
	register("conv2d_im2col_u1_7x7", kernelDef{module: "conv2d_im2col_u1_7x7", bindings: []vk.DescKind{vk.TexelVec4, vk.Storage}, push: 14 * 4, spec: local1D})
}

// im2colPieceFloats caps the cols matrix of one batch piece.
var im2colPieceFloats = 2 << 20

// Im2colOK reports whether Conv2DBackwardWeightIm2col takes p: C and K multiples of 4 (vec4 rows).
func Im2colOK(p ref.Conv2D) bool { return p.C%4 == 0 && p.K%4 == 0 }

// im2colPays reports whether the cpu variant's grad weight of p takes Conv2DBackwardWeightIm2col over
// the direct kernel: a 1x1 stride-1 convolution (no im2col), a strided one, or an output map of at
// most 8x8. Measured on lavapipe (`vkclr bench ops --op bwd_weight`, BENCHMARKS.md "im2col"): 1.2-4.3x
// faster on the stride-2 and 1x1 rows of ResNet-18 at CIFAR and demo sizes, 1.8-2.2x at 8x8 and 4x4
// maps of 256-512 channels (1.4x at 16x16 with 128, where Winograd runs anyway); 0.69-0.96x at 32x32
// stride 1 with 16 and 64 channels, where cols is nine times x and costs more than the short rows.
func (k *Kernels) im2colPays(p ref.Conv2D) bool {
	if k.Variant != "cpu" || !Im2colOK(p) {
		return false
	}
	if uint64(4*p.P()*p.Q()*p.R*p.S*p.C) > k.storageLimit() {
		return false // one image's cols would not fit one binding
	}
	return pointwise(p) || p.Stride > 1 || p.P()*p.Q() <= 64
}

// pointwise reports a 1x1 stride-1 convolution without padding, whose im2col matrix is x itself.
func pointwise(p ref.Conv2D) bool { return p.R == 1 && p.S == 1 && p.Stride == 1 && p.Pad == 0 }

// im2colPlan is the plan of p's grad weight: images per batch piece (at least one, whatever its cols
// take), whether x is the matrix itself (pointwise), and the chunks of rows each piece's GEMM splits
// into. Chunks give the device enough independent 16x16 tiles (as weightPlan); they depend only on the
// shape.
func (k *Kernels) im2colPlan(p ref.Conv2D) (step int, xIsCols bool, chunks, chunkRows int) {
	xIsCols = pointwise(p)
	pq, rsc := p.P()*p.Q(), p.R*p.S*p.C
	perImage := pq * rsc
	limit := min(uint64(im2colPieceFloats), k.storageLimit()/4)
	if xIsCols {
		limit = k.storageLimit() / 4
	}
	step = max(1, min(p.N, k.batchPieces(p), int(limit/uint64(perImage))))
	rows := step * pq
	tm, tn := cpuTiles("conv2d_winograd_gemm_tn")
	outTiles := ceilDiv(rsc, tm) * ceilDiv(p.K, tn)
	const wantTiles, minRows = 1024, 256
	chunks = max(1, min(ceilDiv(wantTiles, outTiles), rows/minRows))
	chunks = min(chunks, max(1, int(k.storageLimit()/uint64(4*rsc*p.K))))
	chunkRows = ceilDiv(rows, chunks)
	return step, xIsCols, ceilDiv(rows, chunkRows), chunkRows
}

// Conv2DIm2colScratch is the scratch in float32s Conv2DBackwardWeightIm2col needs for p: one piece's
// cols, then the chunks' partial sums (a single chunk's only for a dw that does not start on a vec4).
func (k *Kernels) Conv2DIm2colScratch(p ref.Conv2D) int {
	checkConv("Conv2DIm2colScratch", p)
	step, xIsCols, chunks, _ := k.im2colPlan(p)
	n := chunks * p.R * p.S * p.C * p.K
	if !xIsCols {
		n += step * p.P() * p.Q() * p.R * p.S * p.C
	}
	return n
}

// Conv2DBackwardWeightIm2col records dw = dL/dw (overwritten) like Conv2DBackwardWeight, as the GEMM
// cols^T dy (Im2colOK(p) must hold); scratch holds Conv2DIm2colScratch(p) float32s from a 16-byte
// aligned offset.
func (k *Kernels) Conv2DBackwardWeightIm2col(s *vk.Seq, p ref.Conv2D, x, dy, dw, scratch vk.Binding) {
	checkConv("Conv2DBackwardWeightIm2col", p)
	if !Im2colOK(p) {
		panic(fmt.Sprintf("ops.Conv2DBackwardWeightIm2col: needs C and K multiples of 4 (%+v)", p))
	}
	step, xIsCols, chunks, chunkRows := k.im2colPlan(p)
	P, Q := p.P(), p.Q()
	rsc, img, out := p.R*p.S*p.C, p.H*p.W*p.C, P*Q*p.K
	colsN := 0
	if !xIsCols {
		colsN = step * P * Q * rsc
	}
	// A stem's padded input (UsedC of 4 channels can be nonzero): cols hold only the used channels'
	// columns (rowLen of them), the GEMM reduces those, and colsum_expand writes dw with zeros for the
	// rest. The chunks stay those of the full shape, so every sum is the one the full GEMM makes.
	used := skipsPadding(p) && !xIsCols
	rowLen := rsc
	if used {
		rowLen = ceilDiv(p.R*p.S*p.UsedC, 4) * 4
	}
	need("Conv2DBackwardWeightIm2col", "scratch", scratch, k.Conv2DIm2colScratch(p))
	// The GEMM's output: the partials in scratch, or dw itself when there is one chunk and dw starts
	// on a vec4 (the GEMM stores vec4s).
	cb, coff, ok := k.operand(dw, 0, rsc*p.K, vk.Storage)
	if !ok {
		panic("ops.Conv2DBackwardWeightIm2col: dw exceeds the storage-buffer range")
	}
	partials := chunks > 1 || coff%4 != 0 || used
	if partials {
		cb, coff = k.scratchSpan("Conv2DBackwardWeightIm2col", scratch, colsN, chunks*rowLen*p.K, vk.Storage)
	}
	gemm := k.pipe(k.gemmTN(rowLen, p.K, coff))
	for n0 := 0; n0 < p.N; n0 += step {
		n := min(step, p.N-n0)
		rows := n * P * Q
		xb, xoff, ok := k.operand(x, n0*img, n*img, vk.TexelVec4)
		if !ok {
			panic("ops.Conv2DBackwardWeightIm2col: x must start 16-byte aligned and fit the texel-buffer range")
		}
		ab, aoff := xb, xoff // x is the matrix, or im2col lays it out from x
		if !xIsCols {
			ob, ooff := k.scratchSpan("Conv2DBackwardWeightIm2col", scratch, 0, rows*rowLen, vk.Storage)
			if used {
				name := "conv2d_im2col_u"
				if p.UsedC == 1 && p.R == 7 && p.S == 7 {
					name += "1_7x7"
				}
				k.dispatch1D(s, name, rows*rowLen/4, vk.Push(n, p.H, p.W, p.C, P, Q, p.R, p.S, p.Stride, p.Pad, xoff, ooff, p.UsedC, rowLen), xb, ob)
			} else {
				name, per := "conv2d_im2col", 4
				if k.x8At(p.C, ooff) {
					name, per = name+"_x8", 8 // eight floats a store (common.glsl)
				}
				k.dispatch1D(s, name, rows*p.C/per, vk.Push(n, p.H, p.W, p.C, P, Q, p.R, p.S, p.Stride, p.Pad, xoff, ooff), xb, ob)
			}
			ab, aoff = k.scratchSpan("Conv2DBackwardWeightIm2col", scratch, 0, rows*rowLen, vk.TexelVec4)
		}
		bb, boff, ok := k.operand(dy, n0*out, n*out, vk.TexelVec4)
		if !ok {
			panic("ops.Conv2DBackwardWeightIm2col: dy must start 16-byte aligned and fit the texel-buffer range")
		}
		c := ceilDiv(rows, chunkRows)
		gx, gy, gz := k.gridTN(gemm, c, rowLen, p.K)
		s.Dispatch(gemm, gx, gy, gz, vk.Push(rowLen, p.K, rows, rowLen, p.K, p.K, rows*rowLen, rows*p.K, rowLen*p.K,
			aoff, boff, coff, 0, 0, 1, c, chunkRows, rowLen*p.K, n0 > 0, plainShift, plainBlk, plainShift, plainBlk, plainShift, plainBlk), ab, bb, cb)
	}
	if partials {
		db, doff, _ := k.operand(dw, 0, rsc*p.K, vk.Storage)
		if used {
			k.dispatch1D(s, "colsum_expand", rsc*p.K, vk.Push(rsc*p.K, chunks, coff, doff, p.K, p.C, p.UsedC, rowLen*p.K), cb, db)
		} else {
			k.dispatch1D(s, "colsum", rsc*p.K, vk.Push(rsc*p.K, chunks, coff, doff), cb, db)
		}
	}
}
