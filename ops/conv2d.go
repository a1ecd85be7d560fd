// Conv2D on the device as implicit GEMMs (no im2col buffer): forward, backward data, backward weight.
// N batch, H W input size, C in-channels, K out-channels, R S kernel size, P Q output size;
// x (N, H, W, C), w (R, S, C, K), y (N, P, Q, K). See shaders/conv2d_*.comp.
package ops

import (
	"fmt"
	"strings"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	for _, op := range []string{"conv2d_fwd", "conv2d_bwd_data", "conv2d_bwd_weight"} {
		register(op+"_cpu_v4", kernelDef{module: op + "_cpu_v4", bindings: []vk.DescKind{vk.TexelVec4, vk.TexelVec4, vk.Storage}, push: convPushSize, spec: cpuLocal})
		register(op+"_cpu_s", kernelDef{module: op + "_cpu_s", bindings: []vk.DescKind{vk.TexelFloat, vk.TexelFloat, vk.Storage}, push: convPushSize, spec: cpuLocal})
		register(op+"_gpu", kernelDef{module: op + "_gpu", bindings: storage(3), push: convPushSize, spec: gpuLocal})
		// The same kernel specialized to narrow blocks (gpuLocalNarrow, gpuConvPipe).
		register(op+"_gpu_n32", kernelDef{module: op + "_gpu", bindings: storage(3), push: convPushSize, spec: gpuLocalNarrow(32)})
		register(op+"_gpu_n64", kernelDef{module: op + "_gpu", bindings: storage(3), push: convPushSize, spec: gpuLocalNarrow(64)})
	}
	// Backward data's 32x16 tile (v4t), and its _add variants: adding to the gradient dx holds (accumulate).
	// The vec4 _add variants read what dx holds through a texel view (binding 3; convDispatch).
	for _, v := range []string{"v4t", "v4_add", "v4t_add", "s_add"} {
		binds := []vk.DescKind{vk.TexelVec4, vk.TexelVec4, vk.Storage}
		switch v {
		case "s_add":
			binds = []vk.DescKind{vk.TexelFloat, vk.TexelFloat, vk.Storage}
		case "v4_add", "v4t_add":
			binds = append(binds, vk.TexelVec4)
		}
		name := "conv2d_bwd_data_cpu_" + v
		register(name, kernelDef{module: name, bindings: binds, push: convPushSize, spec: cpuLocal})
	}
	// The subgroup-shuffle forms (sharedConv).
	for _, name := range []string{"conv2d_fwd_cpu_v4_s4", "conv2d_fwd_cpu_v4c1_s4", "conv2d_fwd_cpu_v4c3_s4",
		"conv2d_bwd_data_cpu_v4_s4", "conv2d_bwd_data_cpu_v4_add_s4"} {
		binds := []vk.DescKind{vk.TexelVec4, vk.TexelVec4, vk.Storage}
		if name == "conv2d_bwd_data_cpu_v4_add_s4" {
			binds = append(binds, vk.TexelVec4)
		}
		register(name, kernelDef{module: name, bindings: binds, push: convPushSize, spec: cpuLocal})
	}
	// Every vec4 form's _x8: eight floats a store (common.glsl, Kernels.x8).
	for _, name := range []string{"conv2d_fwd_cpu_v4", "conv2d_fwd_cpu_v4c1", "conv2d_fwd_cpu_v4c3", "conv2d_fwd_cpu_v4_s4",
		"conv2d_fwd_cpu_v4c1_s4", "conv2d_fwd_cpu_v4c3_s4", "conv2d_bwd_data_cpu_v4", "conv2d_bwd_data_cpu_v4t",
		"conv2d_bwd_data_cpu_v4_add", "conv2d_bwd_data_cpu_v4t_add", "conv2d_bwd_data_cpu_v4_s4", "conv2d_bwd_data_cpu_v4_add_s4"} {
		binds := []vk.DescKind{vk.TexelVec4, vk.TexelVec4, vk.Storage}
		if strings.Contains(name, "_add") {
			binds = append(binds, vk.TexelVec4)
		}
		register(name+"_x8", kernelDef{module: name + "_x8", bindings: binds, push: convPushSize, spec: cpuLocal})
	}
	// Forward for a 4-channel input of which only 1 (c1) or 2-3 (c3) channels can be nonzero (UsedC).
	for _, v := range []string{"v4c1", "v4c3"} {
		register("conv2d_fwd_cpu_"+v, kernelDef{module: "conv2d_fwd_cpu_" + v, bindings: []vk.DescKind{vk.TexelVec4, vk.TexelVec4, vk.Storage}, push: convPushSize, spec: cpuLocal})
	}
	// The forward a pixel a lane (rowForward).
	for _, v := range []string{"c4u3r3_x8", "c16r1_x8", "c32r1_x8"} {
		v = "conv2d_fwd_row_" + v
		register(v, kernelDef{module: v, bindings: []vk.DescKind{vk.TexelVec4, vk.TexelVec4, vk.Storage}, push: 11 * 4, spec: cpuLocal})
	}
	register("conv2d_bwd_weight_cpu_v4q", kernelDef{module: "conv2d_bwd_weight_cpu_v4q", bindings: []vk.DescKind{vk.TexelVec4, vk.TexelVec4, vk.Storage}, push: convPushSize, spec: cpuLocal})
}

// convPush is the part of shaders/conv2d_common.glsl's push block that is not the shape.
type convPush struct {
	off            [3]int // element offsets in bindings 0, 1, 2
	wgn            int
	ph, pw, hp, wp int // backward data: phase and its pixel counts
	rowsPerChunk   int // backward weight
	groupsPerChunk int
	blockBegin     int // backward weight, cpu: rows of each chunk this dispatch reduces
	blockEnd       int
	accumulate     bool
	off3           int  // backward data, cpu vec4 _add: dx's first float in its texel view (binding 3)
	quad           bool // backward weight, cpu: the four-pixels-per-trip vec4 kernel (not pushed)
}

const convPushSize = 25 * 4

func (c convPush) bytes(p ref.Conv2D) []byte {
	return vk.Push(p.N, p.H, p.W, p.C, p.K, p.R, p.S, p.Stride, p.Pad, p.P(), p.Q(),
		c.off[0], c.off[1], c.off[2], c.wgn, c.ph, c.pw, c.hp, c.wp, c.rowsPerChunk, c.groupsPerChunk,
		c.blockBegin, c.blockEnd, c.accumulate, c.off3)
}

func checkConv(op string, p ref.Conv2D) {
	if p.N <= 0 || p.H <= 0 || p.W <= 0 || p.C <= 0 || p.K <= 0 || p.R <= 0 || p.S <= 0 || p.Stride <= 0 ||
		p.Pad < 0 || p.H+2*p.Pad < p.R || p.W+2*p.Pad < p.S {
		panic(fmt.Sprintf("ops.%s: invalid shape %+v", op, p))
	}
}

// span is a range of float32s of a binding that a kernel reads or writes.
type span struct {
	b        vk.Binding
	first, n int
}

// convDispatch records one conv kernel (base + "_cpu_v4", "_cpu_s" or "_gpu") whose output is an
// M x cols matrix, repeated for `chunks` reduction chunks. The cpu style needs k.Variant "cpu" and
// both inputs bindable as texel buffers (vec4 when vec4 is set, and then an output offset that is
// a multiple of 4 float32s when vec4Out is set); otherwise the gpu style runs.
func (k *Kernels) convDispatch(s *vk.Seq, base string, vec4, vec4Out bool, p ref.Conv2D, cp convPush, M, cols, chunks int, in0, in1, out span) {
	ob, ooff, ok := k.operand(out.b, out.first, out.n, vk.Storage)
	if !ok {
		panic(fmt.Sprintf("ops.%s: output of %d bytes exceeds the device's storage-buffer range", base, 4*out.n))
	}
	cp.off[2] = ooff
	if k.Variant == "cpu" {
		kinds := []vk.DescKind{vk.TexelVec4, vk.TexelFloat}
		if !vec4 || (vec4Out && ooff%4 != 0) {
			kinds = kinds[1:]
		}
		for _, kind := range kinds {
			b0, o0, ok0 := k.operand(in0.b, in0.first, in0.n, kind)
			b1, o1, ok1 := k.operand(in1.b, in1.first, in1.n, kind)
			if !ok0 || !ok1 {
				continue
			}
			name := base + "_cpu_v4"
			if base == "conv2d_fwd" && skipsPadding(p) {
				// The stem of a 1- or 3-channel image: 1.7x (1 channel) and 1.13-1.16x (3) at the
				// demo's and CIFAR's stems (BENCHMARKS.md, midday).
				suffix := "c3"
				if p.UsedC == 1 {
					suffix = "c1"
				}
				name += suffix
			} else if cp.quad {
				name += "q"
			} else if cols <= 16 && base == "conv2d_bwd_data" {
				name += "t" // 32 x 16 tiles: one column tile, twice the rows
			}
			if kind == vk.TexelFloat {
				name = base + "_cpu_s"
			}
			binds := []vk.Binding{b0, b1, ob}
			if cp.accumulate && base == "conv2d_bwd_data" {
				name += "_add"
				if kind == vk.TexelVec4 {
					// What dx holds, read through a texel view (conv2d_bwd_data_cpu.comp); where none
					// can be made, the scalar kernel, which reads it from the storage view.
					t3, o3, ok3 := k.operand(out.b, out.first, out.n, vk.TexelVec4)
					if !ok3 {
						continue
					}
					binds, cp.off3 = append(binds, t3), o3
				}
			}
			tm, tn := cpuTiles(name)
			tilesM, tilesN := ceilDiv(M, tm), ceilDiv(cols, tn)
			shared := sharedConv(name, tilesN) && k.shared8()
			if shared {
				name += "_s4"
			}
			if kind == vk.TexelVec4 && base != "conv2d_bwd_weight" && k.x8At(cols, ooff) {
				name += "_x8" // eight floats a store (common.glsl)
			}
			pipe := k.pipe(name)
			wg := int(pipe.Spec[0])
			cp.wgn = min(tilesN, 8, wg)
			if shared {
				cp.wgn = sharedWGN(tilesN)
			}
			cp.groupsPerChunk = ceilDiv(tilesM, wg/cp.wgn) * ceilDiv(tilesN, cp.wgn)
			cp.off[0], cp.off[1] = o0, o1
			gx, gy, gz := vk.Grid1D(k.Ctx, cp.groupsPerChunk*chunks*wg, wg)
			s.Dispatch(pipe, gx, gy, gz, cp.bytes(p), binds...)
			return
		}
	}
	b0, o0, ok0 := k.gpuOperand(in0.b, in0.first, in0.n)
	b1, o1, ok1 := k.gpuOperand(in1.b, in1.first, in1.n)
	if !ok0 || !ok1 {
		panic(fmt.Sprintf("ops.%s: inputs exceed the device's storage-buffer range; split the batch", base))
	}
	pipe := k.gpuConvPipe(base, cols)
	bm, bn, nt := gpuBlock(pipe)
	cp.groupsPerChunk = ceilDiv(M, bm) * ceilDiv(cols, bn)
	cp.off[0], cp.off[1] = o0, o1
	gx, gy, gz := vk.Grid1D(k.Ctx, cp.groupsPerChunk*chunks*nt, nt)
	s.Dispatch(pipe, gx, gy, gz, cp.bytes(p), b0, b1, ob)
}

// sharedConv reports whether direct kernel name has an _s4 form for tilesN column tiles. The forms
// share both operands in blocks of 2 x 4 tiles, so they need at least 3 column tiles: 1.1-1.4x at 64
// channels and up, the stems included (BENCHMARKS.md). With one column tile (width 16's 16-channel
// maps) sharing the weights alone among 8 row tiles measured 0.9-1.05x and is not built.
func sharedConv(name string, tilesN int) bool {
	switch name {
	case "conv2d_fwd_cpu_v4", "conv2d_fwd_cpu_v4c1", "conv2d_fwd_cpu_v4c3", "conv2d_bwd_data_cpu_v4", "conv2d_bwd_data_cpu_v4_add":
		return tilesN >= 3
	}
	return false
}

// sharedWGN is the tiles across a workgroup of a shared form (_s, _s4) for tilesN column tiles: one
// subgroup of 2 x 4 tiles across, or two when there are more than 4 column tiles (the plain kernels'
// 8, which keeps the rows' reuse in cache and every lane busy on short maps).
func sharedWGN(tilesN int) int {
	if tilesN > 4 {
		return 8
	}
	return 4
}

// skipsPadding reports a stem's padded input: 4 channels of which only the first UsedC (1 to 3) can be
// nonzero, whose products the cpu forward (v4c1, v4c3) and im2col grad weight (conv2d_im2col_u) skip.
func skipsPadding(p ref.Conv2D) bool { return p.C == 4 && p.UsedC > 0 && p.UsedC < p.C }

// cpuTileOf is the register tile (rows x columns of the output per invocation) of each cpu kernel
// compiled with other than cpuTile x cpuTile (TM, TN on its //!variant line; TestCPUTilesMatchShaders
// checks the two agree). lavapipe gathers every texel lane by lane, so larger tiles (fewer loads per
// multiply-add) pay despite spilling accumulators. Measured on an AVX-512 Xeon against 8x8
// (`vkclr bench ops`, BENCHMARKS.md): forward 16x16 1.2-1.5x; backward data 16x16 1.15-1.2x at 16
// and 32 channels; grad weight four pixels per trip 16x8 1.1x (16x16 lost at 16 channels: too few
// tiles); Winograd's per-frequency GEMMs 16x8 1.2-1.35x (16x16 from 64 output channels, another
// 1.05-1.09x; below 64, 32x8, another 1.06-1.1x at 32 channels), and its grad-weight reduction 16x16
// 1.25-1.4x. Forward at 32x16 against 16x16: 1.05-1.17x (stems, stride 2, 1x1, width 16's layer1
// and layer2); backward data takes 32x16 (v4t) only with 16 columns or fewer (1.12x at width 16's
// layer1; 0.97-1.03x at 64 channels).
var cpuTileOf = map[string][2]int{
	"conv2d_fwd_cpu_v4":                {32, 16},
	"conv2d_fwd_cpu_v4c1":              {32, 16},
	"conv2d_fwd_cpu_v4c3":              {32, 16},
	"conv2d_bwd_data_cpu_v4":           {16, 16},
	"conv2d_bwd_data_cpu_v4t":          {32, 16},
	"conv2d_bwd_data_cpu_v4_add":       {16, 16},
	"conv2d_bwd_data_cpu_v4t_add":      {32, 16},
	"conv2d_bwd_weight_cpu_v4q":        {16, 8},
	"conv2d_fwd_cpu_v4_s4":             {32, 16},
	"conv2d_fwd_cpu_v4c1_s4":           {32, 16},
	"conv2d_fwd_cpu_v4c3_s4":           {32, 16},
	"conv2d_bwd_data_cpu_v4_s4":        {16, 16},
	"conv2d_bwd_data_cpu_v4_add_s4":    {16, 16},
	"conv2d_fwd_cpu_v4_x8":             {32, 16},
	"conv2d_fwd_cpu_v4c1_x8":           {32, 16},
	"conv2d_fwd_cpu_v4c3_x8":           {32, 16},
	"conv2d_fwd_cpu_v4_s4_x8":          {32, 16},
	"conv2d_fwd_cpu_v4c1_s4_x8":        {32, 16},
	"conv2d_fwd_cpu_v4c3_s4_x8":        {32, 16},
	"conv2d_bwd_data_cpu_v4_x8":        {16, 16},
	"conv2d_bwd_data_cpu_v4t_x8":       {32, 16},
	"conv2d_bwd_data_cpu_v4_add_x8":    {16, 16},
	"conv2d_bwd_data_cpu_v4t_add_x8":   {32, 16},
	"conv2d_bwd_data_cpu_v4_s4_x8":     {16, 16},
	"conv2d_bwd_data_cpu_v4_add_s4_x8": {16, 16},
	"conv2d_winograd_gemm_nn":          {32, 8},
	"conv2d_winograd_gemm_nn16":        {16, 16},
	"conv2d_winograd_gemm_nn16_s":      {16, 16},
	"conv2d_winograd_gemm_tn":          {16, 16},
	"conv2d_winograd_gemm_tn_s":        {16, 16},
	"conv2d_winograd_gemm_nn_x8":       {32, 8},
	"conv2d_winograd_gemm_nn16_x8":     {16, 16},
	"conv2d_winograd_gemm_nn16_s_x8":   {16, 16},
	"conv2d_winograd_gemm_tn_x8":       {16, 16},
	"conv2d_winograd_gemm_tn_s_x8":     {16, 16},
}

// cpuTiles is the register tile a cpu kernel was compiled with.
func cpuTiles(name string) (tm, tn int) {
	if t, ok := cpuTileOf[name]; ok {
		return t[0], t[1]
	}
	return cpuTile, cpuTile
}

// batchPieces splits the batch so every image range of x and y fits one storage binding
// (a ResNet-18 layer1 activation at 2x512 images is 256 MiB, twice lavapipe's limit).
func (k *Kernels) batchPieces(p ref.Conv2D) int {
	perImage := 4 * uint64(max(p.H*p.W*p.C, p.P()*p.Q()*p.K))
	return max(1, min(p.N, int(k.storageLimit()/perImage)))
}

// Conv2DForward records y = conv2d(x, w): rows are the N*P*Q output pixels, columns the K channels,
// the reduction (r, s, c) gathered from x on the fly. Fastest with C % 4 == 0 and K % 4 == 0.
func (k *Kernels) Conv2DForward(s *vk.Seq, p ref.Conv2D, x, w, y vk.Binding) {
	checkConv("Conv2DForward", p)
	P, Q := p.P(), p.Q()
	img, out := p.H*p.W*p.C, P*Q*p.K
	step := k.batchPieces(p)
	for n0 := 0; n0 < p.N; n0 += step {
		q := p
		q.N = min(step, p.N-n0)
		if n0 > 0 {
			s.NoBarrier() // pieces write disjoint outputs
		}
		if k.rowConv(s, q, x, w, y, n0*img, n0*out) {
			continue
		}
		k.convDispatch(s, "conv2d_fwd", p.C%4 == 0 && p.K%4 == 0, true, q, convPush{}, q.N*P*Q, p.K, 1,
			span{x, n0 * img, q.N * img}, span{w, 0, p.R * p.S * p.C * p.K}, span{y, n0 * out, q.N * out})
	}
}

// rowForward is the pixel-a-lane forward kernel (conv2d_fwd_row.comp) this device
// takes for q, or "" for the register tiles: the cpu variant's _x8 forms, output channels a multiple of
// 16 (its column blocks), and either a CIFAR stem (3x3, stride 1, padding 1, 2 or 3 used channels of 4)
// or a 1x1 kernel over 16 or 32 input channels (any stride). Against the tiles, in the width-16 and
// width-64 steps (BENCHMARKS.md, "a row per lane"): the stem's forward 2.0-2.7x faster, the 1x1
// downsampling 4-6x; the same bits. At 3x3 over 16 and 32 channels (stride 2) the row form measured
// no faster, and the tiles keep it.
func (k *Kernels) rowForward(q ref.Conv2D) string {
	if !k.x8() || q.K%16 != 0 || q.R != q.S {
		return ""
	}
	if (q.UsedC == 2 || q.UsedC == 3) && q.C == 4 && q.R == 3 && q.Stride == 1 && q.Pad == 1 {
		return "conv2d_fwd_row_c4u3r3_x8" // the products of a 2-channel stem's zero channel are exact zeros, as in the c3 tiles
	}
	if (q.UsedC == 0 || q.UsedC == q.C) && (q.C == 16 || q.C == 32) && q.R == 1 {
		return fmt.Sprintf("conv2d_fwd_row_c%dr%d_x8", q.C, q.R)
	}
	return ""
}

// rowConv records the forward convolution q (images from float x0 of x, outputs from y0 of y) with
// its rowForward kernel and reports true, or records nothing and reports false where there is none or
// the bindings do not suit it (x and w as vec4 texels, y's first float a multiple of 8).
func (k *Kernels) rowConv(s *vk.Seq, q ref.Conv2D, x, w, y vk.Binding, x0, y0 int) bool {
	name := k.rowForward(q)
	if name == "" {
		return false
	}
	M := q.N * q.P() * q.Q()
	xb, xo, ok0 := k.operand(x, x0, q.N*q.H*q.W*q.C, vk.TexelVec4)
	wb, wo, ok1 := k.operand(w, 0, q.R*q.S*q.C*q.K, vk.TexelVec4)
	yb, yo, ok2 := k.operand(y, y0, M*q.K, vk.Storage)
	if !ok0 || !ok1 || !ok2 || yo%8 != 0 {
		return false
	}
	pipe := k.pipe(name)
	groups := ceilDiv(M, int(pipe.Spec[0]))
	gz := ceilDiv(groups, 65535) // maxComputeWorkGroupCount is at least 65535 in each dimension
	s.Dispatch(pipe, uint32(q.K/16), uint32(ceilDiv(groups, gz)), uint32(gz),
		vk.Push(M, q.H, q.W, q.P(), q.Q(), q.K, q.Stride, q.Pad, xo, wo, yo), xb, wb, yb)
	return true
}

// Conv2DBackwardData records dx = dL/dx from dy = dL/dy (dx overwritten), one implicit GEMM per
// phase (h % stride, w % stride) so taps that reach no output pixel are skipped, not multiplied by
// zero. Fastest with K % 4 == 0.
func (k *Kernels) Conv2DBackwardData(s *vk.Seq, p ref.Conv2D, dy, w, dx vk.Binding) {
	k.conv2DBackwardData(s, p, dy, w, dx, false)
}

// Conv2DBackwardDataAdd is Conv2DBackwardData adding dL/dx to what dx holds.
func (k *Kernels) Conv2DBackwardDataAdd(s *vk.Seq, p ref.Conv2D, dy, w, dx vk.Binding) {
	k.conv2DBackwardData(s, p, dy, w, dx, true)
}

func (k *Kernels) conv2DBackwardData(s *vk.Seq, p ref.Conv2D, dy, w, dx vk.Binding, add bool) {
	checkConv("Conv2DBackwardData", p)
	P, Q := p.P(), p.Q()
	img, out := p.H*p.W*p.C, P*Q*p.K
	step := k.batchPieces(p)
	first := true
	for n0 := 0; n0 < p.N; n0 += step {
		q := p
		q.N = min(step, p.N-n0)
		for ph := 0; ph < p.Stride; ph++ {
			for pw := 0; pw < p.Stride; pw++ {
				hp, wp := ceilDiv(max(p.H-ph, 0), p.Stride), ceilDiv(max(p.W-pw, 0), p.Stride)
				if hp == 0 || wp == 0 {
					continue
				}
				if add && ((ph+p.Pad)%p.Stride >= p.R || (pw+p.Pad)%p.Stride >= p.S) {
					// No tap reaches this phase's pixels (3 of the 4 phases of a 1x1 stride-2
					// convolution): their gradient gets nothing to add. Written fresh, they get zeros.
					continue
				}
				if !first && !(add && ph+pw > 0 && k.Variant == "cpu") {
					// Phases and pieces write disjoint pixels. But the cpu _add kernels read dx through a
					// texel view of the whole piece, which a phase before wrote: a barrier there.
					s.NoBarrier()
				}
				first = false
				cp := convPush{ph: ph, pw: pw, hp: hp, wp: wp, accumulate: add}
				k.convDispatch(s, "conv2d_bwd_data", p.K%4 == 0 && p.C%4 == 0, true, q, cp, q.N*hp*wp, p.C, 1,
					span{dy, n0 * out, q.N * out}, span{w, 0, p.R * p.S * p.C * p.K}, span{dx, n0 * img, q.N * img})
			}
		}
	}
}

// weightChunks splits grad weight's reduction over the N*P output rows (n, p) into chunks of
// rowsPerChunk rows, reduced in parallel into separate partials: enough chunks to fill the device,
// none shorter than a few thousand pixels (cpu) or a few hundred (gpu), and the partials of all
// `pieces` batch pieces (see weightPieces) within one storage binding. The cpu kernels reduce each chunk in blocks of blockRows rows, one dispatch
// each: 1024 pixels, or fewer (down to 256) where the block's x and dy would pass 1 MiB, so they stay
// in a CPU's L2 cache while every workgroup passes over them (measured on lavapipe, Xeon: layer4's
// 4x4 512->512 at 256 pixels 1.3-1.4x faster than at 1024; 32x32 and 16x16 best at 1024, where adding
// to the partials costs least next to the block's arithmetic); the gpu kernels take a chunk at once. The split depends only on the shape and the device, so results are bit-identical from
// run to run.
func (k *Kernels) weightChunks(p ref.Conv2D, pieces int) (chunks, rowsPerChunk, blockRows int) {
	rows, pix := p.N*p.P(), p.N*p.P()*p.Q()
	rsck := p.R * p.S * p.C * p.K
	var want, minPix int
	if k.Variant == "cpu" {
		tm, tn := cpuTiles("conv2d_bwd_weight_cpu_v4")
		tiles := ceilDiv(p.R*p.S*p.C, tm) * ceilDiv(p.K, tn)
		want, minPix = ceilDiv(2048, tiles), 2048
	} else {
		bm, bn, _ := gpuBlock(k.gpuConvPipe("conv2d_bwd_weight", p.K)) // the block convDispatch takes
		groups := ceilDiv(p.R*p.S*p.C, bm) * ceilDiv(p.K, bn)
		want, minPix = ceilDiv(512, groups), 512
	}
	chunks = max(1, min(want, pix/minPix, int(k.storageLimit()/uint64(4*rsck))/pieces))
	rowsPerChunk = ceilDiv(rows, chunks)
	chunks = ceilDiv(rows, rowsPerChunk)
	blockRows = rowsPerChunk
	if k.Variant == "cpu" {
		const cacheBytes = 1 << 20
		bytesPerPix := 4 * (p.C*p.Stride*p.Stride + p.K) // x under the taps, and dy
		blockPix := min(max(cacheBytes/bytesPerPix, 256), 1024)
		blockRows = min(rowsPerChunk, max(1, blockPix/p.Q()))
	}
	return chunks, rowsPerChunk, blockRows
}

// weightPieces calls f for the batch pieces of grad weight (batchPieces: x and dy of each fit one
// storage binding), each with its own reduction chunks; c0 is the piece's first chunk among all.
// One piece is the whole batch.
func (k *Kernels) weightPieces(p ref.Conv2D, f func(q ref.Conv2D, n0, c0, chunks, rpc, blk int)) (total int) {
	step := k.batchPieces(p)
	pieces := ceilDiv(p.N, step)
	for n0 := 0; n0 < p.N; n0 += step {
		q := p
		q.N = min(step, p.N-n0)
		chunks, rpc, blk := k.weightChunks(q, pieces)
		if f != nil {
			f(q, n0, total, chunks, rpc, blk)
		}
		total += chunks
	}
	return total
}

// Conv2DWeightScratch is the size in float32s of the partial-sum buffer Conv2DBackwardWeight
// needs for p on this device; 0 means none (pass the zero Binding).
func (k *Kernels) Conv2DWeightScratch(p ref.Conv2D) int {
	checkConv("Conv2DWeightScratch", p)
	chunks := k.weightPieces(p, nil)
	if chunks == 1 {
		return 0
	}
	return chunks * p.R * p.S * p.C * p.K
}

// Conv2DBackwardWeight records dw = dL/dw (overwritten) from x and dy. The reduction over the
// N*P*Q output pixels is split into chunks whose partial sums go to scratch (at least
// Conv2DWeightScratch(p) float32s) and are then added in a fixed order: no float atomics. A batch
// whose x or dy exceeds one storage binding is reduced piece by piece, each piece into its own
// chunks. Fastest with C % 4 == 0 and K % 4 == 0.
func (k *Kernels) Conv2DBackwardWeight(s *vk.Seq, p ref.Conv2D, x, dy, dw, scratch vk.Binding) {
	checkConv("Conv2DBackwardWeight", p)
	total := k.weightPieces(p, nil)
	rsck := p.R * p.S * p.C * p.K
	if total > 1 && (scratch.Buf == nil || scratch.Size < uint64(4*total*rsck)) {
		panic(fmt.Sprintf("ops.Conv2DBackwardWeight: scratch needs %d float32s (Conv2DWeightScratch)", total*rsck))
	}
	img, out := p.H*p.W*p.C, p.P()*p.Q()*p.K
	k.weightPieces(p, func(q ref.Conv2D, n0, c0, chunks, rpc, blk int) {
		o := span{dw, 0, rsck}
		if total > 1 {
			o = span{scratch, c0 * rsck, chunks * rsck}
		}
		for b0 := 0; b0 < rpc; b0 += blk {
			if n0 > 0 && b0 == 0 {
				s.NoBarrier() // pieces write disjoint partials
			}
			// Four pixels per trip pays where rows are long (measured on lavapipe: 1.1-1.2x at Q >= 16,
			// slower at Q = 4).
			cp := convPush{rowsPerChunk: rpc, blockBegin: b0, blockEnd: b0 + blk, accumulate: b0 > 0, quad: p.Q() >= 16}
			k.convDispatch(s, "conv2d_bwd_weight", p.C%4 == 0 && p.K%4 == 0, true, q, cp, p.R*p.S*p.C, p.K, chunks,
				span{x, n0 * img, q.N * img}, span{dy, n0 * out, q.N * out}, o)
		}
	})
	if total > 1 {
		sb, soff, ok := k.operand(scratch, 0, total*rsck, vk.Storage)
		db, doff, ok2 := k.operand(dw, 0, rsck, vk.Storage)
		if !ok || !ok2 {
			panic(fmt.Sprintf("ops.Conv2DBackwardWeight: %d partial sums of %d float32s exceed one storage binding", total, rsck))
		}
		k.dispatch1D(s, "colsum", rsck, vk.Push(rsck, total, soff, doff), sb, db)
	}
}
