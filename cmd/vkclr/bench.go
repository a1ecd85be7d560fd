// The `vkclr bench` command: a family of benchmarks, each in its own file.
package main

import (
	"fmt"
	"sort"
)

var benches = map[string]*command{}

// registerBench adds `vkclr bench NAME`; call it from an init function.
func registerBench(name, summary string, run func(args []string) error) {
	benches[name] = &command{name: name, summary: summary, run: run}
}

func init() {
	register("bench", "benchmarks: ops, step, augment", func(args []string) error {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fmt.Println("Usage: vkclr bench KIND [flags]\n\nKinds:")
			names := make([]string, 0, len(benches))
			for n := range benches {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Printf("  %-10s %s\n", n, benches[n].summary)
			}
			if len(args) == 0 {
				return usagef("bench needs a kind")
			}
			return nil
		}
		b, ok := benches[args[0]]
		if !ok {
			return usagef("unknown benchmark %q; run 'vkclr bench --help'", args[0])
		}
		return b.run(args[1:])
	})
}
