//go:build !viewer

package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// The default binary is what training servers run: it must link no X11, GL
// or glfw, and `vkclr view` must say how to get the viewer.
func TestDefaultBinaryHeadless(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	bin := filepath.Join(t.TempDir(), "vkclr")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("ldd", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("ldd: %v\n%s", err, out)
	}
	if bad := regexp.MustCompile(`(?im)^\s*(lib(X|x11|xcb|GL|EGL|glfw|wayland)\S*)`).FindAllString(string(out), -1); len(bad) > 0 {
		t.Errorf("the default vkclr links window-system libraries %q:\n%s", bad, out)
	}
	if !strings.Contains(string(out), "libc.so") {
		t.Fatalf("ldd printed no libc; is it the dynamic binary?\n%s", out)
	}
	cmd := exec.Command(bin, "view", "runs/demo")
	msg, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(msg), "make viewer") {
		t.Errorf("vkclr view: exit %d, %q; want 1 and how to get the viewer", cmd.ProcessState.ExitCode(), msg)
	}
}
