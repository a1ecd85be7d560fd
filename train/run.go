package train

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/vkclr/vkclr/train/augment"
	"github.com/vkclr/vkclr/train/data"
	"github.com/vkclr/vkclr/train/plot"
)

// Run folder files.
const (
	ConfigFile  = "config.json"
	MetricsFile = "metrics.jsonl"
	LastCkpt    = "last.safetensors"
)

// testHookStep lets tests act after a step (as a signal would).
var testHookStep func(step int)

// Record is one metrics.jsonl line: a step ("kind": "step") or an epoch.
type Record struct {
	Kind      string             `json:"kind"`
	Step      int                `json:"step"`
	Epoch     int                `json:"epoch"`
	Loss      float64            `json:"loss"`
	Acc       float64            `json:"acc,omitempty"`
	LR        float64            `json:"lr,omitempty"`
	ImgPerSec float64            `json:"img_per_s,omitempty"`
	Time      float64            `json:"time_s"`
	Extra     map[string]float64 `json:"extra,omitempty"`
}

// Result summarizes a finished (or interrupted) run.
type Result struct {
	Steps       int
	Interrupted bool
	Wall        time.Duration
	LastKNN     float64
	Checkpoint  string
}

// Run trains cfg into cfg.Out. With resume it continues the run found there
// exactly where its last checkpoint left it. Cancelling ctx (Ctrl-C, SIGTERM)
// finishes the step in flight, writes a checkpoint and returns with
// Interrupted set and a nil error.
func Run(ctx context.Context, s *Session, cfg Config, resume bool, log io.Writer) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("run folder: %w", err)
	}
	last := filepath.Join(cfg.Out, LastCkpt)
	if !resume {
		if _, err := os.Stat(last); err == nil {
			return nil, fmt.Errorf("%s already holds a run (%s); resume it with --resume %s, or choose another --out", cfg.Out, LastCkpt, cfg.Out)
		}
	}
	ds, err := data.Load(cfg.Data, cfg.DataDir, "train")
	if err != nil {
		return nil, err
	}
	if cfg.Subset > 0 && cfg.Subset < ds.N {
		ds = ds.Subset(cfg.Subset)
	}
	if ds.C != cfg.Model.InChannels {
		cfg.Model.InChannels = ds.C
	}
	if err := cfg.WriteJSON(filepath.Join(cfg.Out, ConfigFile)); err != nil {
		return nil, err
	}
	t, err := NewTrainer(s, cfg, ds)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if resume {
		ck, err := t.G.Load(last)
		if err != nil {
			return nil, fmt.Errorf("resuming: %w", err)
		}
		if err := t.Restore(ck); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "resuming %s at step %d\n", cfg.Out, t.Step())
	} else if err := t.Init(); err != nil {
		return nil, err
	}
	loader, err := augment.NewLoader(ds, t.Aug, augment.LoaderOptions{Batch: cfg.BatchSize, OutC: cfg.Model.DeviceInChannels(), Seed: cfg.Seed, DropLast: true})
	if err != nil {
		return nil, err
	}
	defer loader.Close()

	m, err := openMetrics(cfg.Out, resume, t.Step())
	if err != nil {
		return nil, err
	}
	defer m.close()
	var knnTest, knnTrain *data.Dataset
	if cfg.EvalEvery > 0 {
		if knnTest, err = data.Load(cfg.Data, cfg.DataDir, "test"); err != nil {
			return nil, fmt.Errorf("kNN monitor: %w", err)
		}
		knnTrain = ds
	}
	res := &Result{}
	start := time.Now()
	fmt.Fprintf(log, "training %s (width %d) on %s: %d images, batch %d, %d steps/epoch, %s on %s\n",
		cfg.Model.Arch, cfg.Model.Width, cfg.Data, ds.N, cfg.BatchSize, loader.StepsPerEpoch(), cfg.Optimizer, s.Ctx.Caps.Name)
	hooks := Hooks{
		OnStep: func(st Step) {
			if testHookStep != nil {
				testHookStep(st.Step)
			}
			if cfg.LogEvery <= 1 || st.Step%cfg.LogEvery == 0 {
				m.add(Record{Kind: "step", Step: st.Step, Epoch: st.Epoch + 1, Loss: st.Loss, Acc: st.Acc, LR: st.LR, ImgPerSec: st.ImgPerSec, Time: time.Since(start).Seconds()})
			}
		},
		OnEpoch: func(epoch int, meanLoss float64) map[string]float64 {
			extra := map[string]float64{}
			if cfg.EvalEvery > 0 && epoch%cfg.EvalEvery == 0 {
				acc, err := t.KNN(knnTrain, knnTest, cfg.KNNK, 0.1)
				if err != nil {
					fmt.Fprintf(log, "kNN monitor failed: %v\n", err)
				} else {
					extra["knn_top1"] = acc
					res.LastKNN = acc
					fmt.Fprintf(log, "epoch %d: kNN top-1 %.2f%%\n", epoch, 100*acc)
				}
			}
			m.add(Record{Kind: "epoch", Step: t.Step(), Epoch: epoch, Loss: meanLoss, Time: time.Since(start).Seconds(), Extra: extra})
			if err := t.saveCheckpoint(LastCkpt, epoch); err != nil {
				fmt.Fprintf(log, "saving %s failed: %v\n", LastCkpt, err)
			}
			if cfg.SaveEvery > 0 && epoch%cfg.SaveEvery == 0 {
				if err := t.saveCheckpoint(fmt.Sprintf("epoch-%04d.safetensors", epoch), epoch); err != nil {
					fmt.Fprintf(log, "saving epoch checkpoint failed: %v\n", err)
				}
			}
			m.plots(cfg.Out)
			return extra
		},
	}
	runErr := t.RunSteps(ctx, loader, hooks, log)
	res.Steps, res.Wall = t.Step(), time.Since(start)
	switch {
	case runErr == nil:
	case errors.Is(runErr, context.Canceled) || errors.Is(runErr, context.DeadlineExceeded):
		res.Interrupted = true
	default:
		m.plots(cfg.Out)
		return res, runErr
	}
	epoch := t.Step() / loader.StepsPerEpoch()
	if err := t.saveCheckpoint(LastCkpt, epoch); err != nil {
		return res, fmt.Errorf("saving the final checkpoint: %w", err)
	}
	res.Checkpoint = last
	m.plots(cfg.Out)
	if res.Interrupted {
		fmt.Fprintf(log, "interrupted after step %d; checkpoint saved. Resume with: vkclr train --resume %s\n", t.Step(), cfg.Out)
	}
	return res, nil
}

// metrics appends records to metrics.jsonl and keeps them for the plots.
type metrics struct {
	f    *os.File
	w    *bufio.Writer
	recs []Record
}

// openMetrics opens metrics.jsonl; on resume it keeps the lines up to the
// resumed step, so the file reads like an uninterrupted run.
func openMetrics(dir string, resume bool, step int) (*metrics, error) {
	path := filepath.Join(dir, MetricsFile)
	m := &metrics{}
	if resume {
		if f, err := os.Open(path); err == nil {
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				var r Record
				if json.Unmarshal(sc.Bytes(), &r) == nil && r.Step <= step {
					m.recs = append(m.recs, r)
				}
			}
			f.Close()
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	m.f, m.w = f, bufio.NewWriter(f)
	for _, r := range m.recs {
		b, _ := json.Marshal(r)
		m.w.Write(append(b, '\n'))
	}
	return m, m.w.Flush()
}

func (m *metrics) add(r Record) {
	m.recs = append(m.recs, r)
	b, _ := json.Marshal(r)
	m.w.Write(append(b, '\n'))
	m.w.Flush()
}

func (m *metrics) close() {
	m.w.Flush()
	m.f.Close()
}

// plots writes loss.png, lr.png and knn.png; a plotting failure is not worth stopping a run for.
func (m *metrics) plots(dir string) {
	var ls, lr, kn, el plot.Series
	ls.Name, lr.Name, kn.Name, el.Name = "step loss", "learning rate", "kNN top-1", "epoch mean loss"
	for _, r := range m.recs {
		switch r.Kind {
		case "step":
			ls.X, ls.Y = append(ls.X, float64(r.Step)), append(ls.Y, r.Loss)
			lr.X, lr.Y = append(lr.X, float64(r.Step)), append(lr.Y, r.LR)
		case "epoch":
			el.X, el.Y = append(el.X, float64(r.Step)), append(el.Y, r.Loss)
			if v, ok := r.Extra["knn_top1"]; ok {
				kn.X, kn.Y = append(kn.X, float64(r.Epoch)), append(kn.Y, 100*v)
			}
		}
	}
	_ = plot.LinePlot(filepath.Join(dir, "loss.png"), "NT-Xent loss", "step", "loss", ls, el)
	_ = plot.LinePlot(filepath.Join(dir, "lr.png"), "learning rate", "step", "lr", lr)
	if len(kn.X) > 0 {
		_ = plot.LinePlot(filepath.Join(dir, "knn.png"), "kNN top-1 (test)", "epoch", "accuracy %", kn)
	}
}

// LoadRun reads a run folder's configuration for --resume.
func LoadRun(dir string) (Config, error) {
	cfg, err := ReadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		return cfg, fmt.Errorf("--resume %s: %w (is it a run folder?)", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, LastCkpt)); err != nil {
		return cfg, fmt.Errorf("--resume %s: no %s: the run never saved a checkpoint; start it again", dir, LastCkpt)
	}
	cfg.Out = dir
	return cfg, nil
}
