// End-to-end test of `vkclr selftest`.
package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/vk"
)

func TestSelftestCommand(t *testing.T) {
	if _, err := vk.Devices(); errors.Is(err, vk.ErrNoDevice) {
		t.Skipf("no Vulkan device: %v", err)
	}
	var out bytes.Buffer
	if err := selftest(&out, []string{"--op", "add", "--variant", "cpu"}); err != nil {
		t.Fatalf("selftest: %v\n%s", err, out.String())
	}
	s := out.String()
	if !strings.Contains(s, "add_relu") || !strings.Contains(s, " 0 failed") || strings.Contains(s, "FAIL") || !strings.Contains(s, "\nfma() ") {
		t.Fatalf("unexpected report:\n%s", s)
	}
	if code := run([]string{"selftest", "--op", "relu", "--variant", "both"}); code != 0 {
		t.Errorf("vkclr selftest --op relu: exit %d", code)
	}
	for _, args := range [][]string{{"selftest", "--op", "no_such_op"}, {"selftest", "--variant", "fast"}} {
		if code := run(args); code != 2 {
			t.Errorf("vkclr %v: exit %d, want 2", args, code)
		}
	}
}
