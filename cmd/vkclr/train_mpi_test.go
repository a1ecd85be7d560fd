// Data-parallel training under mpirun, checked against one process: the
// same losses and weights with synchronized batchnorm and gathered
// negatives, different ones with per-rank batchnorm, and a lost rank.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vkclr/vkclr/model"
	"github.com/vkclr/vkclr/model/safetensors"
	"github.com/vkclr/vkclr/train/mpi"
	"github.com/vkclr/vkclr/vk"
)

var mpiBuild struct {
	once sync.Once
	path string
	out  []byte
	err  error
}

// mpiVkclr builds vkclr with the mpi tag once, after checking for mpirun:
// missing, it fails the test unless VKCLR_SKIP_MPI=1.
func mpiVkclr(t *testing.T) string {
	t.Helper()
	if _, err := vk.Devices(); errors.Is(err, vk.ErrNoDevice) {
		t.Skipf("no Vulkan device: %v", err)
	}
	if _, err := exec.LookPath("mpirun"); err != nil {
		if os.Getenv(mpi.SkipEnv) == "1" {
			t.Skipf("%v (%s=1)", mpi.ErrNoMpirun, mpi.SkipEnv)
		}
		t.Fatalf("%v; or set %s=1 to skip the MPI tests", mpi.ErrNoMpirun, mpi.SkipEnv)
	}
	mpiBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "vkclr-mpi-test")
		if err != nil {
			mpiBuild.err = err
			return
		}
		mpiBuild.path = filepath.Join(dir, "vkclr-mpi")
		mpiBuild.out, mpiBuild.err = exec.Command("go", "build", "-tags", "mpi",
			// checkptr on the MPI binding: unsafe pointer arithmetic that leaves its buffer (as a
			// broadcast's pointer once did after its last piece, crashing 1 run in 6 in the GC) fails
			// every run instead of a few.
			"-gcflags=github.com/vkclr/vkclr/train/mpi=-d=checkptr", "-o", mpiBuild.path, ".").CombinedOutput()
	})
	if mpiBuild.err != nil {
		t.Fatalf("go build -tags mpi: %v\n%s", mpiBuild.err, mpiBuild.out)
	}
	return mpiBuild.path
}

// mpiCommand is `mpirun -np N vkclr-mpi args...`.
func mpiCommand(t *testing.T, np int, args ...string) *exec.Cmd {
	cmd, err := mpi.Command(np, mpiVkclr(t), args...)
	if err != nil {
		t.Fatal(err)
	}
	return cmd
}

// tinyMPIRun is a small run: a narrow ResNet-18 on 16x16 images, a global batch of 64. The
// learning rate is low because rounding grows step by step near the collapsed start (see sameRun):
// at 0.1, then at 0.05 once F(4x4) Winograd took the 32-channel layers (its sums round more, and
// grad weight's chunks follow a rank's batch), conv1 drifted to 1.1-1.3e-4 of its largest weight
// over 5 steps while the losses agreed to 3e-6; at 0.025 the drift is 2.5e-5.
func tinyMPIRun(dir, out string, steps int) []string {
	return []string{"train", "--data", "cifar10", "--data-dir", dir, "--out", out, "--arch", "resnet18", "--width", "8",
		"--image-size", "16", "--proj-hidden", "16", "--proj-dim", "8", "--batch-size", "64", "--steps", fmt.Sprint(steps),
		"--optimizer", "sgd", "--lr", "0.025", "--warmup-epochs", "0", "--log-every", "1", "--check-every", "1"}
}

// stepLosses reads a run's per-step losses.
func stepLosses(t *testing.T, run string) []float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(run, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var l []float64
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var r struct {
			Kind string
			Loss float64
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		if r.Kind == "step" {
			l = append(l, r.Loss)
		}
	}
	return l
}

// sameRun compares two runs: the loss at every step within 1e-5 relative,
// every weight and batchnorm statistic of the last checkpoint within 1e-4 of
// the largest magnitude of its layer ("layer1.0.bn2": gamma, beta and running
// statistics together; a batchnorm's beta is a sum that nearly cancels, near
// zero beside gamma, its rounding relative to itself is meaningless).
// Float32 sums in another order (a rank's half, then the two halves) differ
// by rounding only. Not the momentum: near the collapsed start (loss about
// log(2B-1)) a gradient is a small difference of large terms, and rounding
// moves the last step's by several percent while weights and losses agree
// to 1e-6; for the same reason a high learning rate or a narrower model
// (width 4) lets rounding grow past 1e-5 of the loss within 5 steps, in one
// process against itself (float64 batchnorm statistics) as well.
func sameRun(t *testing.T, a, b string) error {
	la, lb := stepLosses(t, a), stepLosses(t, b)
	if len(la) != len(lb) || len(la) == 0 {
		return fmt.Errorf("%d and %d steps logged", len(la), len(lb))
	}
	worstL, worstW := 0.0, 0.0
	defer func() {
		t.Logf("%s vs %s: largest relative difference of a step's loss %.3g, of a layer's values %.3g", filepath.Base(a), filepath.Base(b), worstL, worstW)
	}()
	for i := range la {
		d := math.Abs(la[i]-lb[i]) / math.Abs(la[i])
		worstL = max(worstL, d)
		if !(d <= 1e-5) {
			return fmt.Errorf("step %d: loss %.8g vs %.8g (relative difference %.3g)", i+1, la[i], lb[i], d)
		}
	}
	fa, err := safetensors.Read(filepath.Join(a, "last.safetensors"))
	if err != nil {
		return err
	}
	fb, err := safetensors.Read(filepath.Join(b, "last.safetensors"))
	if err != nil {
		return err
	}
	layer := func(name string) string { return name[:max(strings.LastIndexByte(name, '.'), 0)] }
	scale, diff := map[string]float64{}, map[string]float64{}
	n := 0
	for name, ta := range fa.Tensors {
		if ta.DType != "F32" || strings.HasPrefix(name, "optimizer.") {
			continue
		}
		tb := fb.Tensors[name]
		if tb == nil {
			return fmt.Errorf("tensor %s missing", name)
		}
		va, _ := ta.Float32s()
		vb, _ := tb.Float32s()
		if len(va) != len(vb) {
			return fmt.Errorf("tensor %s: %d and %d values", name, len(va), len(vb))
		}
		l := layer(name)
		for i := range va {
			scale[l] = max(scale[l], math.Abs(float64(va[i])))
			diff[l] = max(diff[l], math.Abs(float64(va[i])-float64(vb[i])))
		}
		n++
	}
	if n < 20 {
		return fmt.Errorf("only %d float tensors compared", n)
	}
	for l, d := range diff {
		worstW = max(worstW, d/scale[l])
		if !(d <= 1e-4*scale[l]) {
			return fmt.Errorf("layer %s: largest difference %.3g, %.3g of its largest magnitude %.3g", l, d, d/scale[l], scale[l])
		}
	}
	return nil
}

// runMPI runs mpirun and fails the test on an error or a validation message.
func runMPI(t *testing.T, np int, args ...string) string {
	t.Helper()
	out, err := mpiCommand(t, np, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("mpirun -np %d vkclr %s: %v\n%s", np, strings.Join(args, " "), err, out)
	}
	if strings.Contains(string(out), "vulkan validation") {
		t.Fatalf("validation messages:\n%s", out)
	}
	return string(out)
}

// writeNoiseCIFAR10 lays out cifar-10-batches-bin with n seeded noise
// images a file. Noise, not writeTinyCIFAR10's ramps: on those, a channel
// whose batch variance is nearly zero after the first update turns rounding
// differences (float32 sums in another order) into 1e-5 of the loss at
// step 2, in one process against itself too, whatever the learning rate.
func writeNoiseCIFAR10(t *testing.T, dir string, n int) {
	sub := filepath.Join(dir, "cifar-10-batches-bin")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(12, 1))
	for _, f := range cifar10Files {
		b := make([]byte, n*3073)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		for i := range n {
			b[i*3073] = byte(i % 10)
		}
		if err := os.WriteFile(filepath.Join(sub, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMPIMatchesOneProcess(t *testing.T) {
	mpiVkclr(t)
	dir := t.TempDir()
	writeNoiseCIFAR10(t, dir, 64)
	one, two, per := filepath.Join(dir, "one"), filepath.Join(dir, "two"), filepath.Join(dir, "per")
	// One batch of 64 images an epoch: 5 steps of the same images with new
	// augmentations each epoch.
	args := func(out string) []string { return append(tinyMPIRun(dir, out, 5), "--subset", "64") }
	if code := run(args(one)); code != 0 {
		t.Fatalf("one process: exit %d", code)
	}
	out := runMPI(t, 2, args(two)...)
	if err := sameRun(t, one, two); err != nil {
		t.Fatalf("2 ranks vs 1 process: %v\n%s", err, out)
	}
	t.Logf("2 ranks with synchronized batchnorm match one process; losses %v", stepLosses(t, two))
	runMPI(t, 2, append(args(per), "--sync-bn=false")...)
	err := sameRun(t, one, per)
	if err == nil {
		t.Fatal("per-rank batchnorm statistics gave the single-process run: the comparison cannot tell")
	}
	t.Logf("per-rank batchnorm differs as it should: %v", err)
	// Only rank 0 writes: no other run folder appeared.
	if ents, _ := os.ReadDir(dir); len(ents) != 4 {
		t.Errorf("%d entries in the test folder, want cifar-10-batches-bin one two per", len(ents))
	}
}

// rankPID finds the process mpirun started as the given rank.
func rankPID(launcher int, bin string, rank int) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil || pid == launcher {
			continue
		}
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if exe == bin && bytes.Contains(env, []byte(fmt.Sprintf("OMPI_COMM_WORLD_RANK=%d\x00", rank))) {
			return pid
		}
	}
	return 0
}

func TestMPIRankLost(t *testing.T) {
	bin := mpiVkclr(t)
	dir := t.TempDir()
	writeTinyCIFAR10(t, dir, 64)
	out := filepath.Join(dir, "run")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := mpiCommand(t, 2, tinyMPIRun(dir, out, 1000)...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()
	// An epoch is 5 steps; its checkpoint appears, then rank 1 dies.
	ck := filepath.Join(out, "last.safetensors")
	for {
		if _, err := os.Stat(ck); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the run ended before its first checkpoint: %v\n%s", err, buf.String())
		case <-ctx.Done():
			t.Fatalf("no checkpoint after 5 minutes\n%s", buf.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	pid := rankPID(cmd.Process.Pid, bin, 1)
	if pid == 0 {
		t.Fatal("rank 1's process not found")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	select {
	case err := <-done:
		took := time.Since(killed)
		t.Logf("job ended %.1fs after rank 1 was killed: %v", took.Seconds(), err)
		if err == nil {
			t.Errorf("mpirun exited 0 after a rank was killed\n%s", buf.String())
		}
		if took > 60*time.Second {
			t.Errorf("took %s, want under 60s", took)
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("the job still runs 90s after rank 1 was killed\n%s", buf.String())
	}
	msg := buf.String()
	if !strings.Contains(msg, fmt.Sprintf("lost rank 1 (pid %d", pid)) {
		t.Errorf("no message from rank 0 naming lost rank 1 (pid %d):\n%s", pid, msg)
	}
	// The last checkpoint is whole: it loads into the model.
	cfg, _, err := model.ReadConfig(ck)
	if err != nil {
		t.Fatal(err)
	}
	g, err := model.Build(cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Load(ck)
	if err != nil {
		t.Fatalf("the last checkpoint does not load: %v", err)
	}
	if got.Meta["ranks"] != "2" || model.MetaInt(got.Meta, "step")%5 != 0 {
		t.Errorf("checkpoint metadata: ranks %q, step %q", got.Meta["ranks"], got.Meta["step"])
	}
	// It resumes with two ranks, and one process refuses it naming the count.
	if code := run([]string{"train", "--resume", out}); code != 1 {
		t.Errorf("resuming a 2-rank run in one process: exit %d, want 1", code)
	}
	runMPI(t, 2, "train", "--resume", out, "--steps", fmt.Sprint(model.MetaInt(got.Meta, "step")+2))
	if l := stepLosses(t, out); len(l) != model.MetaInt(got.Meta, "step")+2 {
		t.Errorf("after resuming: %d steps logged", len(l))
	}
}
