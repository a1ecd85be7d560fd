package ops

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/shaders"
	"github.com/vkclr/vkclr/shaders/manifest"
	"github.com/vkclr/vkclr/vk"
)

// TestSplitLargeTensors runs the rows of every op that streams activations with the storage range
// lowered to 1 KiB, so their tensors are split over bindings as tensors over 128 MiB are on
// lavapipe: by batch (conv2d, pools), rows (GEMM), chunks of rows (batchnorm) or vec4s
// (elementwise).
func TestSplitLargeTensors(t *testing.T) {
	split := map[string]bool{"conv2d_fwd": true, "conv2d_bwd_data": true, "conv2d_bwd_weight": true, "matmul": true, "linear_fwd": true,
		"batchnorm": true, "batchnorm_relu": true, "batchnorm_bwd": true, "batchnorm_relu_bwd": true, "batchnorm_eval": true,
		"add": true, "add_relu": true, "relu": true, "relu_bwd": true,
		"global_avg_pool": true, "global_avg_pool_bwd": true, "max_pool": true, "max_pool_bwd": true, "max_pool_kept": true}
	for _, v := range []string{"cpu", "gpu"} {
		k := kernels(t, v)
		testStorageLimit = 1 << 10
		for _, c := range Cases() {
			if !split[c.Op] {
				continue
			}
			if strings.HasPrefix(c.Name, "N1_") || strings.HasPrefix(c.Name, "1x") || strings.HasPrefix(c.Name, "M=300000") {
				continue // a single image or row: nothing to split; 300000 rows: 14000 pieces, too slow here
			}
			if r := Check(k, c); r.Err != nil {
				t.Errorf("%s/%s/%s: %v", c.Op, c.Name, v, r.Err)
			}
		}
		testStorageLimit = 0
	}
}

// TestPushBlocksMatch checks that the GEMM and conv2d kernels' push-constant blocks in GLSL have as
// many 32-bit fields as their registrations and their Go encoders say.
func TestPushBlocksMatch(t *testing.T) {
	if got := len(convPush{}.bytes(ref.Conv2D{N: 1, H: 1, W: 1, C: 1, K: 1, R: 1, S: 1, Stride: 1})); got != convPushSize {
		t.Errorf("convPush encodes %d bytes, block is %d", got, convPushSize)
	}
	for src, kernels := range map[string][]string{
		"conv2d_common.glsl": {"conv2d_fwd_cpu_v4", "conv2d_bwd_data_cpu_s", "conv2d_bwd_weight_gpu"},
		"gemm_cpu.comp":      {"gemm_cpu_nn", "gemm_cpu_tt_s"},
		"gemm_gpu.comp":      {"gemm_gpu"},
		"gemm_gpu_sum.comp":  {"gemm_gpu_sum"},
		"colsum.comp":        {"colsum", "colsum_expand"},
		"conv2d_im2col.comp": {"conv2d_im2col", "conv2d_im2col_u", "conv2d_im2col_x8", "conv2d_im2col_u1_7x7"},
	} {
		data, err := os.ReadFile(filepath.Join("..", "shaders", src))
		if err != nil {
			t.Fatal(err)
		}
		fields := pushFields(t, string(data))
		for _, name := range kernels {
			if want := int(registry[name].push) / 4; fields != want {
				t.Errorf("%s: push block of %d fields, %s registers %d", src, fields, name, want)
			}
		}
	}
}

// pushFields counts the scalar fields of the `uniform Push { ... }` block in GLSL source.
func pushFields(t *testing.T, src string) int {
	_, rest, ok := strings.Cut(src, "uniform Push {")
	if !ok {
		t.Fatal("no push-constant block")
	}
	body, _, _ := strings.Cut(rest, "}")
	n := 0
	for _, line := range strings.Split(body, "\n") {
		line, _, _ = strings.Cut(line, "//")
		for _, decl := range strings.Split(line, ";") {
			decl = strings.TrimSpace(decl)
			if decl == "" {
				continue
			}
			if !strings.HasPrefix(decl, "uint ") && !strings.HasPrefix(decl, "int ") && !strings.HasPrefix(decl, "float ") {
				t.Fatalf("unexpected push field %q", decl)
			}
			n += strings.Count(decl, ",") + 1
		}
	}
	return n
}

// TestConv2DBackwardWeightRepeats checks that grad weight, reduced in chunks and blocks, gives
// bit-identical results when the same recording runs again (exact resume depends on it).
func TestConv2DBackwardWeightRepeats(t *testing.T) {
	p := ref.Conv2D{N: 8, H: 24, W: 24, C: 32, K: 36, R: 3, S: 3, Stride: 1, Pad: 1}
	for _, v := range []string{"cpu", "gpu"} {
		k := kernels(t, v)
		nw := p.R * p.S * p.C * p.K
		bufs, free, err := newBuffers(k, p.N*p.H*p.W*p.C, p.N*p.P()*p.Q()*p.K, nw, k.Conv2DWeightScratch(p))
		if err != nil {
			t.Fatal(err)
		}
		scratch := vk.Binding{}
		if k.Conv2DWeightScratch(p) > 0 {
			scratch = bufs[3].All()
		}
		s := k.Ctx.NewSeq()
		k.Conv2DBackwardWeight(s, p, bufs[0].All(), bufs[1].All(), bufs[2].All(), scratch)
		var runs [2][]float32
		for i := range runs {
			if err := s.Run(); err != nil {
				t.Fatal(err)
			}
			runs[i] = make([]float32, nw)
			if err := k.Ctx.DownloadF32(runs[i], bufs[2].All()); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		free()
		for i := range runs[0] {
			if math.Float32bits(runs[0][i]) != math.Float32bits(runs[1][i]) {
				t.Fatalf("%s: element %d differs between runs: %v, %v", v, i, runs[0][i], runs[1][i])
			}
		}
	}
}

// TestCPUTilesMatchShaders checks cpuTileOf against the TM and TN each shader variant that
// includes cpu_tile.glsl is compiled with: a dispatcher that tiles the grid for another tile size
// than its kernel computes leaves outputs unwritten or written twice.
func TestCPUTilesMatchShaders(t *testing.T) {
	srcs, err := filepath.Glob("../shaders/*.comp")
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no shaders: %v", err)
	}
	seen := map[string]bool{}
	for _, src := range srcs {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `#include "cpu_tile.glsl"`) {
			continue
		}
		vars, err := manifest.Variants(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vars {
			name := strings.TrimSuffix(v.Output, ".spv")
			tm, tn := cpuTile, cpuTile
			for _, d := range v.Defines {
				if n, ok := strings.CutPrefix(d, "-DTM="); ok {
					tm, _ = strconv.Atoi(n)
				}
				if n, ok := strings.CutPrefix(d, "-DTN="); ok {
					tn, _ = strconv.Atoi(n)
				}
			}
			if gm, gn := cpuTiles(name); gm != tm || gn != tn {
				t.Errorf("%s: compiled with TM=%d TN=%d, cpuTiles says %dx%d", name, tm, tn, gm, gn)
			}
			seen[name] = true
		}
	}
	for name := range cpuTileOf {
		if !seen[name] {
			t.Errorf("cpuTileOf names %s, which no shader variant including cpu_tile.glsl compiles", name)
		}
	}
}

// TestInt64OnlyInX8 checks needsInt64 against the SPIR-V: a module that declares the Int64 capability
// must be one New skips on a device without shaderInt64, or creating it there would be invalid; and
// every module needsInt64 names does declare it (else the rule names the wrong kernels).
func TestInt64OnlyInX8(t *testing.T) {
	const opCapability, capInt64 = 17, 11
	x8 := 0
	for name, d := range registry {
		b := shaders.SPIRV(d.module)
		declares := false
		for i := 5 * 4; i+8 <= len(b); {
			w := binary.LittleEndian.Uint32(b[i:])
			n := int(w >> 16)
			if n == 0 {
				t.Fatalf("%s: malformed SPIR-V at byte %d", name, i)
			}
			if w&0xffff == opCapability && binary.LittleEndian.Uint32(b[i+4:]) == capInt64 {
				declares = true
			}
			i += 4 * n
		}
		if declares != needsInt64(name) {
			t.Errorf("%s: declares Int64 %v, needsInt64 says %v", name, declares, needsInt64(name))
		}
		if declares {
			x8++
		}
	}
	if x8 == 0 {
		t.Error("no kernel declares Int64: the _x8 forms are missing")
	}
}

// TestRowForwardMatchesPlain: the pixel-a-lane forward kernels (conv2d_fwd_row.comp, for the CIFAR
// stem and for 1x1 kernels over 16 and 32 input channels) give the register tiles' bits, at shapes with partial workgroups, one to three column blocks, padding and strides, and
// rowForward takes exactly the shapes it should.
func TestRowForwardMatchesPlain(t *testing.T) {
	k := kernels(t, "cpu")
	if !k.x8() {
		t.Skipf("%s does not take the _x8 forms (shaderInt64)", k.Ctx.Caps.Name)
	}
	stem := ref.Conv2D{N: 2, H: 8, W: 8, C: 4, K: 16, R: 3, S: 3, Stride: 1, Pad: 1, UsedC: 3}
	down := ref.Conv2D{N: 2, H: 8, W: 8, C: 16, K: 32, R: 1, S: 1, Stride: 2, Pad: 0}
	for _, c := range []struct {
		base   ref.Conv2D
		change func(*ref.Conv2D)
		want   string
	}{
		{stem, func(*ref.Conv2D) {}, "conv2d_fwd_row_c4u3r3_x8"},
		{stem, func(p *ref.Conv2D) { p.UsedC = 2 }, "conv2d_fwd_row_c4u3r3_x8"},
		{stem, func(p *ref.Conv2D) { p.UsedC = 1 }, ""},
		{stem, func(p *ref.Conv2D) { p.UsedC = 0 }, ""},
		{stem, func(p *ref.Conv2D) { p.K = 24 }, ""},
		{stem, func(p *ref.Conv2D) { p.Stride = 2 }, ""},
		{stem, func(p *ref.Conv2D) { p.Pad = 0 }, ""},
		{down, func(*ref.Conv2D) {}, "conv2d_fwd_row_c16r1_x8"},
		{down, func(p *ref.Conv2D) { p.C, p.UsedC = 32, 32 }, "conv2d_fwd_row_c32r1_x8"},
		{down, func(p *ref.Conv2D) { p.Stride = 1 }, "conv2d_fwd_row_c16r1_x8"},
		{down, func(p *ref.Conv2D) { p.R, p.S, p.Pad = 3, 3, 1 }, ""},
		{down, func(p *ref.Conv2D) { p.C = 64 }, ""},
		{down, func(p *ref.Conv2D) { p.C = 20 }, ""},
		{down, func(p *ref.Conv2D) { p.UsedC = 3 }, ""},
		{down, func(p *ref.Conv2D) { p.K = 40 }, ""},
	} {
		p := c.base
		c.change(&p)
		if got := k.rowForward(p); got != c.want {
			t.Errorf("rowForward(%+v) = %q, want %q", p, got, c.want)
		}
	}
	defer func() { k.Plain = false }() // the other tests share k
	for _, p := range []ref.Conv2D{
		{N: 5, H: 17, W: 13, C: 4, K: 48, R: 3, S: 3, Stride: 1, Pad: 1, UsedC: 3},
		{N: 2, H: 7, W: 9, C: 4, K: 16, R: 3, S: 3, Stride: 1, Pad: 1, UsedC: 2},
		{N: 3, H: 15, W: 11, C: 16, K: 48, R: 1, S: 1, Stride: 2, Pad: 0},
		{N: 4, H: 13, W: 9, C: 16, K: 16, R: 1, S: 1, Stride: 2, Pad: 0},
		{N: 2, H: 8, W: 7, C: 32, K: 32, R: 1, S: 1, Stride: 1, Pad: 0},
	} {
		nx, nw, ny := p.N*p.H*p.W*p.C, p.R*p.S*p.C*p.K, p.N*p.P()*p.Q()*p.K
		x := Randn(nx, 1)
		for i := range x {
			if p.UsedC > 0 && i%p.C >= p.UsedC {
				x[i] = 0 // a padded image
			}
		}
		var runs [2][][]uint32
		for r := range runs {
			k.Plain = r == 1
			if (k.rowForward(p) != "") != (r == 0) {
				t.Fatalf("rowForward(%+v) with Plain %v", p, k.Plain)
			}
			runs[r] = runOnce(t, k, [][]float32{x, Randn(nw, 2)}, nil, []int{ny},
				func(k *Kernels, s *vk.Seq, in, out []vk.Binding, _ vk.Binding) {
					k.Conv2DForward(s, p, in[0], in[1], out[0])
				})
		}
		for j := range runs[0][0] {
			if runs[0][0][j] != runs[1][0][j] {
				t.Fatalf("%+v y element %d: pixel a lane %g, tiles %g", p, j,
					math.Float32frombits(runs[0][0][j]), math.Float32frombits(runs[1][0][j]))
			}
		}
	}
}
