// Winograd minimal filtering F(m x m, 3 x 3) for 3x3 stride-1 convolutions, written for the "cpu"
// kernel style (lavapipe): fewer multiplications than the direct kernels of conv2d.go, paid for with
// transform passes and a scratch buffer. N batch, H W input size, C in-channels, K out-channels,
// P Q output size; m = 2 or 4 output pixels per tile side, alpha = m + 2, xi the alpha*alpha frequencies,
// T the tiles of a batch piece, Cp Kp the channel counts rounded up to 4.
//
// Forward (shaders/conv2d_winograd_*.comp):
//
//	u (xi, Cp, Kp) = G w G^T                      filter      (once per call)
//	v (xi, T, Cp)  = B^T x_tile B                 in          (per batch piece)
//	o (xi, T, Kp)  = v[xi] u[xi]                  gemm nn     (one GEMM per frequency, one dispatch)
//	y              = A^T o_tile A                 out
//
// F(4x4)'s o, and its v where the grad weight does not read it, are stored in blocks of tiles
// (winoBlockFloats): (T / b, xi, b, Cp) for b tiles a block rather than (xi, T, Cp), so that a
// transform, which writes (or reads) all 36 frequencies of its tiles, touches one stretch of memory
// instead of 36 streams. Backward weight's v and z stay plain (winoForward says why).
// Backward data is the same forward pass on dy with the filter rotated by 180 degrees and transposed
// (padding 2 - pad). Backward weight transforms x and dy tiles (A dy A^T), reduces v[xi]^T z[xi]
// over the tiles in chunks into partials (gemm tn, accumulating over batch pieces in order), then sums
// the chunks in a fixed order and applies G^T s G (wgrad): no float atomics, bit-identical run to run.
// Batch pieces keep every transformed tensor within the storage-buffer range.
//
// The transforms run eight channels an invocation (the _x8 forms), or, on a driver that makes a
// subgroup's accesses to consecutive elements one vector access (c1At), one channel an invocation.
package ops

import (
	"fmt"
	"strings"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	for _, f := range []string{"f2", "f4"} {
		for _, src := range []string{"", "dy_"} {
			register("conv2d_winograd_in_"+src+f, kernelDef{module: "conv2d_winograd_in_" + src + f, bindings: []vk.DescKind{vk.TexelVec4, vk.Storage}, push: 13 * 4, spec: local1D})
			register("conv2d_winograd_in_"+src+f+"_s", kernelDef{module: "conv2d_winograd_in_" + src + f + "_s", bindings: []vk.DescKind{vk.TexelFloat, vk.Storage}, push: 13 * 4, spec: local1D})
			register("conv2d_winograd_in_"+src+f+"_x8", kernelDef{module: "conv2d_winograd_in_" + src + f + "_x8", bindings: []vk.DescKind{vk.TexelVec4, vk.Storage}, push: 13 * 4, spec: local1D})
			if f == "f4" {
				register("conv2d_winograd_in_"+src+f+"_c1", kernelDef{module: "conv2d_winograd_in_" + src + f + "_c1", bindings: []vk.DescKind{vk.TexelFloat, vk.Storage}, push: 13 * 4, spec: local1D})
			}
		}
		for _, v := range []string{"", "_s", "_add", "_s_add", "_x8", "_x8_add"} {
			binds := []vk.DescKind{vk.TexelVec4, vk.Storage}
			if v == "_add" || v == "_x8_add" {
				binds = append(binds, vk.TexelVec4) // y read through a texel view
			}
			register("conv2d_winograd_out_"+f+v, kernelDef{module: "conv2d_winograd_out_" + f + v, bindings: binds, push: 13 * 4, spec: local1D})
		}
		if f == "f4" {
			register("conv2d_winograd_out_f4_c1", kernelDef{module: "conv2d_winograd_out_f4_c1", bindings: []vk.DescKind{vk.TexelFloat, vk.Storage}, push: 13 * 4, spec: local1D})
			register("conv2d_winograd_out_f4_c1_add", kernelDef{module: "conv2d_winograd_out_f4_c1_add", bindings: []vk.DescKind{vk.TexelFloat, vk.Storage, vk.TexelFloat}, push: 13 * 4, spec: local1D})
		}
		register("conv2d_winograd_filter_"+f, kernelDef{module: "conv2d_winograd_filter_" + f, bindings: storage(2), push: 8 * 4, spec: local1D})
		register("conv2d_winograd_filter_"+f+"_t", kernelDef{module: "conv2d_winograd_filter_" + f + "_t", bindings: []vk.DescKind{vk.TexelVec4, vk.Storage}, push: 8 * 4, spec: local1D})
		register("conv2d_winograd_filter_"+f+"_t_x8", kernelDef{module: "conv2d_winograd_filter_" + f + "_t_x8", bindings: []vk.DescKind{vk.TexelVec4, vk.Storage}, push: 8 * 4, spec: local1D})
		if f == "f4" {
			register("conv2d_winograd_rot", kernelDef{module: "conv2d_winograd_rot", bindings: []vk.DescKind{vk.TexelVec4, vk.Storage}, push: 4 * 4, spec: local1D})
		}
		wgrad := []vk.DescKind{vk.TexelVec4, vk.Storage}
		register("conv2d_winograd_wgrad_"+f, kernelDef{module: "conv2d_winograd_wgrad_" + f, bindings: wgrad, push: 8 * 4, spec: local1D})
		register("conv2d_winograd_wgrad_"+f+"_v", kernelDef{module: "conv2d_winograd_wgrad_" + f + "_v", bindings: wgrad, push: 8 * 4, spec: local1D})
	}
	for _, v := range []string{"k16_x8", "k32_x8"} {
		register("conv2d_winograd_gemm_row_"+v, kernelDef{module: "conv2d_winograd_gemm_row_" + v, bindings: []vk.DescKind{vk.TexelVec4, vk.TexelVec4, vk.Storage}, push: winoGemmPushSize, spec: cpuLocal})
	}
	for _, v := range []string{"nn", "nn16", "nn16_s", "tn", "tn_s", "nn_x8", "nn16_x8", "nn16_s_x8", "tn_x8", "tn_s_x8"} {
		register("conv2d_winograd_gemm_"+v, kernelDef{module: "conv2d_winograd_gemm_" + v, bindings: []vk.DescKind{vk.TexelVec4, vk.TexelVec4, vk.Storage}, push: winoGemmPushSize, spec: cpuLocal})
	}
}

const winoGemmPushSize = 25 * 4

// plainShift and plainBlk are WINO_ROW's words (shaders/common.glsl) for a matrix in the plain layout,
// row r at r * ld.
const plainShift, plainBlk = 31, 0

// WinogradOK reports whether the Winograd kernels take p: a 3x3 kernel, stride 1, padding 0 to 2.
func WinogradOK(p ref.Conv2D) bool {
	return p.R == 3 && p.S == 3 && p.Stride == 1 && p.Pad <= 2
}

// winoPieceFloats caps each transformed tensor of a batch piece: small enough that a piece's v and o
// stay in a CPU's last-level cache between passes.
var winoPieceFloats = 8 << 20

// wino is the plan of one Winograd convolution: a forward convolution of an (N, H, W, Cin) tensor
// into (N, P, Q, Cout) output tiles of m x m.
type wino struct {
	m, alpha, xis  int
	N, H, W, P, Q  int
	Cin, Cout, pad int
	TH, TW         int // tiles per image
	Ci, Co         int // Cin and Cout rounded up to 4
	step           int // images per batch piece
}

func newWino(op string, m, N, H, W, Cin, Cout, pad int, P, Q int) wino {
	if m != 2 && m != 4 {
		panic(fmt.Sprintf("ops.%s: Winograd tile %d (2 or 4)", op, m))
	}
	w := wino{m: m, alpha: m + 2, N: N, H: H, W: W, P: P, Q: Q, Cin: Cin, Cout: Cout, pad: pad,
		TH: ceilDiv(P, m), TW: ceilDiv(Q, m), Ci: ceilDiv(Cin, 4) * 4, Co: ceilDiv(Cout, 4) * 4}
	w.xis = w.alpha * w.alpha
	perImage := w.xis * w.TH * w.TW * max(w.Ci, w.Co)
	w.step = max(1, min(N, winoPieceFloats/perImage))
	return w
}

func checkWino(op string, p ref.Conv2D) {
	checkConv(op, p)
	if !WinogradOK(p) {
		panic(fmt.Sprintf("ops.%s: not a 3x3 stride-1 convolution with padding <= 2: %+v", op, p))
	}
}

// keptAt is where the transformed input of the piece from image n0 starts in a keep buffer, which
// holds the pieces back to back (Conv2DKeepFloats).
func (w wino) keptAt(n0 int) int { return w.xis * w.tiles(n0) * w.Ci }

// tiles is the number of tiles of a piece of n images.
func (w wino) tiles(n int) int { return n * w.TH * w.TW }

// winoBlockFloats sizes the tile blocks of F(4x4)'s v and o: the most tiles (a power of 2) whose rows
// of one frequency take at most this many floats; rows longer than this stay plain. An invocation
// group of a transform (8 lanes, eight channels each) covers 64 / L tiles, so two groups' stores (or
// loads) of all 36 frequencies fill one block. In one process against the plain layout (BENCHMARKS.md,
// 2026-12-01): at width 16's layer 1 (16 channels) blocks of 4 or 8 tiles made the input transform
// 1.11-1.31x faster, 1 tile 1.06-1.17x, 16 or 32 tiles slower; with 128 floats the transforms ran
// 1.1-1.5x faster at 16 to 128 channels, and F(2x2)'s 16 frequencies gained nothing.
var winoBlockFloats = 128

// blockShift is log2 of the tiles per block of a tensor of this plan with rows of L floats, or 31 for
// the plain layout. Every piece's tiles fill whole blocks, so a piece's tensors keep their plain size.
func (w wino) blockShift(L int) int {
	if winoBlockFloats <= 0 || w.m != 4 || L > winoBlockFloats {
		return 31
	}
	sh := 0
	for (2<<sh)*L <= winoBlockFloats {
		sh++
	}
	for sh > 0 && (w.tiles(w.step)%(1<<sh) != 0 || w.tiles(w.N%w.step)%(1<<sh) != 0) {
		sh--
	}
	return sh
}

// layout is where the frequencies and tile rows of a piece's tensor of T tiles with rows of L floats
// lie: the floats between frequencies, and WINO_ROW's shift and block size (shaders/common.glsl).
func (w wino) layout(T, L int, blocked bool) (xiStride, shift, blk int) {
	sh := w.blockShift(L)
	if sh == 31 || !blocked {
		return T * L, 31, 0
	}
	return L << sh, sh, w.xis * L << sh
}

// filterFloats, inFloats and outFloats size u, v and o for one piece.
func (w wino) filterFloats() int { return w.xis * w.Ci * w.Co }
func (w wino) inFloats() int     { return w.xis * w.tiles(w.step) * w.Ci }
func (w wino) outFloats() int    { return w.xis * w.tiles(w.step) * w.Co }

func (w wino) suffix() string { return fmt.Sprintf("f%d", w.m) }

// dataScratch is backward data's scratch: u, v, then o, which first holds the rotated filter
// (conv2d_winograd_rot) when the filter transform reads that.
func dataScratch(w wino, p ref.Conv2D) int {
	return w.filterFloats() + w.inFloats() + max(w.outFloats(), 9*p.C*p.K)
}

// fwdPlan and dataPlan are the forward and backward-data convolutions of p.
func fwdPlan(op string, m int, p ref.Conv2D) wino {
	return newWino(op, m, p.N, p.H, p.W, p.C, p.K, p.Pad, p.P(), p.Q())
}

func dataPlan(op string, m int, p ref.Conv2D) wino {
	return newWino(op, m, p.N, p.P(), p.Q(), p.K, p.C, 2-p.Pad, p.H, p.W)
}

// scratchSpan binds n float32s of scratch from element first as kind, which must be possible: the
// scratch layout keeps every part 16-byte aligned.
func (k *Kernels) scratchSpan(op string, scratch vk.Binding, first, n int, kind vk.DescKind) (vk.Binding, int) {
	b, off, ok := k.operand(scratch, first, n, kind)
	if !ok {
		panic(fmt.Sprintf("ops.%s: scratch must start 16-byte aligned and stay within the device's binding limits", op))
	}
	return b, off
}

// winoFilter records u = the filter transform of w (flip: rotated and transposed for backward data).
func (k *Kernels) winoFilter(s *vk.Seq, op string, w wino, p ref.Conv2D, flip bool, wt, scratch vk.Binding) {
	ub, uoff := k.scratchSpan(op, scratch, 0, w.filterFloats(), vk.Storage)
	wb, woff, ok := k.operand(wt, 0, 9*p.C*p.K, vk.Storage)
	if !ok {
		panic(fmt.Sprintf("ops.%s: weights exceed the storage-buffer range", op))
	}
	rows, cols := w.Ci, w.Co
	wtb, wtoff, okT := k.operand(wt, 0, 9*p.C*p.K, vk.TexelVec4)
	if flip && p.C%4 == 0 && p.K%4 == 0 && okT && wtoff%4 == 0 {
		// Rotate and transpose first (into the GEMM's output space, free until the GEMM), then
		// transform as a forward filter of K input and C output channels: both passes read along
		// rows. The transform's own flip runs 2.4-2.8x slower than the forward one (BENCHMARKS.md).
		rb, roff := k.scratchSpan(op, scratch, w.filterFloats()+w.inFloats(), 9*p.C*p.K, vk.Storage)
		k.dispatch1D(s, "conv2d_winograd_rot", 9*p.C*p.K/16, vk.Push(p.C, p.K, wtoff, roff), wtb, rb)
		rt, rtoff, _ := k.operand(scratch, w.filterFloats()+w.inFloats(), 9*p.C*p.K, vk.TexelVec4)
		k.winoFilterPass(s, w, p.K, p.C, rows, cols, false, rb, roff, rt, rtoff, ub, uoff)
		return
	}
	k.winoFilterPass(s, w, p.C, p.K, rows, cols, flip, wb, woff, wtb, wtoff, ub, uoff)
}

// winoFilterPass records the transform of a (3, 3, C, K) filter at element off of src (at toff of tex,
// its RGBA32F view, when that is bound) into u. Through the texel view when it can (no flip, K % 4 == 0):
// lavapipe reads a storage buffer lane by lane, a texel buffer with vector loads.
func (k *Kernels) winoFilterPass(s *vk.Seq, w wino, C, K, rows, cols int, flip bool, src vk.Binding, off int, tex vk.Binding, toff int, u vk.Binding, uoff int) {
	name := "conv2d_winograd_filter_" + w.suffix()
	if !flip && K%4 == 0 && tex.Buf != nil && toff%4 == 0 {
		name, per := name+"_t", 4
		if k.x8At(cols, uoff) {
			name, per = name+"_x8", 8
		}
		k.dispatch1D(s, name, rows*cols/per, vk.Push(C, K, rows, cols, false, rows*cols, toff, uoff), tex, u)
		return
	}
	k.dispatch1D(s, name, rows*cols/4, vk.Push(C, K, rows, cols, flip, rows*cols, off, uoff), src, u)
}

// winoIn records the transform of n images of src (N, H, W, C) from image n0 into v at element vFirst
// of scratch; dy selects the output-gradient transform (m x m tiles, no padding).
func (k *Kernels) winoIn(s *vk.Seq, w wino, dy bool, n0, n int, H, W, C, pad int, src, scratch vk.Binding, vFirst, cp int, blocked bool) {
	img := H * W * C
	T := w.tiles(n)
	vb, voff := k.scratchSpan("Winograd", scratch, vFirst, w.xis*T*cp, vk.Storage)
	name := "conv2d_winograd_in_"
	if dy {
		name += "dy_"
	}
	name += w.suffix()
	xb, xoff, ok := k.operand(src, n0*img, n*img, vk.TexelVec4)
	if C%4 != 0 || !ok {
		name += "_s"
		if xb, xoff, ok = k.operand(src, n0*img, n*img, vk.TexelFloat); !ok {
			panic("ops.Winograd: input exceeds the device's texel-buffer range")
		}
	}
	per := 4
	xs, sh, blk := w.layout(T, cp, blocked)
	if k.c1At(w, C, cp) {
		// One invocation a channel; the grid is (tile columns x channels, tile rows, images).
		if c1, c1off, ok := k.operand(src, n0*img, n*img, vk.TexelFloat); ok {
			p := k.pipe(strings.TrimSuffix(name, "_s") + "_c1")
			s.Dispatch(p, uint32(ceilDiv(w.TW*cp, int(p.Spec[0]))), uint32(w.TH), uint32(n),
				vk.Push(n, H, W, C, pad, w.TH, w.TW, cp, xs, c1off, voff, sh, blk), c1, vb)
			return
		}
	}
	if !strings.HasSuffix(name, "_s") && k.x8At(cp, voff) {
		name, per = name+"_x8", 8
	}
	k.dispatch1D(s, name, T*cp/per, vk.Push(n, H, W, C, pad, w.TH, w.TW, cp, xs, xoff, voff, sh, blk), xb, vb)
}

// rowGemm is the row-per-invocation form of the forward and backward-data GEMM
// (conv2d_winograd_gemm_row.comp) that w takes on this device, or "" for the tiled kernels: the cpu
// variant's _x8 forms (not Plain, shaderInt64, C at ooff a multiple of 8), 16 or 32 input channels
// (its K), and output channels a multiple of 16 (its column blocks). Against the tiles, one process
// each (BENCHMARKS.md, "a row per lane"): at 16 and 32 channels the GEMM 1.12-1.28x faster on
// lavapipe 25.0.7 with only the fused fma(), 1.11-1.24x on Debian 12's 22.3.6, and 1.48-1.62x on
// make's, which inlines texel-buffer fetches (tools/lavapipe/build.sh); at 64 0.86-1.03x and at 128
// 0.68-0.79x (on 25.0.7), so the tiles keep those.
func (k *Kernels) rowGemm(w wino, ooff int) string {
	if (w.Ci != 16 && w.Ci != 32) || w.Co%16 != 0 || !k.x8At(w.Co, ooff) {
		return ""
	}
	return fmt.Sprintf("conv2d_winograd_gemm_row_k%d_x8", w.Ci)
}

// c1At reports whether w's transforms of a tensor of C channels (cp after padding) take their
// channel-a-lane forms (the _c1 variants of conv2d_winograd_in.comp and conv2d_winograd_out.comp):
// F(4x4), C = cp a power of 2 from 8 up, and a driver that turns a subgroup's accesses to consecutive
// elements into one vector access each, which make's lavapipe does (tools/lavapipe/vkclr.patch marks its
// driverInfo "vkclr-vstore"); elsewhere every lane's element is a load or store of its own and the
// forms run slower than the eight-channel ones (BENCHMARKS.md, "a channel a lane"). Not under Plain.
func (k *Kernels) c1At(w wino, C, cp int) bool {
	if k.Plain || k.Variant != "cpu" || w.m != 4 || C != cp || C < 8 || C&(C-1) != 0 || k.lanes < 0 {
		return false
	}
	c := &k.Ctx.Caps
	return k.lanes > 0 || c.Driver == "llvmpipe" && strings.Contains(c.DriverInfo, "vkclr-vstore")
}

// winoForward records the forward convolution w describes: x (N, H, W, Cin) -> y (N, P, Q, Cout),
// the filter transform already in scratch; add: added to y instead. With keep bound, the transformed
// input goes there (piece after piece, keptAt) instead of scratch, for the grad weight of the same
// convolution.
func (k *Kernels) winoForward(s *vk.Seq, w wino, x, y, scratch, keep vk.Binding, add bool) {
	uN, vN := w.filterFloats(), w.inFloats()
	// v in blocks unless grad weight reads it (keep): its GEMM walks the tiles of one frequency and ran
	// up to 1.4x slower on blocks (BENCHMARKS.md, 2026-12-01), so z and its v stay plain.
	vBlocked := keep.Buf == nil
	// 16x16 tiles from 64 output channels: 1.05-1.09x on the GEMM at widths 64's four stages and
	// 1.04-1.2x at the demo's 64 and 128 against 16x8 (32x16 there: 1.0-1.07x, not kept); below 64,
	// 32x8: 1.06-1.1x against 16x8 at width 16's layer2; at 16 (one column of 16x16 tiles, unshared:
	// the shared form's subgroup spans four) 16x16 again, about 1.1x against 32x8 and within this
	// host's noise, no slower in two pairs (BENCHMARKS.md, 2026-12-01).
	gname := "conv2d_winograd_gemm_nn"
	if w.Co >= 64 || w.Co == 16 {
		gname = "conv2d_winograd_gemm_nn16"
		if k.shared8() && w.Co >= 64 {
			gname += "_s"
		}
	}
	for n0 := 0; n0 < w.N; n0 += w.step {
		n := min(w.step, w.N-n0)
		T := w.tiles(n)
		vbuf, vfirst := scratch, uN
		if keep.Buf != nil {
			vbuf, vfirst = keep, w.keptAt(n0)
		}
		k.winoIn(s, w, false, n0, n, w.H, w.W, w.Cin, w.pad, x, vbuf, vfirst, w.Ci, vBlocked)
		ub, uoff := k.scratchSpan("Winograd", scratch, 0, uN, vk.TexelVec4)
		vb, voff := k.scratchSpan("Winograd", vbuf, vfirst, w.xis*T*w.Ci, vk.TexelVec4)
		ob, ooff := k.scratchSpan("Winograd", scratch, uN+vN, w.xis*T*w.Co, vk.Storage)
		gname := gname
		if k.x8At(w.Co, ooff) {
			gname += "_x8"
		}
		gemm := k.pipe(gname)
		wg := int(gemm.Spec[0])
		tm, tn := cpuTiles(gname)
		tilesM, tilesN := ceilDiv(T, tm), ceilDiv(w.Co, tn)
		wgn := min(tilesN, 8, wg)
		if sharedForm(gname) {
			wgn = sharedWGN(tilesN)
		}
		gpx := ceilDiv(tilesM, wg/wgn) * ceilDiv(tilesN, wgn)
		gx, gy, gz := vk.Grid1D(k.Ctx, gpx*w.xis*wg, wg)
		if row := k.rowGemm(w, ooff); row != "" {
			gemm = k.pipe(row)
			wg = int(gemm.Spec[0])
			gx, gy, gz = uint32(w.Co/16), uint32(w.xis), uint32(ceilDiv(T, wg))
		}
		vxs, vsh, vblk := w.layout(T, w.Ci, vBlocked)
		oxs, osh, oblk := w.layout(T, w.Co, true)
		s.Dispatch(gemm, gx, gy, gz, vk.Push(T, w.Co, w.Ci, w.Ci, w.Co, w.Co, vxs, w.Ci*w.Co, oxs,
			voff, uoff, ooff, wgn, gpx, w.xis, 1, 0, 0, false, vsh, vblk, plainShift, plainBlk, osh, oblk), vb, ub, ob)
		out := w.P * w.Q * w.Cout
		mb, moff := k.scratchSpan("Winograd", scratch, uN+vN, w.xis*T*w.Co, vk.TexelVec4)
		name := "conv2d_winograd_out_" + w.suffix()
		yb, yoff, ok := k.operand(y, n0*out, n*out, vk.Storage)
		if !ok {
			panic("ops.Winograd: output exceeds the storage-buffer range; split the batch")
		}
		if k.c1At(w, w.Cout, w.Co) {
			k.winoOutC1(s, w, n, n0, out, add, uN+vN, oxs, osh, oblk, scratch, y, yb, yoff)
			continue
		}
		binds := []vk.Binding{mb, yb}
		ytoff := 0
		vec4 := w.Cout%4 == 0 && yoff%4 == 0
		if vec4 && add {
			// The vec4 _add reads y through a texel view (conv2d_winograd_out.comp).
			yt, o, ok := k.operand(y, n0*out, n*out, vk.TexelVec4)
			vec4 = ok
			binds, ytoff = append(binds, yt), o
		}
		per := 4
		if !vec4 {
			name += "_s"
			binds = binds[:2]
		} else if k.x8At(w.Cout, yoff) { // (then Co, Cout padded to 4, is Cout)
			name, per = name+"_x8", 8
		}
		if add {
			name += "_add"
		}
		k.dispatch1D(s, name, T*w.Co/per, vk.Push(n, w.P, w.Q, w.Cout, w.TH, w.TW, w.Co, oxs, moff, yoff, ytoff, osh, oblk), binds...)
	}
}

// winoOutC1 records winoForward's output transform of a piece of n images from image n0 in its
// channel-a-lane form (c1At): o from element oFirst of scratch, y (yb from yoff, its piece), out floats
// an image.
func (k *Kernels) winoOutC1(s *vk.Seq, w wino, n, n0, out int, add bool, oFirst, oxs, osh, oblk int, scratch, y, yb vk.Binding, yoff int) {
	T := w.tiles(n)
	mb, moff := k.scratchSpan("Winograd", scratch, oFirst, w.xis*T*w.Co, vk.TexelFloat)
	name, binds, ytoff := "conv2d_winograd_out_f4_c1", []vk.Binding{mb, yb}, 0
	if add {
		yt, o, ok := k.operand(y, n0*out, n*out, vk.TexelFloat)
		if !ok {
			panic("ops.Winograd: output exceeds the texel-buffer range; split the batch")
		}
		name, binds, ytoff = name+"_add", append(binds, yt), o
	}
	p := k.pipe(name)
	s.Dispatch(p, uint32(ceilDiv(w.TW*w.Co, int(p.Spec[0]))), uint32(w.TH), uint32(n),
		vk.Push(n, w.P, w.Q, w.Cout, w.TH, w.TW, w.Co, oxs, moff, yoff, ytoff, osh, oblk), binds...)
}

// Conv2DWinogradScratch is the scratch in float32s the Winograd kernels with tile m (2 or 4) need
// for direction dir ("fwd", "bwd_data", "bwd_weight") of p on this device.
func (k *Kernels) Conv2DWinogradScratch(p ref.Conv2D, dir string, m int) int {
	checkWino("Conv2DWinogradScratch", p)
	switch dir {
	case "fwd":
		w := fwdPlan("Conv2DWinogradScratch", m, p)
		return w.filterFloats() + w.inFloats() + w.outFloats()
	case "bwd_data":
		return dataScratch(dataPlan("Conv2DWinogradScratch", m, p), p)
	case "bwd_weight":
		w, chunks, _ := weightPlan(m, p, k.storageLimit())
		return w.inFloats() + w.outFloats() + chunks*w.filterFloats()
	}
	panic("ops.Conv2DWinogradScratch: direction " + dir + " (fwd, bwd_data or bwd_weight)")
}

// Conv2DForwardWinograd records y = conv2d(x, w) like Conv2DForward, for a 3x3 stride-1 p
// (WinogradOK), with m x m output tiles (m = 2 or 4); scratch holds at least
// Conv2DWinogradScratch(p, "fwd", m) float32s from a 16-byte aligned offset.
func (k *Kernels) Conv2DForwardWinograd(s *vk.Seq, p ref.Conv2D, m int, x, wt, y, scratch vk.Binding) {
	k.conv2DForwardWinograd(s, p, m, x, wt, y, scratch, vk.Binding{})
}

// conv2DForwardWinograd is Conv2DForwardWinograd leaving x's transform in keep when it is bound.
func (k *Kernels) conv2DForwardWinograd(s *vk.Seq, p ref.Conv2D, m int, x, wt, y, scratch, keep vk.Binding) {
	checkWino("Conv2DForwardWinograd", p)
	w := fwdPlan("Conv2DForwardWinograd", m, p)
	need("Conv2DForwardWinograd", "scratch", scratch, w.filterFloats()+w.inFloats()+w.outFloats())
	if keep.Buf != nil {
		need("Conv2DForwardWinograd", "keep", keep, w.keptAt(w.N))
	}
	k.winoFilter(s, "Conv2DForwardWinograd", w, p, false, wt, scratch)
	k.winoForward(s, w, x, y, scratch, keep, false)
}

// Conv2DBackwardDataWinograd records dx = dL/dx from dy like Conv2DBackwardData, as a Winograd forward
// convolution of dy with the rotated, transposed filter; scratch as Conv2DWinogradScratch(p, "bwd_data", m).
func (k *Kernels) Conv2DBackwardDataWinograd(s *vk.Seq, p ref.Conv2D, m int, dy, wt, dx, scratch vk.Binding) {
	k.conv2DBackwardDataWinograd(s, p, m, dy, wt, dx, scratch, false)
}

// Conv2DBackwardDataWinogradAdd is Conv2DBackwardDataWinograd adding dL/dx to what dx holds.
func (k *Kernels) Conv2DBackwardDataWinogradAdd(s *vk.Seq, p ref.Conv2D, m int, dy, wt, dx, scratch vk.Binding) {
	k.conv2DBackwardDataWinograd(s, p, m, dy, wt, dx, scratch, true)
}

func (k *Kernels) conv2DBackwardDataWinograd(s *vk.Seq, p ref.Conv2D, m int, dy, wt, dx, scratch vk.Binding, add bool) {
	checkWino("Conv2DBackwardDataWinograd", p)
	w := dataPlan("Conv2DBackwardDataWinograd", m, p)
	need("Conv2DBackwardDataWinograd", "scratch", scratch, dataScratch(w, p))
	k.winoFilter(s, "Conv2DBackwardDataWinograd", w, p, true, wt, scratch)
	k.winoForward(s, w, dy, dx, scratch, vk.Binding{}, add)
}

// weightPlan is backward weight's plan (tiles over the output, v from x, o holding z from dy, Ci x Co
// = Cp x Kp partials), its number of chunks, and the tiles each chunk reduces. Chunks give the
// device enough independent tiles; they depend only on the shape and the batch piece size.
func weightPlan(m int, p ref.Conv2D, storageLimit uint64) (w wino, chunks, chunkRows int) {
	w = fwdPlan("Conv2DBackwardWeightWinograd", m, p)
	T := w.tiles(w.step)
	tm, tn := cpuTiles("conv2d_winograd_gemm_tn")
	outTiles := w.xis * ceilDiv(w.Ci, tm) * ceilDiv(w.Co, tn)
	const wantTiles, minRows = 1024, 256
	chunks = max(1, min(ceilDiv(wantTiles, outTiles), T/minRows))
	chunks = min(chunks, max(1, int(storageLimit/uint64(4*w.filterFloats()))))
	chunkRows = ceilDiv(T, chunks)
	return w, ceilDiv(T, chunkRows), chunkRows
}

// Conv2DBackwardWeightWinograd records dw = dL/dw (overwritten) like Conv2DBackwardWeight, for a
// 3x3 stride-1 p; scratch holds Conv2DWinogradScratch(p, "bwd_weight", m) float32s.
func (k *Kernels) Conv2DBackwardWeightWinograd(s *vk.Seq, p ref.Conv2D, m int, x, dy, dw, scratch vk.Binding) {
	k.conv2DBackwardWeightWinograd(s, p, m, x, dy, dw, scratch, vk.Binding{})
}

// conv2DBackwardWeightWinograd is Conv2DBackwardWeightWinograd; with kept bound (what the forward
// left there, conv2DForwardWinograd's keep), it reads x's transform from kept instead of computing it.
func (k *Kernels) conv2DBackwardWeightWinograd(s *vk.Seq, p ref.Conv2D, m int, x, dy, dw, scratch, kept vk.Binding) {
	checkWino("Conv2DBackwardWeightWinograd", p)
	w, chunks, rows := weightPlan(m, p, k.storageLimit())
	vN, zN, sN := w.inFloats(), w.outFloats(), chunks*w.filterFloats()
	need("Conv2DBackwardWeightWinograd", "scratch", scratch, vN+zN+sN)
	if kept.Buf != nil {
		need("Conv2DBackwardWeightWinograd", "kept", kept, w.keptAt(w.N))
	}
	for n0 := 0; n0 < w.N; n0 += w.step {
		n := min(w.step, w.N-n0)
		T := w.tiles(n)
		vbuf, vfirst := kept, w.keptAt(n0)
		if kept.Buf == nil {
			vbuf, vfirst = scratch, 0
			k.winoIn(s, w, false, n0, n, p.H, p.W, p.C, p.Pad, x, scratch, 0, w.Ci, false)
			s.NoBarrier() // v and z are independent
		}
		k.winoIn(s, w, true, n0, n, w.P, w.Q, p.K, 0, dy, scratch, vN, w.Co, false)
		vb, voff := k.scratchSpan("Winograd", vbuf, vfirst, w.xis*T*w.Ci, vk.TexelVec4)
		zb, zoff := k.scratchSpan("Winograd", scratch, vN, w.xis*T*w.Co, vk.TexelVec4)
		sb, soff := k.scratchSpan("Winograd", scratch, vN+zN, sN, vk.Storage)
		gemm := k.pipe(k.gemmTN(w.Ci, w.Co, soff))
		c := ceilDiv(T, rows)
		gx, gy, gz := k.gridTN(gemm, c*w.xis, w.Ci, w.Co)
		vxs, vsh, vblk := w.layout(T, w.Ci, false)
		zxs, zsh, zblk := w.layout(T, w.Co, false)
		s.Dispatch(gemm, gx, gy, gz, vk.Push(w.Ci, w.Co, T, w.Ci, w.Co, w.Co, vxs, zxs, w.Ci*w.Co,
			voff, zoff, soff, 0, 0, w.xis, c, rows, w.xis*w.Ci*w.Co, n0 > 0, vsh, vblk, zsh, zblk, plainShift, plainBlk), vb, zb, sb)
	}
	sb, soff := k.scratchSpan("Winograd", scratch, vN+zN, sN, vk.TexelVec4)
	db, doff, ok := k.operand(dw, 0, 9*p.C*p.K, vk.Storage)
	if !ok {
		panic("ops.Conv2DBackwardWeightWinograd: dw exceeds the storage-buffer range")
	}
	name := "conv2d_winograd_wgrad_" + w.suffix()
	if p.K%4 == 0 && doff%4 == 0 {
		name += "_v" // vec4 stores
	}
	k.dispatch1D(s, name, p.C*w.Co/4,
		vk.Push(p.C, p.K, w.Co, chunks, w.Ci*w.Co, w.xis*w.Ci*w.Co, soff, doff), sb, db)
}

// WinogradTile is the Winograd tile (2 or 4) the model uses for direction dir ("fwd", "bwd_data",
// "bwd_weight") of p, or 0 for the direct kernel. Only the "cpu" variant takes Winograd: on lavapipe
// (`vkclr bench ops --op conv2d`, BENCHMARKS.md) F(4x4,3x3) measured 1.3-4x faster than the direct
// kernels in every direction at ResNet-18's 3x3 stride-1 shapes with 64 to 512 channels, and F(2x2,3x3)
// slower than F(4x4,3x3) at all of them. Since the GEMMs' 16x8 and 16x16 tiles it also wins with 32
// channels in every direction (1.15-1.7x, width 16's layer2). With 16 channels F(4x4) wins in every
// direction too, since the transforms store eight floats at a time (the _x8 forms) and the forward
// leaves its transformed input for grad weight: width 16's layer1 forward took 133 ms direct against
// 97 with F(4x4), and the width-16 step 1.11x (BENCHMARKS.md, 2026-12-01); measured
// before the _x8 forms, forward and backward data lost (0.8-0.86x). F(2x2) at 16 channels is left
// direct: on a 2x2 map a corner tap meets one pixel per image, so its gradient is often exactly zero
// (a ReLU'd input), the transforms leave ~1e-9 there instead, and AdamW's first steps turn that into a
// full-size update: two AdamW steps of a width-2 network at 16 px strayed from their float64 replay by
// 0.044 (normalized, one tensor's change; train.TestStepsMatchCPU holds them to 0.01), against 2.5e-5
// with F(4x4) at 32 px (its adamw_nesterov=false_32px case). The gpu variant has no Winograd kernels yet.
//
// The tile follows the output size too: a map smaller than a tile is mostly padding, and the GEMMs'
// work is tiles x (m+2)^2 per channel pair against the direct kernels' 9 x P x Q. The tile with the
// least work is taken when it has less than the direct kernels: F(4x4) from 3x3 outputs up (7x7:
// 4 tiles of 36 against F(2x2)'s 16 of 16), F(2x2) at 2x2 (16 against 36 and 36), the direct
// kernels at 1x1 (9 against 16). Measured at the demo preset's maps (width 32, batch 256,
// BENCHMARKS.md): at 2x2 F(2x2) took 3.9-5.0 ms a direction against F(4x4)'s 8.3-8.6, at 1x1 the
// direct kernels 4.8-23 against F(4x4)'s 30-37. (A full-window form of the 2x2 maps, F(2x2)'s
// multiplications as one GEMM per output pixel without the transforms, ran the demo's step 4.5%
// faster and was taken out again: commit eb1db85, BENCHMARKS.md.)
func (k *Kernels) WinogradTile(p ref.Conv2D, dir string) int {
	if k.Variant != "cpu" || !WinogradOK(p) || min(p.C, p.K) < 16 {
		return 0
	}
	P, Q := p.P(), p.Q()
	work := func(m int) int { return ceilDiv(P, m) * ceilDiv(Q, m) * (m + 2) * (m + 2) }
	m := 4
	if work(2) < work(4) {
		m = 2
	}
	if work(m) >= 9*P*Q {
		return 0
	}
	if min(p.C, p.K) < 32 && m != 4 {
		return 0
	}
	if uint64(4*k.Conv2DWinogradScratch(p, dir, m)) > k.storageLimit() {
		return 0
	}
	return m
}

// windowTaps reports whether p has a single output pixel whose filter window holds the whole image,
// as in a padded 3x3 convolution of a 1x1 map, or a stride-2 one of a 2x2 map (the last stage of an
// ImageNet-stem ResNet on 28-32 px images): output (0, 0) reads input (r - pad, s - pad), so input
// pixel (h, w) meets tap (pad + h, pad + w) and no other, and the taps that meet no pixel meet only
// padding. Then p is the 1x1 convolution q of the image as one pixel of H*W*C channels (x as it is)
// by those taps' weights: rows (pad + h, pad + w, c) of w (R, S, C, K), which are H blocks of W*C rows,
// block h from element blocks[h] of w. The direct kernels would multiply the padding's zeros too
// (5 of 9 taps for the 2x2 map); q's sums are the same products in the same order, without them. The
// other taps get no gradient.
func windowTaps(p ref.Conv2D) (q ref.Conv2D, blocks []int, ok bool) {
	if p.P() != 1 || p.Q() != 1 || p.Pad+p.H > p.R || p.Pad+p.W > p.S {
		return ref.Conv2D{}, nil, false
	}
	q = ref.Conv2D{N: p.N, H: 1, W: 1, C: p.H * p.W * p.C, K: p.K, R: 1, S: 1, Stride: 1, Pad: 0}
	for h := 0; h < p.H; h++ {
		blocks = append(blocks, ((p.Pad+h)*p.S+p.Pad)*p.C*p.K)
	}
	return q, blocks, true
}

// windowWeights is q's weights (windowTaps): w's one block where there is one (a 1x1 map), else the
// blocks copied one after the other to the start of scratch, which then holds them.
func (k *Kernels) windowWeights(s *vk.Seq, p, q ref.Conv2D, blocks []int, w, scratch vk.Binding) vk.Binding {
	if len(blocks) == 1 {
		return F32(w.Buf, int(w.Off/4)+blocks[0], q.C*q.K)
	}
	n := p.W * p.C * p.K
	for h, b := range blocks {
		if h > 0 {
			s.NoBarrier() // the copies write apart
		}
		s.Copy(F32(scratch.Buf, int(scratch.Off/4)+h*n, n), F32(w.Buf, int(w.Off/4)+b, n))
	}
	return F32(scratch.Buf, int(scratch.Off/4), q.C*q.K)
}

// windowScratch is the scratch windowTaps' q needs before its own: its gathered weights (or their
// gradient) where the image has more than one row.
func windowScratch(q ref.Conv2D, blocks []int) int {
	if len(blocks) == 1 {
		return 0
	}
	return (q.C*q.K + 3) / 4 * 4 // the rest starts on a vec4
}

// Conv2DScratch is the scratch in float32s that Conv2DForwardAuto, Conv2DBackwardDataAuto and
// Conv2DBackwardWeightAuto need for p on this device (at least 1).
func (k *Kernels) Conv2DScratch(p ref.Conv2D) int {
	n := max(1, k.Conv2DWeightScratch(p))
	if k.im2colPays(p) {
		n = max(n, k.Conv2DIm2colScratch(p))
	}
	if q, blocks, ok := windowTaps(p); ok {
		first := windowScratch(q, blocks)
		n = max(n, first+k.Conv2DWeightScratch(q))
		if k.im2colPays(q) {
			n = max(n, first+k.Conv2DIm2colScratch(q))
		}
	}
	for _, dir := range []string{"fwd", "bwd_data", "bwd_weight"} {
		if m := k.WinogradTile(p, dir); m > 0 {
			n = max(n, k.Conv2DWinogradScratch(p, dir, m))
		}
	}
	return n
}

// Conv2DForwardAuto records Conv2DForward, or its Winograd form where WinogradTile chooses it;
// scratch holds Conv2DScratch(p) float32s from a 16-byte aligned offset.
func (k *Kernels) Conv2DForwardAuto(s *vk.Seq, p ref.Conv2D, x, w, y, scratch vk.Binding) {
	k.Conv2DForwardAutoKeep(s, p, x, w, y, scratch, vk.Binding{})
}

// Conv2DKeepFloats is the size in float32s of what Conv2DForwardAutoKeep can leave for
// Conv2DBackwardWeightAutoKept: x's Winograd transform, which grad weight would otherwise compute
// again from x, when both directions take the same tile; 0 when there is nothing to keep. Keeping
// it costs memory (the width-64 CIFAR ResNet-18 at 2x64 images: 477 MiB) for time (that step
// 1.06-1.10x faster, BENCHMARKS.md).
func (k *Kernels) Conv2DKeepFloats(p ref.Conv2D) int {
	if _, _, ok := windowTaps(p); ok {
		return 0
	}
	m := k.WinogradTile(p, "fwd")
	if m == 0 || k.WinogradTile(p, "bwd_weight") != m {
		return 0
	}
	w := fwdPlan("Conv2DKeepFloats", m, p)
	return w.keptAt(w.N)
}

// Conv2DForwardAutoKeep is Conv2DForwardAuto that also leaves in keep, when it is bound (at least
// Conv2DKeepFloats(p) float32s from a 16-byte aligned offset), what Conv2DBackwardWeightAutoKept of
// the same x reads back.
func (k *Kernels) Conv2DForwardAutoKeep(s *vk.Seq, p ref.Conv2D, x, w, y, scratch, keep vk.Binding) {
	if q, blocks, ok := windowTaps(p); ok {
		k.Conv2DForward(s, q, x, k.windowWeights(s, p, q, blocks, w, scratch), y)
		return
	}
	if m := k.WinogradTile(p, "fwd"); m > 0 {
		if k.Conv2DKeepFloats(p) == 0 {
			keep = vk.Binding{}
		}
		k.conv2DForwardWinograd(s, p, m, x, w, y, scratch, keep)
		return
	}
	k.Conv2DForward(s, p, x, w, y)
}

// Conv2DBackwardDataAuto records Conv2DBackwardData or its Winograd form, like Conv2DForwardAuto.
func (k *Kernels) Conv2DBackwardDataAuto(s *vk.Seq, p ref.Conv2D, dy, w, dx, scratch vk.Binding) {
	k.conv2DBackwardDataAuto(s, p, dy, w, dx, scratch, false)
}

// Conv2DBackwardDataAutoAdd is Conv2DBackwardDataAuto adding dL/dx to what dx holds: a tensor's
// second gradient contribution (a residual block's input) without a separate add pass.
func (k *Kernels) Conv2DBackwardDataAutoAdd(s *vk.Seq, p ref.Conv2D, dy, w, dx, scratch vk.Binding) {
	k.conv2DBackwardDataAuto(s, p, dy, w, dx, scratch, true)
}

func (k *Kernels) conv2DBackwardDataAuto(s *vk.Seq, p ref.Conv2D, dy, w, dx, scratch vk.Binding, add bool) {
	if q, blocks, ok := windowTaps(p); ok {
		k.conv2DBackwardData(s, q, dy, k.windowWeights(s, p, q, blocks, w, scratch), dx, add)
		return
	}
	if m := k.WinogradTile(p, "bwd_data"); m > 0 {
		k.conv2DBackwardDataWinograd(s, p, m, dy, w, dx, scratch, add)
		return
	}
	k.conv2DBackwardData(s, p, dy, w, dx, add)
}

// Conv2DBackwardWeightAuto records Conv2DBackwardWeight, its Winograd form, or its im2col GEMM
// (im2colPays), like Conv2DForwardAuto.
func (k *Kernels) Conv2DBackwardWeightAuto(s *vk.Seq, p ref.Conv2D, x, dy, dw, scratch vk.Binding) {
	k.Conv2DBackwardWeightAutoKept(s, p, x, dy, dw, scratch, vk.Binding{})
}

// Conv2DBackwardWeightAutoKept is Conv2DBackwardWeightAuto reading x's transform from kept, when it
// is bound and Conv2DKeepFloats(p) > 0: Conv2DForwardAutoKeep of the same x left it there.
func (k *Kernels) Conv2DBackwardWeightAutoKept(s *vk.Seq, p ref.Conv2D, x, dy, dw, scratch, kept vk.Binding) {
	if q, blocks, ok := windowTaps(p); ok {
		need("Conv2DBackwardWeightAuto", "dw", dw, p.R*p.S*p.C*p.K)
		s.Fill(F32(dw.Buf, int(dw.Off/4), p.R*p.S*p.C*p.K), 0) // the taps that never meet the image
		if len(blocks) == 1 {
			k.conv2DBackwardWeightGEMM(s, q, x, dy, F32(dw.Buf, int(dw.Off/4)+blocks[0], q.C*q.K), scratch)
			return
		}
		// q's gradient to the start of scratch (its own scratch after it), then each block to its rows.
		first := windowScratch(q, blocks)
		need("Conv2DBackwardWeightAuto", "scratch", scratch, first+1)
		rest := F32(scratch.Buf, int(scratch.Off/4)+first, int(scratch.Size/4)-first)
		k.conv2DBackwardWeightGEMM(s, q, x, dy, F32(scratch.Buf, int(scratch.Off/4), q.C*q.K), rest)
		n := p.W * p.C * p.K
		for h, b := range blocks {
			if h > 0 {
				s.NoBarrier() // the copies write apart
			}
			s.Copy(F32(dw.Buf, int(dw.Off/4)+b, n), F32(scratch.Buf, int(scratch.Off/4)+h*n, n))
		}
		return
	}
	if m := k.WinogradTile(p, "bwd_weight"); m > 0 {
		if k.Conv2DKeepFloats(p) == 0 {
			kept = vk.Binding{}
		}
		k.conv2DBackwardWeightWinograd(s, p, m, x, dy, dw, scratch, kept)
		return
	}
	k.conv2DBackwardWeightGEMM(s, p, x, dy, dw, scratch)
}

// conv2DBackwardWeightGEMM records the im2col GEMM where im2colPays and x and dy start on a vec4
// texel, else the direct kernel.
func (k *Kernels) conv2DBackwardWeightGEMM(s *vk.Seq, p ref.Conv2D, x, dy, dw, scratch vk.Binding) {
	if k.im2colPays(p) && x.Off%16 == 0 && dy.Off%16 == 0 {
		k.Conv2DBackwardWeightIm2col(s, p, x, dy, dw, scratch)
		return
	}
	k.Conv2DBackwardWeight(s, p, x, dy, dw, scratch)
}

// sharedForm reports whether GEMM name is a subgroup-shuffle (_s) form, with or without _x8.
func sharedForm(name string) bool { return strings.HasSuffix(strings.TrimSuffix(name, "_x8"), "_s") }

// shared8 reports whether the cpu variant's 16x16 GEMMs take their subgroup-shuffle forms (the _s
// variants of conv2d_winograd_gemm.comp): subgroups of exactly 8 lanes with shuffles (lavapipe at its
// default 256 bits), whole subgroups in a workgroup, and Plain not set.
func (k *Kernels) shared8() bool {
	c := &k.Ctx.Caps
	return !k.Plain && c.SubgroupSize == 8 && c.SubgroupCompute && c.SubgroupShuffle &&
		int(k.pipe("conv2d_winograd_gemm_tn_s").Spec[0])%8 == 0
}

// gemmTN is the grad-weight GEMM (C (+)= A^T B in chunks) this device takes for an M x N output: the
// _s form when its 2 x 4 blocks of 16x16 tiles keep at least 3 of 4 lanes busy (2 row tiles, 3 column
// tiles): at 16 and 32 channels (1 x 1 and 2 x 2 tiles) most lanes would idle, and the width-16 step
// ran 0.9x with it there. The _x8 form where C's rows (N floats) and its first float coff are
// multiples of 8.
func (k *Kernels) gemmTN(M, N, coff int) string {
	tm, tn := cpuTiles("conv2d_winograd_gemm_tn")
	name := "conv2d_winograd_gemm_tn"
	if k.shared8() && ceilDiv(M, tm) >= 2 && ceilDiv(N, tn) >= 3 {
		name += "_s"
	}
	if k.x8At(N, coff) {
		name += "_x8"
	}
	return name
}

// gridTN is the grid of gemm (gemmTN's) over parts (chunks x frequencies) outputs of M x N: one
// invocation a 16x16 tile, or for the _s form one subgroup a block of 2 x 4 tiles (lanes past the
// edge included).
func (k *Kernels) gridTN(gemm *vk.Pipeline, parts, M, N int) (x, y, z uint32) {
	tm, tn := cpuTiles("conv2d_winograd_gemm_tn")
	n := parts * ceilDiv(M, tm) * ceilDiv(N, tn)
	if sharedForm(gemm.Name) {
		n = parts * ceilDiv(ceilDiv(M, tm), 2) * ceilDiv(ceilDiv(N, tn), 4) * 8
	}
	return vk.Grid1D(k.Ctx, n, int(gemm.Spec[0]))
}
