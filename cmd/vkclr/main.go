// Command vkclr trains SimCLR encoders with hand-written Vulkan compute shaders.
//
// Each subcommand lives in its own file and registers itself in an init
// function, so adding one touches no central switch.
package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// command is one subcommand: `vkclr NAME args...`.
type command struct {
	name    string
	summary string
	run     func(args []string) error
}

var commands = map[string]*command{}

// register adds a subcommand; call it from an init function.
func register(name, summary string, run func(args []string) error) {
	if _, dup := commands[name]; dup {
		panic("vkclr: duplicate command " + name)
	}
	commands[name] = &command{name: name, summary: summary, run: run}
}

// usageError marks errors caused by bad flags or arguments (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// usagef returns a usageError; commands return it for bad flags or combinations.
func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// newFlags returns a flag set for a subcommand that reports errors instead of exiting.
func newFlags(name, usage string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.Usage = func() {
		// pflag calls Usage only for -h/--help (ContinueOnError): help is what was
		// asked for, so it goes to stdout (`vkclr train --help | less`).
		fmt.Fprintf(os.Stdout, "Usage: vkclr %s\n\nFlags:\n%s", usage, fs.FlagUsages())
	}
	return fs
}

// parseFlags parses args into fs and maps pflag's errors to usage errors.
// It returns errHelp for -h/--help, which main turns into exit status 0.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return errHelp
		}
		return usagef("%v (see 'vkclr %s --help')", err, fs.Name())
	}
	return nil
}

var errHelp = errors.New("help requested")

func printHelp() {
	fmt.Println("vkclr: SimCLR self-supervised training on any Vulkan device.")
	fmt.Println()
	fmt.Println("Usage: vkclr COMMAND [flags]")
	fmt.Println()
	fmt.Println("Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Println()
	fmt.Println("Run 'vkclr COMMAND --help' for a command's flags.")
}

func main() { os.Exit(run(os.Args[1:])) }

// run executes one command line and returns the process exit status.
func run(args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				_ = c.run([]string{"--help"})
				return 0
			}
		}
		printHelp()
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "vkclr: unknown command %q; run 'vkclr help' for the list\n", args[0])
		return 2
	}
	err := c.run(args[1:])
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "vkclr %s: %v\n", c.name, err)
		return 2
	default:
		fmt.Fprintf(os.Stderr, "vkclr %s: %v\n", c.name, strings.TrimSpace(err.Error()))
		return 1
	}
}
