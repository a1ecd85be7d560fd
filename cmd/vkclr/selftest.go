// The `vkclr selftest` command: every kernel checked against its CPU
// reference on this machine's device, the same table `go test ./ops` runs.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	register("selftest", "check every kernel against its CPU reference on a device", func(args []string) error {
		return selftest(os.Stdout, args)
	})
}

// selectCases keeps the rows of op: its own name and its companions
// ("batchnorm" also picks batchnorm_bwd and batchnorm_eval).
func selectCases(all []ops.Case, op string) []ops.Case {
	if op == "" {
		return all
	}
	var out []ops.Case
	for _, c := range all {
		if c.Op == op || strings.HasPrefix(c.Op, op+"_") {
			out = append(out, c)
		}
	}
	return out
}

func opNames(all []ops.Case) string {
	seen := map[string]bool{}
	var names []string
	for _, c := range all {
		if !seen[c.Op] {
			seen[c.Op] = true
			names = append(names, c.Op)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func selftest(w io.Writer, args []string) error {
	fs := newFlags("selftest", "selftest [--device N] [--op NAME] [--variant cpu|gpu|both] [--vk-validate]")
	device := fs.String("device", "", "device index or name substring (default: the best)")
	op := fs.String("op", "", "only this op and its _bwd/_eval companions (default: all)")
	variant := fs.String("variant", "both", "kernel style to check: cpu, gpu or both")
	validate := fs.Bool("vk-validate", false, "enable the Vulkan validation layer (any message fails the row)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var variants []string
	switch *variant {
	case "cpu", "gpu":
		variants = []string{*variant}
	case "both":
		variants = []string{"cpu", "gpu"}
	default:
		return usagef("--variant must be cpu, gpu or both, not %q", *variant)
	}
	all := ops.Cases()
	cases := selectCases(all, *op)
	if len(cases) == 0 {
		return usagef("no op %q; ops: %s", *op, opNames(all))
	}
	c, err := vk.Open(vk.Options{Device: *device, Validate: *validate || vk.ValidationFromEnv()})
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(w, "device: %s (%s), %d rows x %d variant(s)\n", c.Caps.Name, c.Caps.Type, len(cases), len(variants))
	// Fixed columns, so each row prints as soon as it has run.
	const line = "%-20s %-40s %-7s %10s %10s %-5s %9s\n"
	passed, failed := 0, 0
	t0 := time.Now()
	for i, v := range variants {
		k, err := ops.New(c, ops.Options{Variant: v})
		if err != nil {
			return err
		}
		// Every pipeline, not only those the rows dispatch: a module this driver rejects is the
		// kind of fault selftest is for.
		if err := k.CompileAll(); err != nil {
			return fmt.Errorf("%s variant: %w; this driver cannot build one of vkclr's kernels: report it with `vkclr devices`", v, err)
		}
		if v == "cpu" {
			// How this driver rounds the cpu kernels' fma() calls: why its digits differ from another's.
			fused, err := k.FMAFused()
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s\n", ops.FMADescription(fused))
		}
		if i == 0 {
			fmt.Fprintf(w, line, "op", "case", "variant", "max err", "norm err", "", "time")
		}
		for _, cs := range cases {
			r := ops.Check(k, cs)
			status := "pass"
			if r.Err != nil {
				status = "FAIL"
				failed++
			} else {
				passed++
			}
			fmt.Fprintf(w, line, r.Op, r.Case, r.Variant, fmt.Sprintf("%.3g", r.MaxErr), fmt.Sprintf("%.3g", r.NormErr), status,
				r.Time.Round(10*time.Microsecond))
			if r.Err != nil {
				fmt.Fprintf(w, "    %v\n", r.Err)
			}
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed (%.1f s)\n", passed, failed, time.Since(t0).Seconds())
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed", failed, passed+failed)
	}
	return nil
}
