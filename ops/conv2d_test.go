package ops

import (
	"strings"
	"testing"
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
