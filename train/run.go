package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/vkclr/vkclr/internal/diskio"
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

// testHookStep lets tests act at the end of a step (as a signal arriving during it would).
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
	// A save cut short by a crash or a kill leaves its hidden temporary file.
	stale, _ := filepath.Glob(filepath.Join(cfg.Out, ".*.tmp-*"))
	for _, f := range stale {
		os.Remove(f)
	}
	if !resume {
		if _, err := os.Stat(last); err == nil {
			return nil, fmt.Errorf("%s already holds a run (%s); resume it with --resume %s, or choose another --out", cfg.Out, LastCkpt, cfg.Out)
		}
	}
	fo := cfg.FolderOptions(log)
	fo.Ctx = ctx // Ctrl-C stops a cache build too
	ds, err := data.Open(cfg.Data, cfg.DataDir, data.PretrainSplit(cfg.Data), fo)
	if err != nil {
		return nil, err
	}
	if cfg.Subset > 0 && cfg.Subset < ds.N {
		ds = ds.Subset(cfg.Subset)
	}
	if ds.C != cfg.Model.InChannels {
		cfg.Model.InChannels = ds.C
	}
	var t *Trainer
	if c := commFrom(ctx); c != nil {
		t, err = newDistTrainer(s, cfg, ds, c)
	} else {
		t, err = NewTrainer(s, cfg, ds)
	}
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if resume {
		ck, err := t.G.Load(last)
		if err != nil {
			return nil, fmt.Errorf("resuming: %w", err)
		}
		if err := t.checkRanks(ck); err != nil {
			return nil, err
		}
		if err := t.Restore(ck); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "resuming %s at step %d\n", cfg.Out, t.Step())
	} else if err := t.Init(); err != nil {
		return nil, err
	}
	// Written once the checkpoint has loaded, atomically, and only if the
	// settings changed: a crash here leaves the folder resumable.
	if err := cfg.WriteJSON(filepath.Join(cfg.Out, ConfigFile)); err != nil {
		return nil, err
	}
	if err := t.distStart(); err != nil {
		return nil, err
	}
	loader, err := augment.NewLoader(ds, t.Aug, augment.LoaderOptions{Batch: cfg.BatchSize, OutC: cfg.Model.DeviceInChannels(), Seed: cfg.Seed, DropLast: true,
		Part: t.rank(), Parts: t.ranks()})
	if err != nil {
		return nil, err
	}
	defer loader.Close()

	m, err := openMetrics(cfg.Out, resume, t.Step())
	if err != nil {
		return nil, err
	}
	defer m.close()
	knnTrain, knnTest, err := knnSplits(cfg, ds, log)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	start := time.Now()
	savedAt := -1 // the step last.safetensors holds
	save := func(name string, epoch int) error {
		// Metrics reach the disk before the checkpoint that a resume trims them to.
		if err := m.sync(); err != nil {
			return err
		}
		if err := t.saveCheckpoint(name, epoch); err != nil {
			return fmt.Errorf("%w\nthe run stopped; the checkpoint saved before is intact. Free space and resume with: vkclr train --resume %s", err, cfg.Out)
		}
		if name == LastCkpt {
			savedAt = t.Step()
		}
		return nil
	}
	fmt.Fprintf(log, "training %s (width %d) on %s: %d images, batch %d, %d steps/epoch, %s on %s\n",
		cfg.Model.Arch, cfg.Model.Width, cfg.Data, ds.N, cfg.BatchSize, loader.StepsPerEpoch(), cfg.Optimizer, s.Ctx.Caps.Name)
	hooks := Hooks{
		OnStep: func(st Step) error {
			if cfg.LogEvery <= 1 || st.Step%cfg.LogEvery == 0 || st.Last {
				return m.add(Record{Kind: "step", Step: st.Step, Epoch: st.Epoch + 1, Loss: st.Loss, Acc: st.Acc, LR: st.LR, ImgPerSec: st.ImgPerSec, Time: time.Since(start).Seconds()})
			}
			return nil
		},
		OnEpoch: func(e EpochEnd) error {
			extra := map[string]float64{}
			if e.Complete && knnTest != nil && e.Epoch%cfg.EvalEvery == 0 {
				acc, err := t.KNN(knnTrain, knnTest, cfg.KNNK, 0.1)
				if err != nil {
					fmt.Fprintf(log, "kNN monitor failed: %v\n", err)
				} else {
					extra["knn_top1"] = acc
					res.LastKNN = acc
					fmt.Fprintf(log, "epoch %d: kNN top-1 %.2f%%\n", e.Epoch, 100*acc)
				}
			}
			if err := m.add(Record{Kind: "epoch", Step: t.Step(), Epoch: e.Epoch, Loss: e.MeanLoss, Time: time.Since(start).Seconds(), Extra: extra}); err != nil {
				return err
			}
			if err := save(LastCkpt, t.Step()/loader.StepsPerEpoch()); err != nil {
				return err
			}
			if e.Complete && cfg.SaveEvery > 0 && e.Epoch%cfg.SaveEvery == 0 {
				if err := save(fmt.Sprintf("epoch-%04d.safetensors", e.Epoch), e.Epoch); err != nil {
					return err
				}
			}
			m.plots(cfg.Out, log)
			return nil
		},
	}
	runErr := t.RunSteps(ctx, loader, hooks, log)
	res.Steps, res.Wall = t.Step(), time.Since(start)
	switch {
	case runErr == nil:
	case errors.Is(runErr, context.Canceled) || errors.Is(runErr, context.DeadlineExceeded):
		res.Interrupted = true
	default:
		m.plots(cfg.Out, log)
		return res, runErr
	}
	if savedAt != t.Step() {
		if err := save(LastCkpt, t.Step()/loader.StepsPerEpoch()); err != nil {
			return res, fmt.Errorf("saving the final checkpoint: %w", err)
		}
		m.plots(cfg.Out, log)
	}
	res.Checkpoint = last
	if res.Interrupted {
		fmt.Fprintf(log, "interrupted after step %d; checkpoint saved. Resume with: vkclr train --resume %s\n", t.Step(), cfg.Out)
	}
	return res, nil
}

// knnSplits returns the splits of the kNN monitor (nil when it is off): the
// training images (the labeled ones where pre-training reads unlabeled
// ones, as STL-10's) and the test split. An image folder without labels or
// without a test split turns the monitor off with a note instead of failing.
func knnSplits(cfg Config, ds *data.Dataset, log io.Writer) (knnTrain, knnTest *data.Dataset, err error) {
	if cfg.EvalEvery <= 0 {
		return nil, nil, nil
	}
	folder := !data.IsBuiltin(cfg.Data)
	if folder && ds.Labels == nil {
		fmt.Fprintf(log, "kNN monitor off: %s has no class folders (labels)\n", cfg.Data)
		return nil, nil, nil
	}
	opts := cfg.FolderOptions(log)
	if knnTest, err = data.Open(cfg.Data, cfg.DataDir, "test", opts); err != nil {
		if folder && errors.Is(err, data.ErrNotFound) {
			fmt.Fprintf(log, "kNN monitor off: %v\n", err)
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("kNN monitor: %w", err)
	}
	knnTrain = ds
	if ds.Labels == nil {
		if knnTrain, err = data.Open(cfg.Data, cfg.DataDir, "train", opts); err != nil {
			return nil, nil, fmt.Errorf("kNN monitor: %w", err)
		}
	}
	return knnTrain, knnTest, nil
}

// metrics appends records to metrics.jsonl and keeps them for the plots.
// The file is only ever appended to, except that a resume cuts it back to
// the records its checkpoint had seen.
type metrics struct {
	f    *os.File
	w    io.Writer
	path string
	recs []Record
}

// openMetrics opens metrics.jsonl for appending. On resume it first drops
// the records after the checkpoint's step (the steps the resumed run will
// redo) and a last line cut short by a crash, so the file reads like an
// uninterrupted run's. A fresh run starts it empty.
func openMetrics(dir string, resume bool, step int) (*metrics, error) {
	path := filepath.Join(dir, MetricsFile)
	m := &metrics{path: path}
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if !resume {
		flags |= os.O_TRUNC
	} else {
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("resuming: %w", err)
		}
		keep := 0
		for line := 1; keep < len(b); line++ {
			n := bytes.IndexByte(b[keep:], '\n')
			if n < 0 {
				break // cut short by a crash
			}
			var r Record
			if err := json.Unmarshal(b[keep:keep+n], &r); err != nil {
				return nil, fmt.Errorf("resuming: %s line %d is not a metrics record (%v); move the file aside to resume without it", path, line, err)
			}
			if r.Step > step {
				break
			}
			m.recs = append(m.recs, r)
			keep += n + 1
		}
		if keep < len(b) {
			if err := os.Truncate(path, int64(keep)); err != nil {
				return nil, fmt.Errorf("resuming: %w", err)
			}
		}
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, err
	}
	m.f, m.w = f, diskio.Check(f, path)
	return m, nil
}

// add appends r as one line; a failed write (a full disk) stops the run.
func (m *metrics) add(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := m.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w\nthe run stopped; the last checkpoint is intact. Free space and resume with: vkclr train --resume %s", m.path, err, filepath.Dir(m.path))
	}
	m.recs = append(m.recs, r)
	return nil
}

func (m *metrics) sync() error {
	if err := m.f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", m.path, err)
	}
	return nil
}

func (m *metrics) close() { m.f.Close() }

// plots writes loss.png, lr.png and knn.png. A plot that fails is reported
// but does not stop the run: metrics.jsonl holds the data.
func (m *metrics) plots(dir string, log io.Writer) {
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
	errs := []error{
		plot.LinePlot(filepath.Join(dir, "loss.png"), "NT-Xent loss", "step", "loss", ls, el),
		plot.LinePlot(filepath.Join(dir, "lr.png"), "learning rate", "step", "lr", lr),
	}
	if len(kn.X) > 0 {
		errs = append(errs, plot.LinePlot(filepath.Join(dir, "knn.png"), "kNN top-1 (test)", "epoch", "accuracy %", kn))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(log, "warning: drawing the plots failed (metrics.jsonl holds the data): %v\n", err)
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
