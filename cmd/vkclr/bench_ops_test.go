package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/vk"
)

// TestBenchOpsDetail: `vkclr bench ops --detail --json` lists the device commands of a
// multi-pass op by kernel, and their times add up to the op's.
func TestBenchOpsDetail(t *testing.T) {
	if _, err := vk.Devices(); errors.Is(err, vk.ErrNoDevice) {
		t.Skipf("no Vulkan device: %v", err)
	}
	code, out, errOut := capture(t, "bench", "ops", "--op", "peak,(w16 layer4) winograd F(2x2)", "--reps", "1", "--detail", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	rows := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var row benchRow
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		rows++
		var sum float64
		kernels := map[string]bool{}
		for _, c := range row.Commands {
			sum += c.Millis
			kernels[c.Kernel] = true
		}
		if math.Abs(sum-row.Millis) > 1e-6*row.Millis+1e-9 {
			t.Errorf("%s %s: commands add up to %v ms, the op took %v", row.Op, row.Shape, sum, row.Millis)
		}
		switch row.Op {
		case "peak":
			want := "peak"
			if strings.Contains(row.Shape, "one round a trip") {
				want = "peak_rolled"
			}
			if len(row.Commands) != 1 || !kernels[want] {
				t.Errorf("peak %s: commands %+v, want one of kernel %s", row.Shape, row.Commands, want)
			}
		case "conv2d_fwd":
			for _, k := range []string{"conv2d_winograd_in_f2", "conv2d_winograd_gemm_nn16", "conv2d_winograd_out_f2"} { // 128 channels: 16x16 tiles
				if !kernels[k] && !kernels[k+"_s"] && !kernels[k+"_x8"] && !kernels[k+"_s_x8"] { // _s: the subgroup-shuffle form, _x8: eight floats a store, both on lavapipe
					t.Errorf("%s %s: no %s among %+v", row.Op, row.Shape, k, row.Commands)
				}
			}
		}
	}
	if rows < 5 {
		t.Errorf("%d rows, want the two peak rows and the three directions:\n%s", rows, out)
	}
}
