package main

import (
	"io"
	"os"
	"sort"
	"strings"
	"testing"
)

// capture runs vkclr with args and returns its exit status, stdout and stderr.
func capture(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	read := func(f *os.File) <-chan string {
		ch := make(chan string, 1)
		go func() {
			b, _ := io.ReadAll(f)
			ch <- string(b)
		}()
		return ch
	}
	or, ow, _ := os.Pipe()
	er, ew, _ := os.Pipe()
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = ow, ew
	outc, errc := read(or), read(er)
	code := run(args)
	os.Stdout, os.Stderr = stdout, stderr
	ow.Close()
	ew.Close()
	return code, <-outc, <-errc
}

// TestHelpGoesToStdout: `vkclr CMD --help` prints its usage on stdout (so
// `vkclr train --help | less` shows it), nothing on stderr, and exits 0.
func TestHelpGoesToStdout(t *testing.T) {
	var cmds [][]string
	for name := range commands {
		cmds = append(cmds, []string{name, "--help"}, []string{name, "-h"})
	}
	cmds = append(cmds, []string{"eval", "linear", "--help"}, []string{"eval", "knn", "--help"}, []string{"model", "summary", "--help"})
	sort.Slice(cmds, func(i, j int) bool { return strings.Join(cmds[i], " ") < strings.Join(cmds[j], " ") })
	for _, args := range cmds {
		code, out, errOut := capture(t, args...)
		if code != 0 || !strings.Contains(out, "Usage: vkclr") || errOut != "" {
			t.Errorf("vkclr %s: exit %d, stdout %q, stderr %q; want 0, the usage, nothing", strings.Join(args, " "), code, out, errOut)
		}
	}
}
