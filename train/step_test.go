package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"testing"

	"github.com/vkclr/vkclr/model"
	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/train/augment"
	"github.com/vkclr/vkclr/train/data"
)

// TestStepsMatchCPU runs two training steps of the real loop (RunSteps: the
// learning-rate schedule, the hyperparameter buffer, the recorded step with
// its loss, backward and optimizer) and replays them on the float64 CPU
// model with the plain-Go loss and optimizers, on the batches the loader
// put in the staging buffers: the loss and, after each step, every
// parameter tensor's change and the running statistics agree. The
// weight-decay exclusions are derived here from the tensor shapes (vectors:
// biases and batchnorm), not taken from the graph.
func TestStepsMatchCPU(t *testing.T) {
	s := session(t)
	dir := writeTinyCIFAR(t, 8)
	for _, tc := range []struct {
		opt      string
		nesterov bool
		px       int
	}{{"sgd", false, 16}, {"sgd", true, 16}, {"lars", false, 16}, {"lars", true, 16}, {"adamw", false, 16},
		// At 32 px the width-2 network's last stage (16 channels) has 4x4 maps: F(4x4) grad weight
		// on the cpu variant, in the optimizer most sensitive to small gradient errors.
		{"adamw", false, 32}} {
		t.Run(fmt.Sprintf("%s_nesterov=%v_%dpx", tc.opt, tc.nesterov, tc.px), func(t *testing.T) {
			c := tinyConfig(dir, filepath.Join(t.TempDir(), "run"))
			c.Model.ImageSize = tc.px
			c.Optimizer, c.Nesterov, c.Steps = tc.opt, tc.nesterov, 2
			// Weight decay a sizeable part of every update, and updates
			// far above the weights' float32 rounding (the peak rate is
			// LR*batch/256, half of it at the first warm-up step).
			c.WeightDecay, c.LR = 0.05, map[string]float64{"sgd": 10, "lars": 100, "adamw": 0.5}[tc.opt]
			stepsMatchCPU(t, s, c)
		})
	}
}

func stepsMatchCPU(t *testing.T, s *Session, c Config) {
	ds := loadTiny(t, c)
	tr, err := NewTrainer(s, c, ds)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Init(); err != nil {
		t.Fatal(err)
	}
	g := tr.G
	download := func() ([]float32, []float32) {
		p, st := make([]float32, g.NParams), make([]float32, g.NState)
		if err := tr.W.Download(s.Ctx, p, st); err != nil {
			t.Fatal(err)
		}
		return p, st
	}
	p0, s0 := download()
	loader, err := augment.NewLoader(ds, tr.Aug, augment.LoaderOptions{Batch: c.BatchSize, OutC: c.Model.DeviceInChannels(), Seed: c.Seed, DropLast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer loader.Close()
	var params, states [][]float32
	var losses []float64
	testHookStep = func(int) {
		p, st := download()
		params, states = append(params, p), append(states, st)
	}
	defer func() { testHookStep = nil }()
	err = tr.RunSteps(context.Background(), loader, Hooks{OnStep: func(st Step) error {
		losses = append(losses, st.Loss)
		return nil
	}}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(params) != 2 || len(losses) != 2 {
		t.Fatalf("%d steps observed, %d losses", len(params), len(losses))
	}

	// The CPU replay: step i read staging buffer i (the loader fills the
	// other one while the device works; two steps load two batches).
	segs := make([]ref.Segment, len(g.Params))
	for i, p := range g.Params {
		segs[i] = ref.Segment{Offset: p.Offset, Len: p.Len, Exclude: len(p.Shape) == 1}
	}
	w := f64(p0)
	st := f64(s0)
	mom := make([]float64, g.NParams)
	v := make([]float64, g.NParams)
	D := g.Tensors[g.Output].C
	spe := loader.StepsPerEpoch()
	worst := 0.0
	defer func() { t.Logf("largest normalized error of a tensor's change: %.3g", worst) }()
	for step := 0; step < 2; step++ {
		cpu := model.NewCPU[float64](g)
		copy(cpu.Params, w)
		copy(cpu.State, st)
		out := cpu.Forward(f64(tr.b.staging[step].Float32s()), true)
		loss, _, dOut := model.SimCLRLoss(out, 2*c.BatchSize, D, c.Temperature)
		cpu.Backward(dOut)
		lr := c.LRAt(step, spe, c.Steps)
		before := append([]float64(nil), w...)
		switch c.Optimizer {
		case "sgd":
			ref.SGDStep(w, cpu.Grads, mom, segs, lr, c.Momentum, c.WeightDecay, c.Nesterov)
		case "lars":
			ref.LARSStep(w, cpu.Grads, mom, segs, lr, c.Momentum, c.WeightDecay, ref.DefaultLARSEta, c.Nesterov)
		case "adamw":
			ref.AdamWStep(w, cpu.Grads, mom, v, segs, lr, 0.9, 0.999, 1e-8, c.WeightDecay, step+1)
		}
		st = cpu.State
		// Tolerances: float32 through the network vs float64 (the model's
		// gradients agree to ~1e-3 normalized, see model.TestDeviceMatchesCPU),
		// the second step inheriting the first's differences.
		if d := math.Abs(losses[step] - loss); d > 1e-4*math.Abs(loss) {
			t.Errorf("step %d: loss %v, CPU %v", step+1, losses[step], loss)
		}
		gotPrev := p0
		if step > 0 {
			gotPrev = params[step-1]
		}
		for _, p := range g.Params {
			got := make([]float32, p.Len)
			want := make([]float32, p.Len)
			m, mw := 0.0, 0.0
			for i := range got {
				j := p.Offset + i
				got[i] = float32(float64(params[step][j]) - float64(gotPrev[j]))
				want[i] = float32(w[j] - before[j])
				m = max(m, math.Abs(w[j]-before[j]))
				mw = max(mw, math.Abs(before[j]))
			}
			// Per element: 2e-3 of the tensor's largest change, plus the
			// new weight's float32 rounding (one ulp of the largest weight).
			// AdamW's first steps move each weight by ~lr*sign(g): where
			// |g| is at float32's noise its sign may differ.
			// Normalized errors measured on lavapipe: <= 1.7e-4.
			tl := ops.Tol{Atol: 2e-3*m + mw*0x1p-23, Nerr: 2e-3, Why: "float32 step vs float64 replay, by tensor"}
			if c.Optimizer == "adamw" {
				tl.Atol, tl.Nerr = 2.01*lr, 1e-2
			}
			_, ne, err := ops.Compare(got, want, tl)
			if err != nil {
				t.Errorf("step %d: change of %s: %v", step+1, p.Name, err)
			}
			worst = max(worst, ne)
		}
		got32 := states[step]
		want32 := make([]float32, len(st))
		for i, x := range st {
			want32[i] = float32(x)
		}
		if _, _, err := ops.Compare(got32, want32, ops.Tol{Atol: 1e-4, Rtol: 1e-3, Nerr: 1e-4, Why: "float32 batch statistics"}); err != nil {
			t.Errorf("step %d: running statistics: %v", step+1, err)
		}
		// Continue from the device's weights so the steps are compared one by one.
		w = f64(params[step])
	}
}

func f64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func loadTiny(t *testing.T, c Config) *data.Dataset {
	ds, err := data.Load(c.Data, c.DataDir, "train")
	if err != nil {
		t.Fatal(err)
	}
	if c.Subset > 0 && c.Subset < ds.N {
		ds = ds.Subset(c.Subset)
	}
	return ds
}
