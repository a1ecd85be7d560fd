// Command mutate is vkclr's mutation check: it plants each small bug of the
// list in mutants.go, one at a time, in a temporary copy of the tree, runs
// the tests that should catch it, and reports which survived. A surviving
// mutant is a hole in the tests; the run fails if any survives, if a mutant
// no longer applies (its code changed: update the list) or if a test fails
// on the unmutated copy.
//
//	go run ./tools/mutate [-only REGEXP] [-list]    (make mutate)
//
// Shader mutants recompile only the mutated shader's variants in the copy
// (glslc); Go mutants rebuild through the build cache. The working tree is
// never written.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/vkclr/vkclr/shaders/manifest"
)

// Mutant is one planted bug: Old, found exactly once in File (or its Nth
// occurrence when N > 0), becomes New; Pkg's tests matching Run must fail.
type Mutant struct {
	Name, File, Old, New string
	N                    int
	Pkg, Run             string
}

func main() {
	only := flag.String("only", "", "run only the mutants whose name matches this regexp")
	list := flag.Bool("list", false, "print the mutants and exit")
	check := flag.Bool("check", false, "check that every mutant still applies, and exit")
	timeout := flag.Duration("timeout", 8*time.Minute, "time limit of one mutant's tests")
	all := flag.Bool("all", false, "run all of each mutant's package tests, not only its -run pattern")
	flag.Parse()
	ms := append([]Mutant(nil), mutants...)
	if *all {
		for i := range ms {
			ms[i].Run = "."
		}
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fatal(err)
		}
		var sel []Mutant
		for _, m := range ms {
			if re.MatchString(m.Name) {
				sel = append(sel, m)
			}
		}
		ms = sel
	}
	if *list {
		for _, m := range ms {
			fmt.Printf("%-28s %-34s %s -run '%s'\n", m.Name, m.File, m.Pkg, m.Run)
		}
		return
	}
	root, err := gitRoot()
	if err != nil {
		fatal(err)
	}
	if *check {
		bad := 0
		for _, m := range ms {
			src, err := os.ReadFile(filepath.Join(root, m.File))
			if err == nil {
				_, err = plant(string(src), m)
			}
			if err != nil {
				fmt.Printf("%s: %v\n", m.Name, err)
				bad++
			}
		}
		fmt.Printf("mutate: %d of %d mutants apply\n", len(ms)-bad, len(ms))
		if bad > 0 {
			os.Exit(1)
		}
		return
	}
	tmp, err := os.MkdirTemp("", "vkclr-mutate-")
	if err != nil {
		fatal(err)
	}
	// Removed on every exit (fatal and os.Exit skip defers), and on Ctrl-C.
	cleanup = func() { os.RemoveAll(tmp) }
	defer cleanup()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		cleanup()
		os.Exit(130)
	}()
	if err := copyTree(root, tmp); err != nil {
		fatal(err)
	}
	fmt.Printf("mutate: %d mutants, tree copied to %s\n", len(ms), tmp)

	// The tests must pass before anything is planted, or a kill means nothing.
	seen := map[string]bool{}
	for _, m := range ms {
		key := m.Pkg + " " + m.Run
		if seen[key] {
			continue
		}
		seen[key] = true
		if out, err := goTest(tmp, m, *timeout); err != nil {
			fmt.Print(out)
			fatal(fmt.Errorf("baseline: %s -run '%s' fails on the unmutated tree", m.Pkg, m.Run))
		}
	}

	var survived, broken []string
	fmt.Printf("\n| # | mutant | file | tests | result | time |\n|---|---|---|---|---|---|\n")
	for i, m := range ms {
		t0 := time.Now()
		res, err := runMutant(tmp, m, *timeout)
		if err != nil {
			res = "ERROR: " + err.Error()
			broken = append(broken, m.Name)
		} else if res == "survived" {
			survived = append(survived, m.Name)
		}
		fmt.Printf("| %d | %s | %s | %s -run '%s' | %s | %.0fs |\n", i+1, m.Name, m.File, m.Pkg, m.Run, res, time.Since(t0).Seconds())
	}
	fmt.Printf("\nmutate: %d mutants, %d killed, %d survived, %d could not be planted\n",
		len(ms), len(ms)-len(survived)-len(broken), len(survived), len(broken))
	if len(survived) > 0 {
		fmt.Printf("survived: %s\n", strings.Join(survived, ", "))
	}
	if len(broken) > 0 {
		fmt.Printf("not planted: %s\n", strings.Join(broken, ", "))
	}
	if len(survived)+len(broken) > 0 {
		cleanup()
		os.Exit(1)
	}
}

// runMutant plants m in the copy at tmp, runs its tests and restores the copy.
func runMutant(tmp string, m Mutant, timeout time.Duration) (string, error) {
	path := filepath.Join(tmp, m.File)
	orig, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	mut, err := plant(string(orig), m)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(mut), 0o644); err != nil {
		return "", err
	}
	defer os.WriteFile(path, orig, 0o644)
	var comps []string
	switch {
	case strings.HasSuffix(m.File, ".comp"):
		comps = []string{path}
	case strings.HasSuffix(m.File, ".glsl"):
		// An include: recompile every shader that includes it.
		if comps, err = includers(filepath.Dir(path), filepath.Base(path)); err != nil {
			return "", err
		}
	}
	for _, c := range comps {
		restore, err := compileShader(tmp, c)
		defer restore()
		if err != nil {
			return "", err
		}
	}
	out, err := goTest(tmp, m, timeout)
	switch {
	case err == nil:
		return "survived", nil
	case strings.Contains(out, "[build failed]") || strings.Contains(out, "[setup failed]"):
		fmt.Print(out)
		return "", fmt.Errorf("the mutant does not build")
	}
	return "killed", nil
}

// plant replaces the one (or the Nth) occurrence of m.Old.
func plant(src string, m Mutant) (string, error) {
	n := strings.Count(src, m.Old)
	switch {
	case n == 0:
		return "", fmt.Errorf("%q not found in %s (the code changed: update tools/mutate/mutants.go)", m.Old, m.File)
	case m.N == 0 && n > 1:
		return "", fmt.Errorf("%q occurs %d times in %s: give N", m.Old, n, m.File)
	case m.N > n:
		return "", fmt.Errorf("%q occurs %d times in %s, not %d", m.Old, n, m.File, m.N)
	}
	k := max(m.N, 1)
	at := 0
	for i := 0; i < k; i++ {
		j := strings.Index(src[at:], m.Old)
		at += j
		if i < k-1 {
			at += len(m.Old)
		}
	}
	return src[:at] + m.New + src[at+len(m.Old):], nil
}

// includers lists the .comp files in dir that #include name.
func includers(dir, name string) ([]string, error) {
	comps, err := filepath.Glob(filepath.Join(dir, "*.comp"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range comps {
		b, err := os.ReadFile(c)
		if err != nil {
			return nil, err
		}
		if bytes.Contains(b, []byte(`#include "`+name+`"`)) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no shader includes %s", name)
	}
	return out, nil
}

// compileShader recompiles every variant of the shader at path into the
// copy's spv folder and returns a function that puts the old modules back.
func compileShader(tmp, path string) (func(), error) {
	vars, err := manifest.Variants(path)
	if err != nil {
		return func() {}, err
	}
	dir := filepath.Join(tmp, "shaders")
	saved := map[string][]byte{}
	restore := func() {
		for f, b := range saved {
			os.WriteFile(f, b, 0o644)
		}
	}
	for _, v := range vars {
		out := filepath.Join(dir, "spv", v.Output)
		if b, err := os.ReadFile(out); err == nil {
			saved[out] = b
		}
		args := append(append(append([]string{}, manifest.Flags...), v.Defines...), "-I", dir, path, "-o", out)
		if b, err := exec.Command("glslc", args...).CombinedOutput(); err != nil {
			return restore, fmt.Errorf("the mutant does not compile: %s", bytes.TrimSpace(b))
		}
	}
	return restore, nil
}

func goTest(dir string, m Mutant, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-run", m.Run, m.Pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VKCLR_VALIDATE=1")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("timed out after %v", timeout)
	}
	return string(out), err
}

func gitRoot() (string, error) {
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("run mutate inside the vkclr repository: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// copyTree copies the files git knows (tracked and untracked, not ignored).
func copyTree(root, dst string) error {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return err
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	sort.Strings(files)
	for _, f := range files {
		src := filepath.Join(root, f)
		st, err := os.Lstat(src)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the work tree, or a link
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, f)), 0o755); err != nil {
			return err
		}
		if err := copyFile(src, filepath.Join(dst, f), st.Mode()); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// cleanup removes the temporary copy once it exists.
var cleanup = func() {}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mutate:", err)
	cleanup()
	os.Exit(1)
}
