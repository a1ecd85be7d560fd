// The `vkclr bench ops` command: device time of single ops at the shapes training uses.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	registerBench("ops", "device time of single ops (GEMM, conv2d, ...)", benchOps)
}

// benchRow is one line of `vkclr bench ops --json`.
type benchRow struct {
	Op      string  `json:"op"`
	Shape   string  `json:"shape"`
	Variant string  `json:"variant"`
	Device  string  `json:"device"`
	Millis  float64 `json:"ms"`
	GFLOPS  float64 `json:"gflops,omitempty"`
	GBPerS  float64 `json:"gb_per_s,omitempty"`
	// Commands: with --detail, each device command of the median instance.
	Commands []benchCmd `json:"commands,omitempty"`
}

type benchCmd struct {
	Kernel string  `json:"kernel"`
	Millis float64 `json:"ms"`
}

func benchOps(args []string) error {
	fs := newFlags("bench ops", "bench ops [--device N] [--op SUBSTR] [--json] [--reps R] [--variant cpu|gpu] [--detail]")
	device := fs.String("device", "", "device index or name substring (default: the best)")
	opFilter := fs.String("op", "", "only rows whose op or shape contains this substring (or one of several, comma-separated)")
	asJSON := fs.Bool("json", false, "print one JSON object per row")
	reps := fs.Int("reps", 5, "op instances per timed run; the median is reported")
	variant := fs.String("variant", "", "kernel style: cpu or gpu (default: from the device)")
	detail := fs.Bool("detail", false, "also list each device command of an op (its kernel and time), from the median instance")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *reps < 1 {
		return usagef("--reps must be at least 1")
	}
	if *variant != "" && *variant != "cpu" && *variant != "gpu" {
		return usagef("--variant must be cpu or gpu")
	}
	var cases []ops.BenchCase
	for _, c := range ops.BenchCases() {
		for _, f := range strings.Split(*opFilter, ",") {
			if strings.Contains(c.Op, f) || strings.Contains(c.Shape, f) {
				cases = append(cases, c)
				break
			}
		}
	}
	if len(cases) == 0 {
		return usagef("no benchmark matches --op %q", *opFilter)
	}
	c, err := vk.Open(vk.Options{Device: *device, Validate: vk.ValidationFromEnv()})
	if err != nil {
		return err
	}
	defer c.Close()
	k, err := ops.New(c, ops.Options{Variant: *variant})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	// Fixed columns rather than a tabwriter, so each row prints as soon as it is measured.
	const line = "%-22s %-32s %10s  %s\n"
	if !*asJSON {
		fmt.Printf("device: %s (%s), variant %s, median of %d\n", c.Caps.Name, c.Caps.Type, k.Variant, *reps)
		fmt.Printf(line, "op", "shape", "ms", "rate")
	}
	for _, bc := range cases {
		r, err := ops.Bench(k, bc, *reps)
		if err != nil {
			return err
		}
		row := benchRow{Op: bc.Op, Shape: bc.Shape, Variant: r.Variant, Device: c.Caps.Name, Millis: r.Nanos / 1e6, GFLOPS: r.GFLOPS, GBPerS: r.GBPerS}
		if *detail {
			for _, t := range r.Commands {
				row.Commands = append(row.Commands, benchCmd{Kernel: t.Kernel, Millis: t.Nanos / 1e6})
			}
		}
		if *asJSON {
			if err := enc.Encode(row); err != nil {
				return err
			}
			continue
		}
		rate := ""
		switch {
		case r.GFLOPS > 0:
			rate = fmt.Sprintf("%.1f GFLOP/s", r.GFLOPS)
		case r.GBPerS > 0:
			rate = fmt.Sprintf("%.1f GB/s", r.GBPerS)
		}
		fmt.Printf(line, row.Op, row.Shape, fmt.Sprintf("%.3f", row.Millis), rate)
		for _, t := range row.Commands {
			fmt.Printf(line, "", "  "+t.Kernel, fmt.Sprintf("%.3f", t.Millis), "")
		}
	}
	return nil
}
