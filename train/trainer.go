package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/vkclr/vkclr/model"
	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/train/augment"
	"github.com/vkclr/vkclr/train/data"
	"github.com/vkclr/vkclr/train/progress"
	"github.com/vkclr/vkclr/vk"
)

// ErrNonFinite reports a NaN or Inf loss or gradient; the run stops and
// the last checkpoint written before it stays as it was.
var ErrNonFinite = errors.New("non-finite loss or gradient")

// Session is an open device with its kernels, shared by training and evaluation.
type Session struct {
	Ctx *vk.Context
	K   *ops.Kernels
}

// OpenSession opens the device named by sel ("" for the best).
func OpenSession(sel string, validate bool) (*Session, error) {
	c, err := vk.Open(vk.Options{Device: sel, Validate: validate})
	if err != nil {
		return nil, err
	}
	k, err := ops.New(c, ops.Options{})
	if err != nil {
		c.Close()
		return nil, err
	}
	return &Session{Ctx: c, K: k}, nil
}

// Close releases the device.
func (s *Session) Close() { s.Ctx.Close() }

// Step is what one training step reports.
type Step struct {
	Step, Epoch int
	Loss, Acc   float64
	LR          float64
	ImgPerSec   float64
	Last        bool // the last step of its epoch or of the run (end or interruption)
}

// stepBuffers are the device buffers of the loss and the optimizer.
type stepBuffers struct {
	z, norms, sim, dz *vk.Buffer
	out               *vk.Buffer // host-visible: loss, acc, non-finite flag
	hyper             *vk.Buffer // host-visible optimizer hyperparameters
	segs              *vk.Buffer // int32 (offset, len, exclude) per parameter tensor
	opt               map[string]*vk.Buffer
	lars              *vk.Buffer // LARS per-segment norms
	staging           [2]*vk.Buffer
}

// Trainer holds one run: the graph on the device, the optimizer state and
// two recorded steps (one per staging buffer) replayed alternately.
type Trainer struct {
	Cfg  Config
	S    *Session
	G    *model.Graph
	W    *model.Weights
	Dev  *model.Device
	Aug  augment.Config
	Data *data.Dataset

	b       stepBuffers
	seqs    [2]*vk.Seq
	bufs    []*vk.Buffer
	step    int   // steps done
	tracked int64 // batchnorm num_batches_tracked

	// The current epoch's loss sum and step count, saved in checkpoints so
	// an epoch resumed midway reports the mean an uninterrupted run would.
	epochLoss  float64
	epochSteps int
	dist       *distState
}

// NewTrainer builds the graph for cfg on s's device with fresh or given weights.
func NewTrainer(s *Session, cfg Config, ds *data.Dataset) (*Trainer, error) {
	aug, err := cfg.AugmentConfig()
	if err != nil {
		return nil, err
	}
	// The ops split every activation over bindings that fit, but NT-Xent
	// binds its (2N)^2 similarity matrix whole.
	if limit, n2 := s.Ctx.Caps.MaxStorageBufferRange, uint64(2*cfg.BatchSize); 4*n2*n2 > limit {
		fit := int(math.Sqrt(float64(limit/4))) / 2
		return nil, fmt.Errorf("--batch-size %d: NT-Xent's similarity matrix of %d x %d views (%s) exceeds this device's maxStorageBufferRange (%s); use --batch-size %d or less",
			cfg.BatchSize, n2, n2, vk.FormatBytes(4*n2*n2), vk.FormatBytes(limit), fit)
	}
	g, err := model.Build(cfg.Model, 2*cfg.BatchSize)
	if err != nil {
		return nil, err
	}
	t := &Trainer{Cfg: cfg, S: s, G: g, Aug: aug, Data: ds}
	ok := false
	defer func() {
		if !ok {
			t.Close()
		}
	}()
	c := s.Ctx
	if t.W, err = model.NewWeights(c, g); err != nil {
		return nil, oomHint(err, cfg.BatchSize)
	}
	if t.Dev, err = model.NewDevice(s.K, g, t.W, true); err != nil {
		return nil, oomHint(err, cfg.BatchSize)
	}
	n2, D := 2*cfg.BatchSize, g.Tensors[g.Output].C
	dev := func(floats int) *vk.Buffer {
		if err != nil {
			return nil
		}
		var b *vk.Buffer
		b, err = c.NewBuffer(uint64(4 * max(floats, 1)))
		t.bufs = append(t.bufs, b)
		return b
	}
	host := func(bytes int) *vk.Buffer {
		if err != nil {
			return nil
		}
		var b *vk.Buffer
		b, err = c.NewHostBuffer(uint64(max(bytes, 4)))
		t.bufs = append(t.bufs, b)
		return b
	}
	t.b.z, t.b.norms, t.b.sim, t.b.dz = dev(n2*D), dev(n2), dev(n2*n2), dev(n2*D)
	t.b.out = host(4 * 4)
	t.b.hyper = host(4 * 16)
	t.b.segs = dev(3 * len(g.Params))
	t.b.opt = map[string]*vk.Buffer{}
	for _, name := range optimizerSlots(cfg.Optimizer) {
		t.b.opt[name] = dev(g.NParams)
	}
	t.b.lars = dev(ops.LARSScratch(len(g.Params)))
	in := g.Tensors[g.Input].Len()
	t.b.staging[0], t.b.staging[1] = host(4*in), host(4*in)
	if err != nil {
		return nil, oomHint(err, cfg.BatchSize)
	}
	segs := make([]int32, 0, 3*len(g.Params))
	for _, sg := range g.Segments() {
		ex := int32(0)
		if sg.Exclude {
			ex = 1
		}
		segs = append(segs, int32(sg.Offset), int32(sg.Len), ex)
	}
	if err := c.Upload(t.b.segs.All(), int32Bytes(segs)); err != nil {
		return nil, err
	}
	ok = true
	return t, nil
}

func optimizerSlots(opt string) []string {
	switch opt {
	case "adamw":
		return []string{"adam_m", "adam_v"}
	}
	return []string{"momentum"}
}

func oomHint(err error, batch int) error {
	if errors.Is(err, vk.ErrOutOfDeviceMemory) || errors.Is(err, vk.ErrOutOfHostMemory) {
		return fmt.Errorf("%w\nthe device ran out of memory at batch %d: try --batch-size %d", err, batch, max(batch/2, 2))
	}
	return err
}

// Init sets fresh weights from the seed (the encoder from Cfg.InitFrom when set) and zero
// optimizer state.
func (t *Trainer) Init() error {
	p := make([]float32, t.G.NParams)
	st := make([]float32, t.G.NState)
	t.G.Init(t.Cfg.Seed, p, st)
	if t.Cfg.InitFrom != "" {
		if err := t.G.InitEncoder(t.Cfg.InitFrom, p, st); err != nil {
			return fmt.Errorf("--init-from: %w", err)
		}
	}
	if err := t.W.Upload(t.S.Ctx, p, st); err != nil {
		return err
	}
	return t.zeroOptimizer()
}

func (t *Trainer) zeroOptimizer() error {
	return t.S.Ctx.Run(func(s *vk.Seq) {
		for _, b := range t.b.opt {
			s.NoBarrier()
			s.Fill(b.All(), 0)
		}
	})
}

// Restore loads a checkpoint's weights, statistics and optimizer state.
func (t *Trainer) Restore(ck *model.Checkpoint) error {
	c := t.S.Ctx
	if err := t.W.Upload(c, ck.Params, ck.State); err != nil {
		return err
	}
	if err := t.zeroOptimizer(); err != nil {
		return err
	}
	for name, b := range t.b.opt {
		if v, ok := ck.Opt[name]; ok {
			if err := c.UploadF32(b.All(), v); err != nil {
				return err
			}
		}
	}
	t.tracked = ck.BatchesTracked
	t.step = model.MetaInt(ck.Meta, "step")
	t.epochSteps = model.MetaInt(ck.Meta, "epoch_loss_steps")
	t.epochLoss, _ = strconv.ParseFloat(ck.Meta["epoch_loss_sum"], 64)
	return nil
}

// Checkpoint reads the run's state back from the device.
func (t *Trainer) Checkpoint(epoch int) (*model.Checkpoint, error) {
	c := t.S.Ctx
	ck := &model.Checkpoint{Cfg: t.G.Cfg, Params: make([]float32, t.G.NParams), State: make([]float32, t.G.NState),
		BatchesTracked: t.tracked, Opt: map[string][]float32{}}
	if err := t.W.Download(c, ck.Params, ck.State); err != nil {
		return nil, err
	}
	for name, b := range t.b.opt {
		v := make([]float32, t.G.NParams)
		if err := c.DownloadF32(v, b.All()); err != nil {
			return nil, err
		}
		ck.Opt[name] = v
	}
	cfgJSON, _ := json.Marshal(t.Cfg)
	ck.Meta = map[string]string{"epoch": strconv.Itoa(epoch), "step": strconv.Itoa(t.step), "train_config": string(cfgJSON),
		"arch": t.Cfg.Model.Arch, "width": strconv.Itoa(t.Cfg.Model.Width), "stem": t.Cfg.Model.Stem, "dataset": t.Cfg.Data,
		"epoch_loss_sum": strconv.FormatFloat(t.epochLoss, 'g', -1, 64), "epoch_loss_steps": strconv.Itoa(t.epochSteps)}
	return ck, nil
}

// record builds the step that reads staging buffer i.
func (t *Trainer) record(i int, timed bool) *vk.Seq {
	g, k, d := t.G, t.S.K, t.Dev
	s := t.S.Ctx.NewSeq()
	s.SetTiming(timed)
	n2, D := 2*t.Cfg.BatchSize, g.Tensors[g.Output].C
	s.Label("upload")
	s.Copy(d.Act(g.Input), t.b.staging[i].All())
	d.RecordForward(s, true)
	p := ref.NTXent{N: t.Cfg.BatchSize, D: D, Temperature: t.Cfg.Temperature}
	z, dz := t.b.z.All(), t.b.dz.All()
	s.Label("l2norm")
	k.L2Normalize(s, n2, D, d.Act(g.Output), z, t.b.norms.All())
	s.Label("ntxent")
	k.NTXent(s, p, z, t.b.sim.All(), ops.F32(t.b.out, 0, 2))
	s.Label("ntxent_bwd")
	k.NTXentBackward(s, p, z, t.b.sim.All(), dz)
	s.Label("l2norm_bwd")
	k.L2NormalizeBackward(s, n2, D, z, t.b.norms.All(), dz, d.Grad(g.Output))
	d.RecordBackward(s)
	s.Label("nonfinite")
	t.recordUpdate(s)
	return s
}

// recordUpdate records the non-finite check of the gradients, the optimizer
// step and the check of its result.
func (t *Trainer) recordUpdate(s *vk.Seq) {
	g, k, d := t.G, t.S.K, t.Dev
	s.Label("nonfinite")
	k.NonFinite(s, g.NParams, d.Grads.All(), ops.F32(t.b.out, 2, 1))
	s.Label("optimizer")
	np, params, grads, segs, hyper := g.NParams, t.W.Params.All(), d.Grads.All(), t.b.segs.All(), t.b.hyper.All()
	switch t.Cfg.Optimizer {
	case "sgd":
		k.SGDStep(s, np, len(g.Params), params, grads, t.b.opt["momentum"].All(), segs, hyper, t.Cfg.Nesterov)
	case "lars":
		k.LARSStep(s, np, len(g.Params), params, grads, t.b.opt["momentum"].All(), segs, hyper, t.b.lars.All(), t.Cfg.Nesterov)
	case "adamw":
		k.AdamWStep(s, np, len(g.Params), params, grads, t.b.opt["adam_m"].All(), t.b.opt["adam_v"].All(), segs, hyper)
	}
	// An update that overflowed shows in the step that made it.
	s.Label("nonfinite")
	k.NonFiniteOr(s, np, params, ops.F32(t.b.out, 2, 1))
}

// setHyper writes the step's optimizer hyperparameters.
func (t *Trainer) setHyper(lr float64) {
	var h []float32
	c := &t.Cfg
	switch c.Optimizer {
	case "sgd":
		h = ops.SGDHyper(lr, c.Momentum, c.WeightDecay)
	case "lars":
		h = ops.LARSHyper(lr, c.Momentum, c.WeightDecay, ref.DefaultLARSEta)
	case "adamw":
		h = ops.AdamWHyper(lr, 0.9, 0.999, 1e-8, c.WeightDecay, t.step+1)
	}
	copy(t.b.hyper.Float32s(), h)
}

// Close releases the run's device buffers (not the session).
func (t *Trainer) Close() {
	for _, s := range t.seqs {
		s.Close()
	}
	t.closeDist()
	for _, b := range t.bufs {
		b.Release()
	}
	t.bufs = nil
	if t.Dev != nil {
		t.Dev.Release()
	}
	if t.W != nil {
		t.W.Release()
	}
}

// Hooks let the run folder observe a run. An error from a hook stops the
// run and is returned (a metrics or checkpoint write that failed).
type Hooks struct {
	// OnStep is called after each step with its metrics.
	OnStep func(Step) error
	// OnEpoch is called at the end of each epoch, and at the end of a run
	// that stops within an epoch (Complete false).
	OnEpoch func(EpochEnd) error
}

// EpochEnd is what the end of an epoch reports.
type EpochEnd struct {
	Epoch    int // 1-based
	MeanLoss float64
	Complete bool // every step of the epoch ran
}

// RunSteps trains until the configured end or until ctx is cancelled (the
// step in flight finishes first, and an epoch it completes is ended). It
// returns at the end or at cancellation; Step() says where.
func (t *Trainer) RunSteps(ctx context.Context, loader *augment.Loader, hooks Hooks, log io.Writer) error {
	c := &t.Cfg
	spe := loader.StepsPerEpoch()
	total := c.Epochs * spe
	if c.Steps > 0 {
		total = c.Steps
	}
	t.prepareSteps()
	for t.step < total {
		epoch := t.step / spe
		first := t.step % spe
		if first == 0 {
			t.epochLoss, t.epochSteps = 0, 0
		}
		loader.Epoch(epoch)
		// Resuming mid-epoch: the skipped batches are made and dropped, so
		// the data of every later step is what an uninterrupted run sees.
		for i := 0; i < first; i++ {
			if _, err := loader.Next(t.b.staging[0].Float32s()); err != nil {
				return err
			}
		}
		last := min(spe, first+(total-t.step))
		bar := progress.New(last-first, fmt.Sprintf("epoch %d/%d", epoch+1, (total+spe-1)/spe), log)
		cur := 0
		if _, err := loader.Next(t.b.staging[cur].Float32s()); err != nil {
			return err
		}
		stopped := false
		for i := first; i < last && !stopped; i++ {
			t0 := time.Now()
			lr := c.LRAt(t.step, spe, total)
			t.setHyper(lr)
			out := t.b.out.Float32s() // the step clears the non-finite flag itself
			if err := t.submitStep(cur); err != nil {
				return t.deviceError(err)
			}
			// The next batch is copied into the other staging buffer while the device works.
			var nextErr error
			if i+1 < last {
				_, nextErr = loader.Next(t.b.staging[1-cur].Float32s())
			}
			if err := t.waitStep(cur); err != nil {
				return t.deviceError(err)
			}
			if nextErr != nil {
				return nextErr
			}
			loss, acc, bad := float64(out[0]), float64(out[1]), out[2] != 0
			if bad || math.IsNaN(loss) || math.IsInf(loss, 0) {
				return fmt.Errorf("%w at step %d (epoch %d, loss %v): the run stopped; the last checkpoint in %s is intact. Try a lower --lr or more --warmup-epochs",
					ErrNonFinite, t.step+1, epoch+1, loss, c.Out)
			}
			t.step++
			t.tracked++
			if err := t.checkDrift(); err != nil {
				return err
			}
			t.epochLoss += loss
			t.epochSteps++
			if testHookStep != nil {
				testHookStep(t.step)
			}
			stopped = ctx.Err() != nil
			st := Step{Step: t.step, Epoch: epoch, Loss: loss, Acc: acc, LR: lr, ImgPerSec: float64(2*c.BatchSize) / time.Since(t0).Seconds(),
				Last: i+1 == last || stopped}
			bar.Set(i+1-first, fmt.Sprintf("loss %.4f acc %.3f lr %.4g img/s %.0f", loss, acc, lr, st.ImgPerSec))
			if hooks.OnStep != nil {
				if err := hooks.OnStep(st); err != nil {
					bar.Finish()
					return err
				}
			}
			if c.Profile && t.step == 2 && t.dist == nil {
				t.printProfile(log)
			}
			cur = 1 - cur
		}
		bar.Finish()
		if c.Profile {
			t.printDistProfile(log)
		}
		if ended := t.step%spe == 0 || t.step == total; ended && hooks.OnEpoch != nil {
			e := EpochEnd{Epoch: epoch + 1, MeanLoss: t.epochLoss / float64(max(t.epochSteps, 1)), Complete: t.step%spe == 0}
			if err := hooks.OnEpoch(e); err != nil {
				return err
			}
		}
		if stopped {
			return ctx.Err()
		}
	}
	return nil
}

// Step is the number of steps done.
func (t *Trainer) Step() int { return t.step }

func (t *Trainer) deviceError(err error) error {
	if errors.Is(err, vk.ErrDeviceLost) {
		return fmt.Errorf("%w at step %d: the GPU driver reset or the device hung; checkpoints in %s are intact, resume with 'vkclr train --resume %s'",
			err, t.step+1, t.Cfg.Out, t.Cfg.Out)
	}
	return err
}

// printProfile prints the device time per op of the last step.
func (t *Trainer) printProfile(w io.Writer) {
	tm, err := t.seqs[1].Timings()
	if err != nil || tm == nil {
		fmt.Fprintln(w, "profile: no device timestamps on this device")
		return
	}
	PrintProfile(w, tm)
}

// PrintProfile prints a table of device time by op label, largest first.
func PrintProfile(w io.Writer, tm []vk.Timing) {
	sum := map[string]float64{}
	count := map[string]int{}
	var total float64
	for _, x := range tm {
		sum[x.Label] += x.Nanos
		count[x.Label]++
		total += x.Nanos
	}
	labels := make([]string, 0, len(sum))
	for l := range sum {
		labels = append(labels, l)
	}
	sort.Slice(labels, func(i, j int) bool { return sum[labels[i]] > sum[labels[j]] })
	fmt.Fprintf(w, "\n%-14s %10s %7s %6s\n", "op", "ms/step", "share", "calls")
	for _, l := range labels {
		fmt.Fprintf(w, "%-14s %10.2f %6.1f%% %6d\n", l, sum[l]/1e6, 100*sum[l]/total, count[l])
	}
	fmt.Fprintf(w, "%-14s %10.2f %6.1f%% %6d\n\n", "total", total/1e6, 100.0, len(tm))
}

func int32Bytes(v []int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		u := uint32(x)
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	return b
}

// saveCheckpoint writes the run's state to dir/name atomically.
// In a data-parallel run only rank 0 writes.
func (t *Trainer) saveCheckpoint(name string, epoch int) error {
	if t.rank() != 0 {
		return nil
	}
	ck, err := t.Checkpoint(epoch)
	if err != nil {
		return err
	}
	if t.dist != nil {
		ck.Meta["ranks"] = strconv.Itoa(t.ranks())
	}
	return t.G.Save(filepath.Join(t.Cfg.Out, name), ck)
}
