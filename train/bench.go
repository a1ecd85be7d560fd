package train

import (
	"fmt"
	"sort"
	"syscall"
	"time"

	"github.com/vkclr/vkclr/model"
	"github.com/vkclr/vkclr/vk"
)

// StepBench is one `vkclr bench step` measurement.
type StepBench struct {
	Device        string  `json:"device"`
	Arch          string  `json:"arch"`
	Width         int     `json:"width"`
	Batch         int     `json:"batch"`
	ImagesPerStep int     `json:"images_per_step"`
	StepMs        float64 `json:"step_ms"` // median wall time of submit + wait
	// CPUMs is the median CPU time (user + system, all threads) the process spent in a timed step. On
	// a CPU driver such as lavapipe that is the step's work without the time a hypervisor steals from
	// the VM (though not without what neighbours on shared caches and memory cost it): a second view
	// when two builds are compared on a shared host.
	CPUMs        float64   `json:"cpu_ms"`
	DeviceMs     float64   `json:"device_ms"`      // sum of the ops' device times in a timed step
	Overhead     float64   `json:"overhead_ratio"` // StepMs / DeviceMs
	ImagesPerSec float64   `json:"images_per_s"`
	PeakBytes    uint64    `json:"peak_device_bytes"`
	Dispatches   int       `json:"commands"`
	GFLOPPerStep float64   `json:"gflop_per_step"`
	Ops          []OpShare `json:"ops"`
	Kernels      []OpShare `json:"kernels"` // the same device time by kernel (op = the kernel's name)
	// Commands is every command of the timed step in recorded order (op label, kernel, device time):
	// which layer a kernel's time belongs to. Filled by BenchStep; `vkclr bench step --commands`
	// prints it.
	Commands []Command `json:"command_times,omitempty"`
}

// Command is one recorded command of a timed step.
type Command struct {
	Op     string  `json:"op"`
	Kernel string  `json:"kernel"`
	Ms     float64 `json:"ms"`
}

// OpShare is one op label's device time per step.
type OpShare struct {
	Op    string  `json:"op"`
	Ms    float64 `json:"ms"`
	Calls int     `json:"calls"`
}

// BenchStep times full training steps (both views, encoder, head, NT-Xent,
// backward, optimizer) on synthetic data already on the device: warmup
// untimed replays (at least one: the first compiles pipelines and warms
// caches; a GPU also needs time to raise its clocks from idle), then steps
// timed replays give the wall time, then one replay with timestamps the
// per-op table.
func BenchStep(s *Session, cfg Config, warmup, steps int) (*StepBench, error) {
	warmup = max(warmup, 1)
	s.Ctx.ResetPeak()
	t, err := NewTrainer(s, cfg, nil)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if err := t.Init(); err != nil {
		return nil, err
	}
	in := t.b.staging[0].Float32s()
	copy(in, model.Randn32(len(in), 1))
	// Channels past the image's (the stem's padding to 4) hold zeros, as a loader leaves them: the
	// stem's kernels may skip them (ref.Conv2D.UsedC).
	if c, dc := cfg.Model.InChannels, cfg.Model.DeviceInChannels(); c < dc {
		for i := range in {
			if i%dc >= c {
				in[i] = 0
			}
		}
	}
	t.setHyper(cfg.PeakLR() * 0.01)
	plain := t.record(0, false)
	defer plain.Close()
	var wall, cpu []float64
	for i := 0; i < warmup+steps; i++ {
		t0, c0 := time.Now(), processCPU()
		if err := plain.Run(); err != nil {
			return nil, err
		}
		if i >= warmup {
			wall = append(wall, float64(time.Since(t0).Nanoseconds())/1e6)
			cpu = append(cpu, float64((processCPU()-c0).Nanoseconds())/1e6)
		}
	}
	sort.Float64s(wall)
	sort.Float64s(cpu)
	timed := t.record(0, true)
	defer timed.Close()
	if err := timed.Run(); err != nil {
		return nil, err
	}
	tm, err := timed.Timings()
	if err != nil {
		return nil, err
	}
	_, peak := s.Ctx.MemoryInUse()
	b := &StepBench{Device: s.Ctx.Caps.Name, Arch: cfg.Model.Arch, Width: cfg.Model.Width, Batch: cfg.BatchSize,
		ImagesPerStep: 2 * cfg.BatchSize, StepMs: wall[len(wall)/2], CPUMs: cpu[len(cpu)/2], PeakBytes: peak, Dispatches: plain.Len(),
		GFLOPPerStep: 3 * t.G.Flops() / 1e9}
	b.ImagesPerSec = float64(b.ImagesPerStep) / (b.StepMs / 1e3)
	if tm == nil {
		return b, fmt.Errorf("the device has no timestamps: no per-op table")
	}
	for _, x := range tm {
		b.DeviceMs += x.Nanos / 1e6
		b.Commands = append(b.Commands, Command{Op: x.Label, Kernel: x.Kernel, Ms: x.Nanos / 1e6})
	}
	b.Ops = shares(tm, func(x vk.Timing) string { return x.Label })
	b.Kernels = shares(tm, func(x vk.Timing) string { return x.Kernel })
	b.Overhead = b.StepMs / b.DeviceMs
	return b, nil
}

// processCPU is the CPU time (user + system) the process has used so far, over all its threads.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// shares sums device time per key, largest first.
func shares(tm []vk.Timing, key func(vk.Timing) string) []OpShare {
	sum := map[string]*OpShare{}
	for _, x := range tm {
		k := key(x)
		o := sum[k]
		if o == nil {
			o = &OpShare{Op: k}
			sum[k] = o
		}
		o.Ms += x.Nanos / 1e6
		o.Calls++
	}
	var out []OpShare
	for _, o := range sum {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ms > out[j].Ms })
	return out
}
