package ops

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/ops/ref"
)

// TestSplitLargeTensors runs the conv2d and matmul rows with the storage range lowered to 1 KiB,
// so outputs are split by batch (conv2d) or rows (GEMM) as tensors over 128 MiB are on lavapipe.
func TestSplitLargeTensors(t *testing.T) {
	for _, v := range []string{"cpu", "gpu"} {
		k := kernels(t, v)
		testStorageLimit = 1 << 10
		for _, c := range Cases() {
			if c.Op != "conv2d_fwd" && c.Op != "conv2d_bwd_data" && c.Op != "matmul" && c.Op != "linear_fwd" {
				continue
			}
			if strings.HasPrefix(c.Name, "N1_") || strings.HasPrefix(c.Name, "1x") {
				continue // a single image or row: nothing to split
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
		"conv2d_common.glsl":    {"conv2d_fwd_cpu_v4", "conv2d_bwd_data_cpu_s", "conv2d_bwd_weight_gpu"},
		"gemm_cpu.comp":         {"gemm_cpu_nn", "gemm_cpu_tt_s"},
		"gemm_gpu.comp":         {"gemm_gpu"},
		"linear_bias_grad.comp": {"linear_bias_grad"},
		"conv2d_wsum.comp":      {"conv2d_wsum"},
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
