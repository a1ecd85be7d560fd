package train

import (
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/model"
)

// TestBenchStepTables: the per-op and per-kernel tables of `vkclr bench step` each account for the
// whole timed step, and the kernel table names kernels (the shader files), not op labels.
func TestBenchStepTables(t *testing.T) {
	s := session(t)
	cfg := Presets["cifar10"]
	cfg.Out, cfg.Data, cfg.Augment, cfg.Optimizer = "-", "synthetic", "none", "sgd"
	cfg.Model = model.Config{Arch: "resnet18", Width: 4, Stem: "cifar", InChannels: 3, ImageSize: 16, ProjHidden: 8, ProjDim: 4}
	cfg.BatchSize = 4
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := BenchStep(s, cfg, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The process's CPU time in a step: some (lavapipe computes on the host's threads; a GPU's driver
	// still records and waits), and no more than every CPU busy for the whole wall time.
	if lim := b.StepMs*float64(runtime.NumCPU())*1.05 + 2; b.CPUMs <= 0 || b.CPUMs > lim {
		t.Errorf("CPU time %.3f ms a step, want in (0, %.3f] (wall %.3f ms, %d CPUs)", b.CPUMs, lim, b.StepMs, runtime.NumCPU())
	}
	sum := func(os []OpShare) (ms float64, calls int) {
		for i, o := range os {
			ms += o.Ms
			calls += o.Calls
			if i > 0 && o.Ms > os[i-1].Ms {
				t.Errorf("%q (%.3f ms) listed after %q (%.3f ms): not largest first", o.Op, o.Ms, os[i-1].Op, os[i-1].Ms)
			}
		}
		return
	}
	opMs, opCalls := sum(b.Ops)
	kMs, kCalls := sum(b.Kernels)
	// The tables add the same per-command times in different groupings: equal up to float rounding.
	if math.Abs(opMs-b.DeviceMs) > 1e-6*b.DeviceMs || math.Abs(kMs-b.DeviceMs) > 1e-6*b.DeviceMs {
		t.Errorf("device time %.4f ms, op table %.4f, kernel table %.4f", b.DeviceMs, opMs, kMs)
	}
	if opCalls != kCalls || kCalls == 0 {
		t.Errorf("op table %d commands, kernel table %d", opCalls, kCalls)
	}
	// The command list (--commands) is the same per-command times in recorded order.
	var cMs float64
	for _, c := range b.Commands {
		cMs += c.Ms
	}
	if len(b.Commands) != kCalls || math.Abs(cMs-b.DeviceMs) > 1e-6*b.DeviceMs {
		t.Errorf("command list: %d commands, %.4f ms; tables %d, %.4f", len(b.Commands), cMs, kCalls, b.DeviceMs)
	}
	if len(b.Commands) > 0 && b.Commands[0].Op != "upload" {
		t.Errorf("command list starts with %+v, not the step's upload", b.Commands[0])
	}
	names := map[string]bool{}
	for _, k := range b.Kernels {
		names[k.Op] = true
	}
	for _, want := range []string{"batchnorm_stats", "ntxent"} {
		found := false
		for n := range names {
			found = found || strings.HasPrefix(n, want)
		}
		if !found {
			t.Errorf("no %s* kernel in %v", want, names)
		}
	}
	if names["conv"] || names["batchnorm"] {
		t.Errorf("kernel table holds op labels: %v", names)
	}
}
