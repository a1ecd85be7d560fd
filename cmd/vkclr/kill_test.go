// Tests that run `vkclr train` as a separate process and signal it: kill -9
// at random moments, and a second Ctrl-C.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vkclr/vkclr/model/safetensors"
	"github.com/vkclr/vkclr/train"
	"github.com/vkclr/vkclr/vk"
)

// TestHelperProcess is not a test: the tests below start the test binary
// running it, with VKCLR_TEST_AS_MAIN=1, to get a vkclr process.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("VKCLR_TEST_AS_MAIN") != "1" {
		t.Skip("a subprocess entry point")
	}
	i := slices.Index(os.Args, "--")
	os.Exit(run(os.Args[i+1:]))
}

// vkclrProcess is a running `vkclr ARGS` whose stderr lines arrive on lines.
type vkclrProcess struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan error
	mu    sync.Mutex
	all   []string // every stderr line, for failure messages
}

// tail is the process's last stderr lines.
func (p *vkclrProcess) tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.all[max(0, len(p.all)-40):], "\n")
}

func startVkclr(t *testing.T, env []string, args ...string) *vkclrProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperProcess$", "--"}, args...)...)
	// Without the validation layer: nothing reads a killed child's messages,
	// and it triples a child's start-up (the in-process runs validate).
	cmd.Env = append(append(os.Environ(), "VKCLR_TEST_AS_MAIN=1", "VKCLR_VALIDATE=0"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &vkclrProcess{cmd: cmd, lines: make(chan string, 1000), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.all = append(p.all, sc.Text())
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default: // nobody is waiting for lines any more
			}
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

// waitLine waits for a stderr line containing s; false if the process ends first.
func (p *vkclrProcess) waitLine(t *testing.T, s string, limit time.Duration) bool {
	t.Helper()
	timeout := time.After(limit)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return false
			}
			if strings.Contains(l, s) {
				return true
			}
		case <-timeout:
			t.Fatalf("no %q on stderr within %v", s, limit)
		}
	}
}

// wait returns the exit status, failing the test after limit.
func (p *vkclrProcess) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	go func() {
		for range p.lines {
		}
	}()
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(limit):
		t.Fatalf("vkclr still running after %v", limit)
	}
	return -1
}

func skipWithoutDevice(t *testing.T) {
	if _, err := vk.Devices(); errors.Is(err, vk.ErrNoDevice) {
		t.Skipf("no Vulkan device: %v", err)
	}
}

// killArgs is a tiny run: 16 images, batch 4, so 4 steps per epoch and a
// checkpoint every 4 steps.
func killArgs(dataDir, out string, steps int) []string {
	return []string{"train", "--data", "cifar10", "--data-dir", dataDir, "--subset", "16", "--out", out,
		"--arch", "resnet18", "--width", "2", "--proj-hidden", "8", "--proj-dim", "4", "--batch-size", "4",
		"--steps", fmt.Sprint(steps), "--optimizer", "lars", "--lr", "0.5", "--warmup-epochs", "1", "--log-every", "1"}
}

// TestKill9Resume kills `vkclr train` with SIGKILL at random moments,
// including inside checkpoint writes (slowed by the test hook), then checks
// that the run folder loads and that resuming to the end gives weights and
// losses bit-identical to an uninterrupted run's.
func TestKill9Resume(t *testing.T) {
	skipWithoutDevice(t)
	dir := t.TempDir()
	writeTinyCIFAR10(t, dir, 20)
	// 64 steps: each kill rolls the run back to its last checkpoint (every 4
	// steps), and with writes slowed (every write by 150 ms, or checkpoint
	// writes by 250 ms) an attempt of at most 1.5 s after training starts
	// gets at most 10-24 steps further, so 5 kills land before the run ends
	// however fast the device (16 steps let a fast run finish after 4 kills).
	const steps = 64
	ref := filepath.Join(dir, "ref")
	if code := run(killArgs(dir, ref, steps)); code != 0 {
		t.Fatalf("uninterrupted run: exit %d", code)
	}
	out := filepath.Join(dir, "killed")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	kills, inWrite, finished := 0, 0, false
	for attempt := 0; !finished; attempt++ {
		if attempt > 30 {
			t.Fatal("the run never finished")
		}
		args := killArgs(dir, out, steps)
		if _, err := os.Stat(filepath.Join(out, train.LastCkpt)); err == nil {
			args = []string{"train", "--resume", out}
		}
		// Every write slowed a little, or checkpoint writes slowed a lot, so
		// that many kills land inside a write.
		slow := []string{"VKCLR_TEST_SLOW_WRITES=150ms"}
		if attempt%2 == 1 {
			slow = []string{"VKCLR_TEST_SLOW_WRITES=250ms,last.safetensors"}
		}
		p := startVkclr(t, slow, args...)
		if kills >= 5 && inWrite >= 2 || kills >= 15 {
			if code := p.wait(t, 5*time.Minute); code != 0 {
				t.Fatalf("%v: exit %d:\n%s", args, code, p.tail())
			}
			finished = true
			break
		}
		// Kill somewhere between the start of the process and a little after training starts.
		if rng.IntN(4) > 0 && !p.waitLine(t, "training ", 2*time.Minute) {
			t.Fatalf("%v ended before training, exit %d:\n%s", args, p.wait(t, time.Minute), p.tail())
		}
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGKILL)
		code := p.wait(t, time.Minute)
		if code == 0 {
			finished = true // it finished before the kill
			break
		}
		if code != -1 { // -1: killed by the signal
			t.Fatalf("%v: exit %d before the kill:\n%s", args, code, p.tail())
		}
		kills++
		if tmp, _ := filepath.Glob(filepath.Join(out, ".last.safetensors.tmp-*")); len(tmp) > 0 {
			inWrite++
		}
		// The folder loads: its config, and its checkpoint if one was written.
		if _, err := os.Stat(filepath.Join(out, train.LastCkpt)); err == nil {
			if _, err := train.LoadRun(out); err != nil {
				t.Fatalf("after kill %d: %v", kills, err)
			}
			if _, err := safetensors.Read(filepath.Join(out, train.LastCkpt)); err != nil {
				t.Fatalf("after kill %d: %v", kills, err)
			}
		}
	}
	t.Logf("%d kills, %d inside a checkpoint write", kills, inWrite)
	if kills < 5 {
		t.Fatalf("only %d kills landed before the run finished", kills)
	}
	want, err := safetensors.Read(filepath.Join(ref, train.LastCkpt))
	if err != nil {
		t.Fatal(err)
	}
	got, err := safetensors.Read(filepath.Join(out, train.LastCkpt))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tensors) != len(want.Tensors) {
		t.Fatalf("%d tensors after the kills, %d uninterrupted", len(got.Tensors), len(want.Tensors))
	}
	for name, w := range want.Tensors {
		if g := got.Tensors[name]; g == nil || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("tensor %s differs from the uninterrupted run's", name)
		}
	}
	if g, w := metricsLosses(t, out), metricsLosses(t, ref); !slices.Equal(g, w) {
		t.Fatalf("metrics after the kills:\n%v\nuninterrupted:\n%v", g, w)
	}
}

// metricsLosses lists metrics.jsonl's records as kind:step:loss.
func metricsLosses(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, train.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r train.Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("metrics line %q: %v", l, err)
		}
		out = append(out, fmt.Sprintf("%s:%d:%v", r.Kind, r.Step, r.Loss))
	}
	return out
}

// TestSecondInterruptExits: the first Ctrl-C lets the run finish its step
// and save; a second one, during that save (slowed by the test hook), exits
// at once with status 130.
func TestSecondInterruptExits(t *testing.T) {
	skipWithoutDevice(t)
	dir := t.TempDir()
	writeTinyCIFAR10(t, dir, 20)
	p := startVkclr(t, []string{"VKCLR_TEST_SLOW_WRITES=60s,last.safetensors"}, killArgs(dir, filepath.Join(dir, "run"), 1000)...)
	if !p.waitLine(t, "training ", 2*time.Minute) {
		t.Fatal("vkclr ended before training")
	}
	p.cmd.Process.Signal(os.Interrupt)
	if !p.waitLine(t, "press Ctrl-C again", time.Minute) {
		t.Fatal("vkclr ended after the first interrupt")
	}
	start := time.Now()
	p.cmd.Process.Signal(os.Interrupt)
	if code := p.wait(t, 20*time.Second); code != 130 {
		t.Fatalf("exit %d after a second interrupt, want 130", code)
	}
	t.Logf("exited %v after the second interrupt", time.Since(start).Round(time.Millisecond))
}
