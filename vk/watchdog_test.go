package vk

import (
	"errors"
	"strings"
	"testing"
	"time"

	vk "github.com/vulkan-go/vulkan"
)

// TestWatchdogReportsHungDevice: work whose fence never signals makes Wait
// return, after the configured limit, an error matching ErrDeviceHung and
// ErrDeviceLost; the context then refuses new work and closes without
// waiting for the device.
func TestWatchdogReportsHungDevice(t *testing.T) {
	t.Setenv("VKCLR_DEVICE_TIMEOUT", "150ms")
	c, err := Open(Options{NoPipelineCache: true})
	if errors.Is(err, ErrNoDevice) {
		t.Skipf("no Vulkan device: %v", err)
	}
	must(t, err)
	defer c.Close()
	if c.timeout != 150*time.Millisecond {
		t.Fatalf("timeout %v from VKCLR_DEVICE_TIMEOUT=150ms", c.timeout)
	}
	b, err := c.NewBuffer(256)
	must(t, err)
	s := c.NewSeq()
	s.Fill(b.All(), 0)
	must(t, s.Run())
	// Submitted work whose fence never signals: what a hung GPU looks like.
	must(t, check("vkResetFences", vk.ResetFences(c.dev, 1, []vk.Fence{s.fence})))
	s.busy, s.submitted = true, time.Now()
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Wait did not return 30 s after a 150 ms limit")
	}
	if !errors.Is(err, ErrDeviceHung) || !errors.Is(err, ErrDeviceLost) || !strings.Contains(err.Error(), "150ms") {
		t.Fatalf("hung device: %v", err)
	}
	if took := time.Since(s.submitted); took < 150*time.Millisecond {
		t.Errorf("gave up after %v, before the limit", took)
	}
	if err := s.Submit(); !errors.Is(err, ErrDeviceLost) {
		t.Errorf("submit after a hang: %v", err)
	}
	// Releasing what the hung work uses must not wait for it either.
	start := time.Now()
	s.Close()
	b.Release()
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Close and Release after a hang took %v", d)
	}
	if errors.Is(&Error{Result: vk.ErrorDeviceLost}, ErrDeviceHung) {
		t.Error("a plain lost device matches ErrDeviceHung")
	}

	t.Setenv("VKCLR_DEVICE_TIMEOUT", "soon")
	if _, err := Open(Options{NoPipelineCache: true}); err == nil || !strings.Contains(err.Error(), "VKCLR_DEVICE_TIMEOUT") {
		t.Errorf("a bad VKCLR_DEVICE_TIMEOUT: %v", err)
	}
}
