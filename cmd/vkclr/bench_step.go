// `vkclr bench step`: images/s of a whole SimCLR training step, with its per-op table.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/vkclr/vkclr/train"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	registerBench("step", "a full SimCLR training step on synthetic data: images/s, per-op device time, peak memory", benchStep)
}

func benchStep(args []string) error {
	cfg := train.Presets["cifar10"]
	cfg.Out, cfg.Data = "-", "synthetic"
	cfg.Optimizer = "sgd"
	cfg.Model.ProjHidden = 512
	fs := newFlags("bench step", "bench step --arch resnet18 [--width W] --batch-size B [--device N] [--steps S] [--warmup N] [--kernels] [--commands] [--json]")
	fs.StringVar(&cfg.Model.Arch, "arch", cfg.Model.Arch, "resnet18, resnet34, resnet50")
	fs.IntVar(&cfg.Model.Width, "width", cfg.Model.Width, "base channels")
	fs.StringVar(&cfg.Model.Stem, "stem", cfg.Model.Stem, "cifar or imagenet")
	fs.IntVar(&cfg.Model.ImageSize, "image-size", cfg.Model.ImageSize, "resolution")
	fs.IntVar(&cfg.Model.InChannels, "in-channels", cfg.Model.InChannels, "image channels: 1 or 3 (the stem skips the padding's)")
	fs.IntVar(&cfg.Model.ProjHidden, "proj-hidden", cfg.Model.ProjHidden, "head hidden width")
	fs.IntVar(&cfg.Model.ProjDim, "proj-dim", cfg.Model.ProjDim, "head output width")
	fs.IntVar(&cfg.BatchSize, "batch-size", 64, "images per view (the step runs 2x this many)")
	fs.StringVar(&cfg.Optimizer, "optimizer", cfg.Optimizer, "sgd, lars or adamw")
	fs.StringVar(&cfg.Device, "device", "", "Vulkan device: index or name substring")
	steps := fs.Int("steps", 5, "timed steps")
	warmup := fs.Int("warmup", 1, "untimed steps first (the first compiles pipelines; a GPU needs some to raise its clocks)")
	asJSON := fs.Bool("json", false, "print JSON")
	kernels := fs.Bool("kernels", false, "also list the device time by kernel")
	commands := fs.Bool("commands", false, "also list every command of the timed step in order (op, kernel, device time): which layer the time goes to")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.Augment = "none"
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if *steps < 1 {
		return usagef("--steps must be positive")
	}
	if *warmup < 1 {
		return usagef("--warmup must be at least 1 (the first step compiles pipelines)")
	}
	s, err := train.OpenSession(cfg.Device, vk.ValidationFromEnv())
	if err != nil {
		return err
	}
	defer s.Close()
	b, err := train.BenchStep(s, cfg, *warmup, *steps)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if !*commands {
			b.Commands = nil
		}
		out := struct {
			Tool string `json:"tool"`
			*train.StepBench
		}{"vkclr", b}
		return enc.Encode(out)
	}
	fmt.Printf("%s width %d, batch 2x%d on %s\n", b.Arch, b.Width, b.Batch, b.Device)
	fmt.Printf("step %.1f ms (median of %d), %.1f images/s, %.1f GFLOP/step (%.1f GFLOP/s)\n", b.StepMs, *steps, b.ImagesPerSec, b.GFLOPPerStep, b.GFLOPPerStep/(b.StepMs/1e3))
	fmt.Printf("process CPU time %.1f ms a step (median; user + system, all threads)\n", b.CPUMs)
	fmt.Printf("device time %.1f ms in %d commands; step / device = %.3f; peak device memory %s\n\n", b.DeviceMs, b.Dispatches, b.Overhead, vk.FormatBytes(b.PeakBytes))
	fmt.Printf("%-14s %10s %7s %6s\n", "op", "ms/step", "share", "calls")
	for _, o := range b.Ops {
		fmt.Printf("%-14s %10.2f %6.1f%% %6d\n", o.Op, o.Ms, 100*o.Ms/b.DeviceMs, o.Calls)
	}
	if *kernels {
		fmt.Printf("\n%-34s %10s %7s %6s\n", "kernel", "ms/step", "share", "calls")
		for _, o := range b.Kernels {
			fmt.Printf("%-34s %10.2f %6.1f%% %6d\n", o.Op, o.Ms, 100*o.Ms/b.DeviceMs, o.Calls)
		}
	}
	if *commands {
		fmt.Printf("\n%5s %-16s %-34s %10s\n", "#", "op", "kernel", "ms")
		for i, c := range b.Commands {
			fmt.Printf("%5d %-16s %-34s %10.3f\n", i+1, c.Op, c.Kernel, c.Ms)
		}
	}
	return nil
}
