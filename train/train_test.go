package train

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/model"
	"github.com/vkclr/vkclr/train/mpi"
	"github.com/vkclr/vkclr/vk"
	"github.com/vkclr/vkclr/vk/vktest"
)

var testSession *Session

func TestMain(m *testing.M) {
	os.Exit(vktest.Main(m, "train", func() func() {
		s, err := OpenSession("", true)
		if errors.Is(err, vk.ErrNoDevice) {
			return nil
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "train tests:", err)
			os.Exit(1)
		}
		testSession = s
		return s.Close
	}))
}

func session(t *testing.T) *Session {
	if testSession == nil {
		t.Skip("no Vulkan device on this machine")
	}
	return testSession
}

// writeTinyCIFAR writes a CIFAR-10-format dataset of n images per file:
// class-dependent colored blobs with noise, so there is something to learn.
func writeTinyCIFAR(t *testing.T, n int) string {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	rec := func() []byte {
		b := make([]byte, 3073)
		label := r.IntN(10)
		b[0] = byte(label)
		for c := 0; c < 3; c++ {
			for p := 0; p < 1024; p++ {
				v := 60 + 15*((label+c*3)%10) + r.IntN(40)
				if (p/32/8+p%32/8)%2 == label%2 {
					v += 40
				}
				b[1+c*1024+p] = byte(min(v, 255))
			}
		}
		return b
	}
	for _, f := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		var buf []byte
		for i := 0; i < n; i++ {
			buf = append(buf, rec()...)
		}
		if err := os.WriteFile(filepath.Join(dir, f), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func tinyConfig(dataDir, out string) Config {
	c := Presets["cifar10"]
	c.DataDir, c.Out = dataDir, out
	c.Model = model.Config{Arch: "resnet18", Width: 2, Stem: "cifar", InChannels: 3, ImageSize: 32, ProjHidden: 8, ProjDim: 4}
	c.BatchSize, c.Epochs, c.Steps, c.Subset = 4, 1, 4, 16
	c.Optimizer, c.LR, c.WarmupEpochs = "sgd", 0.3, 0.5
	c.LogEvery, c.EvalEvery, c.SaveEvery = 1, 0, 0
	return c
}

func losses(t *testing.T, dir string) []float64 {
	f, err := os.Open(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Kind == "step" {
			out = append(out, r.Loss)
		}
	}
	return out
}

// TestResumeIsExact: 4 steps equal 2 steps, an interruption, a resume and 2
// more steps, loss for loss, bit for bit (same device).
func TestResumeIsExact(t *testing.T) {
	s := session(t)
	data := writeTinyCIFAR(t, 4)
	for _, opt := range []string{"sgd", "lars", "adamw"} {
		t.Run(opt, func(t *testing.T) {
			a := tinyConfig(data, filepath.Join(t.TempDir(), "a"))
			a.Optimizer = opt
			if _, err := Run(context.Background(), s, a, false, io.Discard); err != nil {
				t.Fatal(err)
			}
			want := losses(t, a.Out)
			if len(want) != 4 {
				t.Fatalf("%d losses logged", len(want))
			}

			b := a
			b.Out = filepath.Join(t.TempDir(), "b")
			ctx, cancel := context.WithCancel(context.Background())
			testHookStep = func(step int) {
				if step == 2 {
					cancel() // as Ctrl-C would
				}
			}
			res, err := Run(ctx, s, b, false, io.Discard)
			testHookStep = nil
			if err != nil || !res.Interrupted || res.Steps != 2 {
				t.Fatalf("interrupted run: %+v, %v", res, err)
			}
			rb, err := LoadRun(b.Out)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Run(context.Background(), s, rb, true, io.Discard); err != nil {
				t.Fatal(err)
			}
			got := losses(t, b.Out)
			if len(got) != 4 {
				t.Fatalf("resumed run logged %d losses", len(got))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("step %d: loss %v after resume, %v uninterrupted", i+1, got[i], want[i])
				}
			}
			if want[0] == want[3] {
				t.Error("the loss did not change: nothing was trained")
			}
		})
	}
}

// TestNonFiniteStops: a diverging run stops with an error naming the step,
// and the checkpoint written before stays byte for byte.
func TestNonFiniteStops(t *testing.T) {
	s := session(t)
	data := writeTinyCIFAR(t, 4)
	c := tinyConfig(data, filepath.Join(t.TempDir(), "run"))
	c.Steps = 2
	if _, err := Run(context.Background(), s, c, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(c.Out, LastCkpt)
	before, _ := os.ReadFile(ck)
	r, err := LoadRun(c.Out)
	if err != nil {
		t.Fatal(err)
	}
	r.Steps, r.LR, r.WarmupEpochs = 4, 1e36, 0
	_, err = Run(context.Background(), s, r, true, io.Discard)
	// lr 1e36 makes the weights huge but finite at step 3; step 4's forward overflows.
	if !errors.Is(err, ErrNonFinite) || !(strings.Contains(err.Error(), "at step 3 ") || strings.Contains(err.Error(), "at step 4 ")) {
		t.Fatalf("diverging run: %v", err)
	}
	after, _ := os.ReadFile(ck)
	if sha256.Sum256(before) != sha256.Sum256(after) {
		t.Fatal("the last good checkpoint changed")
	}
}

func TestRunFolderRefusesOverwrite(t *testing.T) {
	s := session(t)
	data := writeTinyCIFAR(t, 4)
	c := tinyConfig(data, filepath.Join(t.TempDir(), "run"))
	c.Steps = 1
	if _, err := Run(context.Background(), s, c, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ConfigFile, MetricsFile, LastCkpt, "loss.png", "lr.png"} {
		if _, err := os.Stat(filepath.Join(c.Out, f)); err != nil {
			t.Errorf("run folder lacks %s", f)
		}
	}
	if _, err := Run(context.Background(), s, c, false, io.Discard); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("second run into the same folder: %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	good := tinyConfig("x", "y")
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Config){
		"batch":       func(c *Config) { c.BatchSize = 1 },
		"optimizer":   func(c *Config) { c.Optimizer = "rmsprop" },
		"lr":          func(c *Config) { c.LR = -1 },
		"scaling":     func(c *Config) { c.LRScaling = "log" },
		"temperature": func(c *Config) { c.Temperature = 0 },
		"augment":     func(c *Config) { c.Augment = "bogus" },
		"nesterov":    func(c *Config) { c.Nesterov, c.Momentum = true, 0 },
		"arch":        func(c *Config) { c.Model.Arch = "vgg" },
		"out":         func(c *Config) { c.Out = "" },
	} {
		c := good
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLRSchedule(t *testing.T) {
	c := tinyConfig("", "x")
	c.LR, c.BatchSize, c.WarmupEpochs = 1, 512, 1
	if c.PeakLR() != 2 {
		t.Fatalf("linear scaling: %v", c.PeakLR())
	}
	if got := c.LRAt(0, 10, 100); got != 0.2 {
		t.Errorf("first warm-up step: %v", got)
	}
	if got := c.LRAt(10, 10, 100); got != 2 {
		t.Errorf("end of warm-up: %v", got)
	}
	if got := c.LRAt(55, 10, 100); got < 0.99 || got > 1.01 {
		t.Errorf("cosine midpoint: %v", got)
	}
	c.LRScaling = "sqrt"
	if c.PeakLR() != 1.4142135623730951 {
		t.Errorf("sqrt scaling: %v", c.PeakLR())
	}
}

// TestDistOneRankMatchesStep runs the data-parallel step (cut at every
// batchnorm, statistics combined on the host in float64, projections
// gathered, gradients through host memory) with one rank beside the
// single-sequence step: the same losses within rounding.
func TestDistOneRankMatchesStep(t *testing.T) {
	s := session(t)
	dir := writeTinyCIFAR(t, 8)
	cfg := Presets["demo"]
	cfg.Data, cfg.DataDir, cfg.Subset, cfg.Steps, cfg.BatchSize, cfg.LogEvery = "cifar10", dir, 16, 3, 8, 1
	cfg.Model = model.Config{Arch: "resnet18", Width: 4, Stem: "cifar", InChannels: 3, ImageSize: 16, ProjHidden: 8, ProjDim: 4}
	run := func(dist bool) []float64 {
		distAlone = dist
		defer func() { distAlone = false }()
		c := cfg
		c.Out = filepath.Join(t.TempDir(), "run")
		one, _ := mpi.Init()
		if _, err := Run(WithComm(context.Background(), one), s, c, false, io.Discard); err != nil {
			t.Fatal(err)
		}
		return losses(t, c.Out)
	}
	a, b := run(false), run(true)
	if len(a) != 3 || len(b) != 3 {
		t.Fatalf("losses %v %v", a, b)
	}
	for i := range a {
		if d := math.Abs(a[i]-b[i]) / a[i]; d > 1e-5 {
			t.Errorf("step %d: loss %v (one sequence) vs %v (data-parallel path)", i+1, a[i], b[i])
		}
	}
}
