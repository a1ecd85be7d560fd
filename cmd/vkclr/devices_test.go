package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/vkclr/vkclr/vk"
)

// TestDevicesJSON: `vkclr devices --json` prints a parseable report with
// the limits kernels are chosen from.
func TestDevicesJSON(t *testing.T) {
	if _, err := vk.Devices(); errors.Is(err, vk.ErrNoDevice) {
		t.Skipf("no Vulkan device: %v", err)
	}
	r, w, _ := os.Pipe()
	stdout := os.Stdout
	os.Stdout = w
	code := run([]string{"devices", "--json"})
	w.Close()
	os.Stdout = stdout
	out, _ := io.ReadAll(r)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var caps []vk.Caps
	if err := json.Unmarshal(out, &caps); err != nil || len(caps) == 0 {
		t.Fatalf("devices --json: %v\n%s", err, out)
	}
	for _, c := range caps {
		if c.Name == "" || c.SubgroupSize == 0 || c.MaxStorageBufferRange == 0 || c.MaxPushConstants < 128 {
			t.Errorf("incomplete report: %+v", c)
		}
	}
	if code := run([]string{"devices", "--bogus"}); code != 2 {
		t.Errorf("devices --bogus: exit %d, want 2", code)
	}
}
