package ops

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

// TestWinogradError logs each Winograd row's error beside its tolerance, the figures winoTol's
// factors come from: go test ./ops -run TestWinogradError -v.
func TestWinogradError(t *testing.T) {
	k := kernels(t, "cpu")
	for _, c := range winogradCases() {
		r := Check(k, c)
		if r.Err != nil {
			t.Errorf("%s/%s: %v", c.Op, c.Name, r.Err)
		}
		t.Logf("%-28s %-36s max %.3g (atol %.3g)  norm %.3g (nerr %.3g)", c.Op, c.Name, r.MaxErr, c.Tol.Atol, r.NormErr, c.Tol.Nerr)
	}
}

// TestWinogradPieces runs the Winograd rows with batch pieces of at most one image and partials
// capped at two chunks, so every row that has more than one image goes through the piece loop,
// and backward weight accumulates its chunks across pieces.
func TestWinogradPieces(t *testing.T) {
	k := kernels(t, "cpu")
	defer func(f int) { winoPieceFloats, testStorageLimit = f, 0 }(winoPieceFloats)
	winoPieceFloats = 1
	for _, c := range winogradCases() {
		if strings.HasPrefix(c.Name, "N1_") {
			continue
		}
		p, m := winoCaseShape(t, c.Name)
		if c.Op == "conv2d_winograd_bwd_weight" {
			_, chunks, _ := weightPlan(m, p, math.MaxUint64)
			w := fwdPlan("", m, p)
			testStorageLimit = uint64(4 * 2 * w.filterFloats())
			if chunks > 2 {
				t.Logf("%s: %d chunks capped to 2", c.Name, chunks)
			}
		}
		if r := Check(k, c); r.Err != nil {
			t.Errorf("%s/%s: %v", c.Op, c.Name, r.Err)
		}
		testStorageLimit = 0
	}
}

// winoCaseShape finds the shape and tile of a row from its name.
func winoCaseShape(t *testing.T, name string) (ref.Conv2D, int) {
	name = strings.TrimSuffix(name, "_plain")
	for _, p := range winogradShapes {
		for _, m := range []int{2, 4} {
			if name == fmt.Sprintf("%s_f%d", convName(p), m) {
				return p, m
			}
		}
	}
	t.Fatalf("no shape for %s", name)
	return ref.Conv2D{}, 0
}

// TestWinogradBlocks: F(4x4)'s v and o lie in blocks of as many tiles as 128 floats of one frequency
// hold (fewer where a batch piece's tiles would not fill them), rows longer than that and F(2x2)'s stay
// plain, and the rows are right when the last piece fills smaller blocks than the others.
func TestWinogradBlocks(t *testing.T) {
	defer func(f int) { winoPieceFloats = f }(winoPieceFloats)
	for _, c := range []struct {
		p        ref.Conv2D
		m, L, sh int
	}{
		{ref.Conv2D{N: 512, H: 32, W: 32, C: 16, K: 16}, 4, 16, 3},  // width 16's layer 1: 8 tiles
		{ref.Conv2D{N: 512, H: 16, W: 16, C: 32, K: 32}, 4, 32, 2},  // layer 2: 4
		{ref.Conv2D{N: 512, H: 8, W: 8, C: 64, K: 64}, 4, 64, 1},    // layer 3: 2
		{ref.Conv2D{N: 512, H: 4, W: 4, C: 128, K: 128}, 4, 128, 0}, // layer 4: 1
		{ref.Conv2D{N: 64, H: 4, W: 4, C: 256, K: 256}, 4, 256, 31}, // plain
		{ref.Conv2D{N: 512, H: 32, W: 32, C: 16, K: 16}, 2, 16, 31}, // F(2x2): plain
		{ref.Conv2D{N: 1, H: 3, W: 3, C: 16, K: 16}, 4, 16, 0},      // one tile
		{ref.Conv2D{N: 3, H: 7, W: 3, C: 16, K: 16}, 4, 16, 1},      // 6 tiles: blocks of 2
	} {
		c.p.R, c.p.S, c.p.Stride, c.p.Pad = 3, 3, 1, 1
		if got := fwdPlan("", c.m, c.p).blockShift(c.L); got != c.sh {
			t.Errorf("%s F%d, rows of %d: block shift %d, want %d", convName(c.p), c.m, c.L, got, c.sh)
		}
	}
	p := winogradShapes[len(winogradShapes)-1] // 3 images of 2 tiles
	w := fwdPlan("", 4, p)
	winoPieceFloats = 2 * w.xis * w.TH * w.TW * max(w.Ci, w.Co) // pieces of 2 images, then 1
	if w = fwdPlan("", 4, p); w.step != 2 || w.blockShift(w.Ci) != 1 {
		t.Fatalf("pieces of %d images, block shift %d: want 2 and 1 (the last piece's 2 tiles)", w.step, w.blockShift(w.Ci))
	}
	k := kernels(t, "cpu")
	checked := 0
	for _, c := range winogradCases() {
		if !strings.HasPrefix(c.Name, convName(p)+"_f4") {
			continue
		}
		checked++
		if r := Check(k, c); r.Err != nil {
			t.Errorf("%s/%s: %v", c.Op, c.Name, r.Err)
		}
	}
	if checked < 4 {
		t.Fatalf("%d rows of %s checked", checked, convName(p))
	}
}

// TestWinogradDeterministic runs all three directions twice, backward weight with its reduction
// split into chunks and batch pieces, and wants bit-identical outputs.
func TestWinogradDeterministic(t *testing.T) {
	p := ref.Conv2D{N: 6, H: 48, W: 47, C: 12, K: 20, R: 3, S: 3, Stride: 1, Pad: 1}
	defer func(f int) { winoPieceFloats = f }(winoPieceFloats)
	nx, nw, ny := p.N*p.H*p.W*p.C, 9*p.C*p.K, p.N*p.P()*p.Q()*p.K
	for _, v := range []string{"cpu", "gpu"} {
		k := kernels(t, v)
		for _, m := range []int{2, 4} {
			w := fwdPlan("", m, p)
			winoPieceFloats = 4 * w.xis * w.TH * w.TW * w.Co // pieces of 4 and 2 images
			if _, chunks, _ := weightPlan(m, p, k.storageLimit()); chunks < 2 || fwdPlan("", m, p).step >= p.N {
				t.Fatalf("F%d: the shape should split into chunks and pieces", m)
			}
			sc := max(k.Conv2DWinogradScratch(p, "fwd", m), k.Conv2DWinogradScratch(p, "bwd_data", m), k.Conv2DWinogradScratch(p, "bwd_weight", m))
			var runs [2][][]uint32
			for r := range runs {
				runs[r] = runOnce(t, k, [][]float32{Randn(nx, 1), Randn(nw, 2), Randn(ny, 3)}, nil, []int{ny, nx, nw, sc},
					func(k *Kernels, s *vk.Seq, in, out []vk.Binding, _ vk.Binding) {
						k.Conv2DForwardWinograd(s, p, m, in[0], in[1], out[0], out[3])
						k.Conv2DBackwardDataWinograd(s, p, m, in[2], in[1], out[1], out[3])
						k.Conv2DBackwardWeightWinograd(s, p, m, in[0], in[2], out[2], out[3])
					})
			}
			for i := 0; i < 3; i++ {
				for j := range runs[0][i] {
					if runs[0][i][j] != runs[1][i][j] {
						t.Fatalf("%s F%d: output %d element %d: %g then %g", v, m, i, j,
							math.Float32frombits(runs[0][i][j]), math.Float32frombits(runs[1][i][j]))
					}
				}
			}
		}
	}
}

// TestWinogradPushBlocks checks that each Winograd shader's push-constant block has as many
// fields as its registration.
func TestWinogradPushBlocks(t *testing.T) {
	for src, kernel := range map[string]string{
		"conv2d_winograd_in.comp":     "conv2d_winograd_in_dy_f4_s",
		"conv2d_winograd_out.comp":    "conv2d_winograd_out_f2",
		"conv2d_winograd_filter.comp": "conv2d_winograd_filter_f4",
		"conv2d_winograd_wgrad.comp":  "conv2d_winograd_wgrad_f2",
		"conv2d_winograd_gemm.comp":   "conv2d_winograd_gemm_tn",
	} {
		data, err := os.ReadFile(filepath.Join("..", "shaders", src))
		if err != nil {
			t.Fatal(err)
		}
		if fields, want := pushFields(t, string(data)), int(registry[kernel].push)/4; fields != want {
			t.Errorf("%s: push block of %d fields, %s registers %d", src, fields, kernel, want)
		}
	}
}

// TestWinogradTileByMapSize: the cpu variant takes the tile with the least work for the map, and the
// single-tap path for a padded filter on a 1x1 map (conv2dAutoShapes run each path against the
// reference).
func TestWinogradTileByMapSize(t *testing.T) {
	k := kernels(t, "cpu")
	for _, c := range []struct {
		p      ref.Conv2D
		m      int
		single bool
	}{
		{conv2dAutoShapes[0], 0, true},
		{conv2dAutoShapes[2], 0, true},
		{conv2dAutoShapes[3], 2, false},
		{conv2dAutoShapes[4], 4, false},
		{conv2dAutoShapes[5], 4, false},
		{conv2dAutoShapes[6], 0, false},
		{ref.Conv2D{N: 256, H: 4, W: 4, C: 512, K: 512, R: 3, S: 3, Stride: 1, Pad: 1}, 4, false},
		{ref.Conv2D{N: 256, H: 32, W: 32, C: 64, K: 64, R: 3, S: 3, Stride: 1, Pad: 1}, 4, false},
		{ref.Conv2D{N: 2, H: 1, W: 1, C: 32, K: 32, R: 3, S: 3, Stride: 1, Pad: 2}, 4, false}, // a 3x3 output
	} {
		for _, dir := range []string{"fwd", "bwd_data", "bwd_weight"} {
			if m := k.WinogradTile(c.p, dir); m != c.m {
				t.Errorf("%s %s: tile %d, want %d", convName(c.p), dir, m, c.m)
			}
		}
		if _, b, ok := windowTaps(c.p); (ok && len(b) == 1) != c.single {
			t.Errorf("%s: single tap %v, want %v", convName(c.p), ok, c.single)
		}
	}
	// 16 to 31 channels: F(4x4) only, never F(2x2) (WinogradTile's doc says why); under 16, direct.
	for _, c := range []struct {
		p                 ref.Conv2D
		fwd, data, weight int
	}{
		{ref.Conv2D{N: 512, H: 32, W: 32, C: 16, K: 16, R: 3, S: 3, Stride: 1, Pad: 1}, 4, 4, 4},
		{ref.Conv2D{N: 8, H: 4, W: 4, C: 16, K: 16, R: 3, S: 3, Stride: 1, Pad: 1}, 4, 4, 4},
		{ref.Conv2D{N: 8, H: 2, W: 2, C: 16, K: 16, R: 3, S: 3, Stride: 1, Pad: 1}, 0, 0, 0},
		{ref.Conv2D{N: 8, H: 32, W: 32, C: 8, K: 16, R: 3, S: 3, Stride: 1, Pad: 1}, 0, 0, 0},
		{ref.Conv2D{N: 8, H: 32, W: 32, C: 16, K: 32, R: 3, S: 3, Stride: 1, Pad: 1}, 4, 4, 4},
		{ref.Conv2D{N: 8, H: 2, W: 2, C: 24, K: 32, R: 3, S: 3, Stride: 1, Pad: 1}, 0, 0, 0},
	} {
		for dir, want := range map[string]int{"fwd": c.fwd, "bwd_data": c.data, "bwd_weight": c.weight} {
			if m := k.WinogradTile(c.p, dir); m != want {
				t.Errorf("%s %s: tile %d, want %d", convName(c.p), dir, m, want)
			}
		}
	}
}

// TestIm2colPieces runs the im2col grad-weight rows with batch pieces of one image and partials
// capped at two chunks, so every row with more than one image accumulates its chunks across pieces
// (a 1x1 stride-1 row, whose matrix is x, is cut only by the storage range).
func TestIm2colPieces(t *testing.T) {
	k := kernels(t, "cpu")
	defer func(f int) { im2colPieceFloats, testStorageLimit = f, 0 }(im2colPieceFloats)
	im2colPieceFloats = 1
	pieced := 0
	for i, c := range im2colCases() {
		p := im2colShapes()[i]
		if p.N == 1 {
			continue
		}
		testStorageLimit = uint64(4 * max(2*p.R*p.S*p.C*p.K, p.P()*p.Q()*p.R*p.S*p.C, p.H*p.W*p.C, p.P()*p.Q()*p.K))
		if step, xIsCols, _, _ := k.im2colPlan(p); step != 1 && !xIsCols {
			t.Fatalf("%s: pieces of %d images, want 1", c.Name, step)
		} else if step == 1 {
			pieced++
		}
		if r := Check(k, c); r.Err != nil {
			t.Errorf("%s/%s: %v", c.Op, c.Name, r.Err)
		}
	}
	testStorageLimit = 0
	if pieced < 10 {
		t.Fatalf("only %d rows ran in pieces", pieced)
	}
}

// TestWinogradKeptPieces runs the rows whose grad weight reads the forward's kept transform with
// batch pieces of one image, so every piece's transform must land at its own place in keep.
func TestWinogradKeptPieces(t *testing.T) {
	k := kernels(t, "cpu")
	defer func(f int) { winoPieceFloats = f }(winoPieceFloats)
	winoPieceFloats = 1
	kept := 0
	cs := conv2dAutoCases()
	per := len(cs) / len(conv2dAutoShapes)
	for i, c := range cs {
		p := conv2dAutoShapes[i/per]
		if c.Name != convName(p) {
			t.Fatalf("row %d is %s, not of shape %s: %d rows a shape expected", i, c.Name, convName(p), per)
		}
		if c.Op != "conv2d_auto_bwd_weight_kept" || p.N == 1 || k.Conv2DKeepFloats(p) == 0 {
			continue
		}
		kept++
		if r := Check(k, c); r.Err != nil {
			t.Errorf("%s/%s: %v", c.Op, c.Name, r.Err)
		}
	}
	if kept < 2 {
		t.Fatalf("only %d rows keep the transform in pieces", kept)
	}
}

// TestSharedFormsMatchPlain: the subgroup-shuffle forms (conv2d_winograd_gemm's _s GEMMs, the direct
// kernels' _s4) hand every accumulator the same products in the same order as the plain ones, so all
// three Winograd directions, the im2col grad weight and the direct forward and backward data come out
// bit-identical either way. The shapes cut 16x16 tiles at both edges (68 and 76 channels, 11 x 8 x 7 =
// 616 Winograd tiles) and reduce grad weight in two chunks of 308 rows, whose last trip is shorter than
// the shared eight-row step.
func TestSharedFormsMatchPlain(t *testing.T) {
	k := kernels(t, "cpu")
	if !k.shared8() {
		t.Skipf("%s does not take the shared forms (subgroups of %d lanes)", k.Ctx.Caps.Name, k.Ctx.Caps.SubgroupSize)
	}
	p := ref.Conv2D{N: 11, H: 30, W: 26, C: 76, K: 68, R: 3, S: 3, Stride: 1, Pad: 1}
	q := ref.Conv2D{N: 7, H: 9, W: 9, C: 52, K: 76, R: 3, S: 3, Stride: 2, Pad: 1} // direct and im2col
	// A 1-channel stem with 4 column tiles, so the forward takes c1_s4_x8 (a K of 24 took only c1_x8,
	// and a bug planted in the _s4 form went unseen), and im2col's used-channel rows.
	st := ref.Conv2D{N: 5, H: 15, W: 13, C: 4, K: 56, R: 7, S: 7, Stride: 2, Pad: 3, UsedC: 1}
	nx, nw, ny := p.N*p.H*p.W*p.C, 9*p.C*p.K, p.N*p.P()*p.Q()*p.K
	qx, qw, qy := q.N*q.H*q.W*q.C, 9*q.C*q.K, q.N*q.P()*q.Q()*q.K
	sx, sw, sy := st.N*st.H*st.W*st.C, 49*st.C*st.K, st.N*st.P()*st.Q()*st.K
	sc := max(k.Conv2DWinogradScratch(p, "fwd", 4), k.Conv2DWinogradScratch(p, "bwd_data", 4),
		k.Conv2DWinogradScratch(p, "bwd_weight", 4), k.Conv2DIm2colScratch(q), k.Conv2DIm2colScratch(st))
	stemX := Randn(sx, 7)
	for i := range stemX {
		if i%4 >= st.UsedC {
			stemX[i] = 0 // a padded image
		}
	}
	if _, chunks, rows := weightPlan(4, p, k.storageLimit()); chunks < 2 || rows%8 == 0 {
		t.Fatalf("the grad weight should reduce in chunks with a tail: %d chunks of %d rows", chunks, rows)
	}
	var runs [2][][]uint32
	defer func() { k.Plain = false }() // the other tests share k
	for r := range runs {
		k.Plain = r == 1
		runs[r] = runOnce(t, k, [][]float32{Randn(nx, 1), Randn(nw, 2), Randn(ny, 3), Randn(qx, 4), Randn(qy, 5), Randn(qw, 6),
			stemX, Randn(sy, 8), Randn(sw, 9)}, nil,
			[]int{ny, nx, nw, qw, qy, qx, sc, sw, sy},
			func(k *Kernels, s *vk.Seq, in, out []vk.Binding, _ vk.Binding) {
				k.Conv2DForwardWinograd(s, p, 4, in[0], in[1], out[0], out[6])
				k.Conv2DBackwardDataWinograd(s, p, 4, in[2], in[1], out[1], out[6])
				k.Conv2DBackwardWeightWinograd(s, p, 4, in[0], in[2], out[2], out[6])
				k.Conv2DBackwardWeightIm2col(s, q, in[3], in[4], out[3], out[6])
				k.Conv2DForward(s, q, in[3], in[5], out[4])
				k.Conv2DBackwardData(s, q, in[4], in[5], out[5])
				k.Conv2DBackwardWeightIm2col(s, st, in[6], in[7], out[7], out[6])
				k.Conv2DForward(s, st, in[6], in[8], out[8])
			})
	}
	for i, name := range []string{"y", "dx", "dw", "im2col dw", "direct y", "direct dx", "", "stem im2col dw", "stem y"} {
		if name == "" {
			continue // the scratch
		}
		for j := range runs[0][i] {
			if runs[0][i][j] != runs[1][i][j] {
				t.Fatalf("%s element %d: shared %g, plain %g", name, j,
					math.Float32frombits(runs[0][i][j]), math.Float32frombits(runs[1][i][j]))
			}
		}
	}
}

// TestRowFormsMatchPlain: the row-per-invocation GEMM (conv2d_winograd_gemm_row.comp, 16 and 32 input
// channels) gives the tiled kernels' bits, forward and backward data, at shapes whose tiles do not
// fill its 64-row workgroups, and with two column blocks (16 -> 32 channels forward; backward data
// then runs K = 32 into 16). rowGemm must choose it for each of them and not elsewhere.
func TestRowFormsMatchPlain(t *testing.T) {
	k := kernels(t, "cpu")
	if !k.x8() {
		t.Skipf("%s does not take the _x8 forms (shaderInt64)", k.Ctx.Caps.Name)
	}
	for _, c := range []struct {
		cin, cout int
		want      string
	}{{16, 16, "conv2d_winograd_gemm_row_k16_x8"}, {32, 48, "conv2d_winograd_gemm_row_k32_x8"},
		{64, 64, ""}, {16, 24, ""}, {12, 16, ""}, {32, 16, "conv2d_winograd_gemm_row_k32_x8"}} {
		w := newWino("test", 4, 2, 8, 8, c.cin, c.cout, 1, 8, 8)
		if got := k.rowGemm(w, 0); got != c.want {
			t.Errorf("rowGemm(%d -> %d channels) = %q, want %q", c.cin, c.cout, got, c.want)
		}
		if got := k.rowGemm(w, 4); got != "" {
			t.Errorf("rowGemm(%d -> %d channels) at a C offset of 4 floats = %q, want the tiles", c.cin, c.cout, got)
		}
	}
	k.Plain = true
	if got := k.rowGemm(newWino("test", 4, 2, 8, 8, 16, 16, 1, 8, 8), 0); got != "" {
		t.Errorf("rowGemm under Plain = %q, want the tiles", got)
	}
	k.Plain = false
	defer func() { k.Plain = false }() // the other tests share k
	for _, p := range []ref.Conv2D{
		{N: 3, H: 13, W: 11, C: 16, K: 16, R: 3, S: 3, Stride: 1, Pad: 1},
		{N: 2, H: 9, W: 10, C: 32, K: 32, R: 3, S: 3, Stride: 1, Pad: 1},
		{N: 2, H: 8, W: 7, C: 16, K: 32, R: 3, S: 3, Stride: 1, Pad: 0},
	} {
		nx, nw, ny := p.N*p.H*p.W*p.C, 9*p.C*p.K, p.N*p.P()*p.Q()*p.K
		sc := max(k.Conv2DWinogradScratch(p, "fwd", 4), k.Conv2DWinogradScratch(p, "bwd_data", 4))
		var runs [2][][]uint32
		for r := range runs {
			k.Plain = r == 1
			runs[r] = runOnce(t, k, [][]float32{Randn(nx, 1), Randn(nw, 2), Randn(ny, 3)}, nil, []int{ny, nx, sc},
				func(k *Kernels, s *vk.Seq, in, out []vk.Binding, _ vk.Binding) {
					k.Conv2DForwardWinograd(s, p, 4, in[0], in[1], out[0], out[2])
					k.Conv2DBackwardDataWinograd(s, p, 4, in[2], in[1], out[1], out[2])
				})
		}
		for i, name := range []string{"y", "dx"} {
			for j := range runs[0][i] {
				if runs[0][i][j] != runs[1][i][j] {
					t.Fatalf("%+v %s element %d: row form %g, tiles %g", p, name, j,
						math.Float32frombits(runs[0][i][j]), math.Float32frombits(runs[1][i][j]))
				}
			}
		}
	}
}

// TestChannelLanesMatchEight checks the Winograd transforms' channel-a-lane forms (c1At: the _c1
// variants of conv2d_winograd_in.comp and conv2d_winograd_out.comp) against their eight-channel forms
// bit for bit, in every direction that runs them: the input transform, the output transform with and
// without adding to dx (which holds the first backward data when the second adds to it), and grad
// weight's output-gradient transform. The same arithmetic per channel gives the same bits. Shapes with
// partial tiles, padding 0 and 1, batch 1, 8 to 32 channels; and where c1At takes them.
func TestChannelLanesMatchEight(t *testing.T) {
	k := kernels(t, "cpu")
	defer func(l int) { k.lanes = l }(k.lanes) // the other tests share k
	k.lanes = 1
	for _, c := range []struct {
		m, C, cp int
		want     bool
	}{{4, 16, 16, true}, {4, 8, 8, true}, {4, 128, 128, true}, {2, 16, 16, false}, {4, 12, 12, false},
		{4, 24, 24, false}, {4, 4, 4, false}, {4, 14, 16, false}} {
		if got := k.c1At(wino{m: c.m}, c.C, c.cp); got != c.want {
			t.Errorf("c1At(F(%d), %d channels, %d padded) = %v, want %v", c.m, c.C, c.cp, got, c.want)
		}
	}
	k.Plain = true
	if k.c1At(wino{m: 4}, 16, 16) {
		t.Error("c1At under Plain = true, want false")
	}
	k.Plain = false
	k.lanes = -1
	if k.c1At(wino{m: 4}, 16, 16) {
		t.Error("c1At with the forms turned off = true, want false")
	}
	for _, p := range []ref.Conv2D{
		{N: 3, H: 13, W: 11, C: 16, K: 16, R: 3, S: 3, Stride: 1, Pad: 1},
		{N: 2, H: 9, W: 10, C: 8, K: 32, R: 3, S: 3, Stride: 1, Pad: 0},
		{N: 1, H: 6, W: 7, C: 32, K: 8, R: 3, S: 3, Stride: 1, Pad: 1},
	} {
		nx, nw, ny := p.N*p.H*p.W*p.C, 9*p.C*p.K, p.N*p.P()*p.Q()*p.K
		sc := max(k.Conv2DWinogradScratch(p, "fwd", 4), k.Conv2DWinogradScratch(p, "bwd_data", 4),
			k.Conv2DWinogradScratch(p, "bwd_weight", 4))
		var runs [2][][]uint32
		for r := range runs {
			k.lanes = 1 - 2*r // run 0 the channel-a-lane forms, run 1 the eight-channel ones
			runs[r] = runOnce(t, k, [][]float32{Randn(nx, 1), Randn(nw, 2), Randn(ny, 3)}, nil, []int{ny, nx, nw, sc},
				func(k *Kernels, s *vk.Seq, in, out []vk.Binding, _ vk.Binding) {
					k.Conv2DForwardWinograd(s, p, 4, in[0], in[1], out[0], out[3])
					k.Conv2DBackwardDataWinograd(s, p, 4, in[2], in[1], out[1], out[3])
					k.Conv2DBackwardDataWinogradAdd(s, p, 4, in[2], in[1], out[1], out[3]) // dx twice
					k.Conv2DBackwardWeightWinograd(s, p, 4, in[0], in[2], out[2], out[3])
				})
		}
		for i, name := range []string{"y", "dx", "dw"} {
			for j := range runs[0][i] {
				if runs[0][i][j] != runs[1][i][j] {
					t.Fatalf("%+v %s element %d: channel a lane %g, eight channels %g", p, name, j,
						math.Float32frombits(runs[0][i][j]), math.Float32frombits(runs[1][i][j]))
				}
			}
		}
	}
}
