// Data-parallel training over MPI ranks, one Vulkan device each. Every
// rank takes its slice of the global batch (augment.LoaderOptions.Part),
// and one step is a chain of recorded sequences with host work between
// them: each batchnorm's statistics combined over the ranks (model.SyncBN),
// the projections all-gathered so that every rank computes NT-Xent over
// the whole batch, and the parameter gradients summed in buckets
// (device -> host -> MPI_Allreduce -> device), a bucket's all-reduce running
// while the device computes the next part of the backward pass.
package train

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/vkclr/vkclr/model"
	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/train/data"
	"github.com/vkclr/vkclr/train/mpi"
	"github.com/vkclr/vkclr/vk"
)

type commKey struct{}

// WithComm returns ctx carrying the communicator Run trains over: with
// more than one rank, cfg.BatchSize is the global batch, split evenly.
func WithComm(ctx context.Context, c *mpi.Comm) context.Context {
	return context.WithValue(ctx, commKey{}, c)
}

func commFrom(ctx context.Context) *mpi.Comm {
	c, _ := ctx.Value(commKey{}).(*mpi.Comm)
	if c == nil || (c.Size == 1 && !distAlone) {
		return nil
	}
	return c
}

// distAlone makes tests run the data-parallel step with one rank.
var distAlone bool

// DefaultCheckEvery is the steps between weight checksum comparisons when Config.CheckEvery is 0.
const DefaultCheckEvery = 100

// distState is a Trainer's part of a data-parallel run.
type distState struct {
	comm       *mpi.Comm
	local      int  // images per rank
	sync       bool // batchnorm statistics over all ranks
	noOverlap  bool // reduce each bucket before the next sequence starts (for measuring)
	zg, simg   *vk.Buffer
	dzg        *vk.Buffer // (2B, D) device: gathered projections, similarities, their gradient
	zDown, zUp *vk.Buffer // host: this rank's (2b, D) projections, the gathered (2B, D)
	zAll       []float32  // (ranks, 2b, D)
	gradHost   *vk.Buffer // host (NParams): gradients on their way through MPI_Allreduce
	bnRanges   [][2]int   // batchnorm parameters: with synchronized statistics, their gradients are global already
	recs       [2][]stage // the step for each staging buffer
	rec        *[]stage   // the one being recorded
	gradHi     int        // gradients [gradHi, NParams) are already on their way down
	Prof       DistProfile
}

// stage is one recorded sequence of a step and the host work after it.
type stage struct {
	seq    *vk.Seq
	host   func() error
	kind   string // "bn" or "proj": what host does
	bucket [2]int // gradients [lo, hi) copied to host at its end
	final  bool   // the update: every bucket must be reduced before it starts
}

// DistProfile sums the time of a run's host work by kind, for --profile and BENCHMARKS.md.
type DistProfile struct {
	Steps                   int
	BNSync, ProjGather      time.Duration // host work between sequences (includes the MPI calls)
	GradReduce, GradExposed time.Duration // all bucket all-reduces; those the device was not busy meanwhile
	DeviceWait              time.Duration
	RoundTrips              int // host round trips per step
	Buckets                 int
}

// newDistTrainer is NewTrainer for one rank of comm: the graph holds this
// rank's cfg.BatchSize/ranks images, t.Cfg keeps the global batch (the
// learning rate scales with it).
func newDistTrainer(s *Session, cfg Config, ds *data.Dataset, c *mpi.Comm) (*Trainer, error) {
	if cfg.BatchSize%c.Size != 0 {
		return nil, fmt.Errorf("--batch-size %d does not split evenly over %d ranks: use a multiple of %d", cfg.BatchSize, c.Size, c.Size)
	}
	lc := cfg
	lc.BatchSize = cfg.BatchSize / c.Size
	t, err := NewTrainer(s, lc, ds)
	if err != nil {
		return nil, err
	}
	t.Cfg.BatchSize = cfg.BatchSize
	d := &distState{comm: c, local: lc.BatchSize, sync: !cfg.PerRankBN, noOverlap: os.Getenv("VKCLR_DIST_NO_OVERLAP") == "1"}
	g, ctx := t.G, s.Ctx
	B, D := cfg.BatchSize, g.Tensors[g.Output].C
	mk := func(n int, host bool) *vk.Buffer {
		if err != nil {
			return nil
		}
		var b *vk.Buffer
		if host {
			b, err = ctx.NewHostBuffer(uint64(4 * n))
		} else {
			b, err = ctx.NewBuffer(uint64(4 * n))
		}
		t.bufs = append(t.bufs, b)
		return b
	}
	d.zg, d.simg, d.dzg = mk(2*B*D, false), mk(4*B*B, false), mk(2*B*D, false)
	d.zDown, d.zUp, d.gradHost = mk(2*d.local*D, true), mk(2*B*D, true), mk(g.NParams, true)
	d.zAll = make([]float32, 2*B*D)
	if err == nil {
		err = t.Dev.EnableSync(&model.SyncBN{Ranks: c.Size, Sync: d.sync, Gather: c.AllgatherF64, Cut: t.cut})
	}
	if err != nil {
		t.Close()
		return nil, oomHint(err, cfg.BatchSize)
	}
	if d.sync {
		d.bnRanges = g.BNParamRanges()
	}
	t.dist = d
	return t, nil
}

func (t *Trainer) newSeq() *vk.Seq {
	s := t.S.Ctx.NewSeq()
	s.SetTiming(t.Cfg.Profile)
	return s
}

// cut ends sequence s at a model cut: a backward cut also sends the
// gradients that are final by then down to the host as a bucket.
func (t *Trainer) cut(s *vk.Seq, c model.Cut) *vk.Seq {
	d := t.dist
	st := stage{seq: s, host: c.Host, kind: "bn"}
	if c.Backward && c.GradsFrom < d.gradHi {
		st.bucket = t.gradsDown(s, c.GradsFrom)
	}
	*d.rec = append(*d.rec, st)
	return t.newSeq()
}

// gradsDown records the copy of gradients [lo, gradHi) to the host.
func (t *Trainer) gradsDown(s *vk.Seq, lo int) [2]int {
	d := t.dist
	hi := d.gradHi
	s.Label("grad_down")
	s.Copy(ops.F32(d.gradHost, lo, hi-lo), ops.F32(t.Dev.Grads, lo, hi-lo))
	d.gradHi = lo
	return [2]int{lo, hi}
}

// recordDist records the step that reads staging buffer i as stages.
func (t *Trainer) recordDist(i int) {
	g, k, dv, d := t.G, t.S.K, t.Dev, t.dist
	d.recs[i], d.rec, d.gradHi = nil, &d.recs[i], g.NParams
	b, B, D, r := d.local, t.Cfg.BatchSize, g.Tensors[g.Output].C, d.comm.Rank
	s := t.newSeq()
	s.Label("upload")
	s.Copy(dv.Act(g.Input), t.b.staging[i].All())
	s = dv.RecordForward(s, true)
	z, dz := t.b.z.All(), t.b.dz.All()
	s.Label("l2norm")
	k.L2Normalize(s, 2*b, D, dv.Act(g.Output), z, t.b.norms.All())
	s.Label("proj_down")
	s.Copy(d.zDown.All(), z)
	*d.rec = append(*d.rec, stage{seq: s, host: t.gatherZ, kind: "proj"})

	// NT-Xent over the whole batch on every rank (the same bits everywhere):
	// each rank's rows of its gradient are the full derivative of the loss
	// with respect to its projections, nothing to reduce back.
	s = t.newSeq()
	s.Label("proj_up")
	s.Copy(d.zg.All(), d.zUp.All())
	p := ref.NTXent{N: B, D: D, Temperature: t.Cfg.Temperature}
	s.Label("ntxent")
	k.NTXent(s, p, d.zg.All(), d.simg.All(), ops.F32(t.b.out, 0, 2))
	s.Label("ntxent_bwd")
	k.NTXentBackward(s, p, d.zg.All(), d.simg.All(), d.dzg.All())
	s.Label("proj_rows")
	s.Copy(ops.F32(t.b.dz, 0, b*D), ops.F32(d.dzg, r*b*D, b*D))
	s.NoBarrier()
	s.Copy(ops.F32(t.b.dz, b*D, b*D), ops.F32(d.dzg, (B+r*b)*D, b*D))
	s.Label("l2norm_bwd")
	k.L2NormalizeBackward(s, 2*b, D, z, t.b.norms.All(), dz, dv.Grad(g.Output))
	s = dv.RecordBackward(s)
	st := stage{seq: s}
	if d.gradHi > 0 {
		st.bucket = t.gradsDown(s, 0)
	}
	*d.rec = append(*d.rec, st)

	s = t.newSeq()
	s.Label("grad_up")
	s.Copy(dv.Grads.All(), d.gradHost.All())
	t.recordUpdate(s)
	*d.rec = append(*d.rec, stage{seq: s, final: true})
}

// gatherZ all-gathers the ranks' projections into the single-process
// layout: view 0 of every image of the global batch, then view 1.
func (t *Trainer) gatherZ() error {
	d := t.dist
	b, B, D := d.local, t.Cfg.BatchSize, t.G.Tensors[t.G.Output].C
	if err := d.comm.AllgatherF32(d.zDown.Float32s()[:2*b*D], d.zAll); err != nil {
		return err
	}
	up := d.zUp.Float32s()
	for r := 0; r < d.comm.Size; r++ {
		src := d.zAll[r*2*b*D:]
		copy(up[r*b*D:(r+1)*b*D], src[:b*D])
		copy(up[(B+r*b)*D:(B+(r+1)*b)*D], src[b*D:2*b*D])
	}
	return nil
}

// reduce sums gradient bucket [lo, hi) over the ranks in host memory.
func (d *distState) reduce(bk [2]int) error {
	g := d.gradHost.Float32s()
	if d.comm.Rank != 0 {
		// Synchronized batchnorm parameters' gradients are sums over all
		// ranks already: only rank 0's count.
		for _, r := range d.bnRanges {
			lo, hi := max(r[0], bk[0]), min(r[0]+r[1], bk[1])
			if lo < hi {
				clear(g[lo:hi])
			}
		}
	}
	d.comm.Op = fmt.Sprintf("gradient bucket [%d, %d)", bk[0], bk[1])
	t0 := time.Now()
	err := d.comm.AllreduceSumF32(g[bk[0]:bk[1]])
	d.Prof.GradReduce += time.Since(t0)
	return err
}

// runStep runs the stages of step i: each sequence, then its host work;
// a bucket sent down by one sequence is reduced while the next one runs.
func (t *Trainer) runStep(i int) error {
	d := t.dist
	var pending [][2]int
	reduceAll := func(exposed bool) error {
		t0 := time.Now()
		for _, bk := range pending {
			if err := d.reduce(bk); err != nil {
				return err
			}
		}
		if exposed {
			d.Prof.GradExposed += time.Since(t0)
		}
		pending = pending[:0]
		return nil
	}
	for _, st := range d.recs[i] {
		if st.final || d.noOverlap {
			if err := reduceAll(true); err != nil {
				return err
			}
		}
		if err := st.seq.Submit(); err != nil {
			return t.deviceError(err)
		}
		if err := reduceAll(false); err != nil {
			return err
		}
		t0 := time.Now()
		if err := st.seq.Wait(); err != nil {
			return t.deviceError(err)
		}
		d.Prof.DeviceWait += time.Since(t0)
		if st.host != nil {
			d.comm.Op = fmt.Sprintf("%s exchange, step %d", st.kind, t.step+1)
			t0 := time.Now()
			if err := st.host(); err != nil {
				return err
			}
			if st.kind == "bn" {
				d.Prof.BNSync += time.Since(t0)
			} else {
				d.Prof.ProjGather += time.Since(t0)
			}
		}
		if st.bucket[1] > st.bucket[0] {
			pending = append(pending, st.bucket)
		}
	}
	d.Prof.Steps++
	d.Prof.RoundTrips = len(d.recs[i]) - 1
	d.Prof.Buckets = 0
	for _, st := range d.recs[i] {
		if st.bucket[1] > st.bucket[0] {
			d.Prof.Buckets++
		}
	}
	return nil
}

// prepareSteps records the two steps once.
func (t *Trainer) prepareSteps() {
	if t.dist != nil {
		if t.dist.recs[0] == nil {
			t.recordDist(0)
			t.recordDist(1)
		}
		return
	}
	if t.seqs[0] == nil {
		t.seqs[0], t.seqs[1] = t.record(0, t.Cfg.Profile), t.record(1, t.Cfg.Profile)
	}
}

// submitStep starts step cur (a data-parallel step runs to its end here).
func (t *Trainer) submitStep(cur int) error {
	if t.dist != nil {
		return t.runStep(cur)
	}
	return t.seqs[cur].Submit()
}

func (t *Trainer) waitStep(cur int) error {
	if t.dist != nil {
		return nil
	}
	return t.seqs[cur].Wait()
}

func (t *Trainer) closeDist() {
	if t.dist == nil {
		return
	}
	for _, rec := range t.dist.recs {
		for _, st := range rec {
			st.seq.Close()
		}
	}
	t.dist.recs = [2][]stage{}
}

// rank and ranks place this trainer in its run (0 of 1 alone).
func (t *Trainer) rank() int {
	if t.dist == nil {
		return 0
	}
	return t.dist.comm.Rank
}

func (t *Trainer) ranks() int {
	if t.dist == nil {
		return 1
	}
	return t.dist.comm.Size
}

// distStart makes every rank start from rank 0's state: parameters,
// statistics, optimizer state and step, broadcast.
func (t *Trainer) distStart() error {
	d := t.dist
	if d == nil {
		return nil
	}
	c, ctx := d.comm, t.S.Ctx
	c.Op = "start: broadcast of rank 0's state"
	p, st := make([]float32, t.G.NParams), make([]float32, t.G.NState)
	if err := t.W.Download(ctx, p, st); err != nil {
		return err
	}
	if err := c.BcastF32(p, 0); err != nil {
		return err
	}
	if err := c.BcastF32(st, 0); err != nil {
		return err
	}
	if err := t.W.Upload(ctx, p, st); err != nil {
		return err
	}
	names := make([]string, 0, len(t.b.opt))
	for n := range t.b.opt {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := ctx.DownloadF32(p, t.b.opt[n].All()); err != nil {
			return err
		}
		if err := c.BcastF32(p, 0); err != nil {
			return err
		}
		if err := ctx.UploadF32(t.b.opt[n].All(), p); err != nil {
			return err
		}
	}
	var hdr [16]byte
	binary.LittleEndian.PutUint64(hdr[:], uint64(t.step))
	binary.LittleEndian.PutUint64(hdr[8:], uint64(t.tracked))
	if err := c.BcastBytes(hdr[:], 0); err != nil {
		return err
	}
	t.step, t.tracked = int(binary.LittleEndian.Uint64(hdr[:])), int64(binary.LittleEndian.Uint64(hdr[8:]))
	return nil
}

// checkRanks refuses to resume a data-parallel checkpoint with another rank count.
func (t *Trainer) checkRanks(ck *model.Checkpoint) error {
	n := 1
	if v, ok := ck.Meta["ranks"]; ok {
		n, _ = strconv.Atoi(v)
	}
	if n != t.ranks() {
		return fmt.Errorf("this run was trained with %d rank(s) and is resumed with %d: resume with the same count (mpirun -np %d)", n, t.ranks(), n)
	}
	return nil
}

// checkDrift compares a checksum of the parameters (and, with synchronized
// batchnorm, the running statistics) across the ranks every CheckEvery
// steps: ranks that drifted apart stop the run.
func (t *Trainer) checkDrift() error {
	d := t.dist
	every := t.Cfg.CheckEvery
	if every == 0 {
		every = DefaultCheckEvery
	}
	if d == nil || every < 0 || t.step%every != 0 {
		return nil
	}
	p, st := make([]float32, t.G.NParams), make([]float32, t.G.NState)
	if err := t.W.Download(t.S.Ctx, p, st); err != nil {
		return err
	}
	h := fnv.New64a()
	for _, v := range p {
		binary.Write(h, binary.LittleEndian, math.Float32bits(v))
	}
	if d.sync {
		for _, v := range st {
			binary.Write(h, binary.LittleEndian, math.Float32bits(v))
		}
	}
	mine := h.Sum64()
	all := make([]float64, d.comm.Size)
	d.comm.Op = fmt.Sprintf("weight checksum, step %d", t.step)
	if err := d.comm.AllgatherF64([]float64{math.Float64frombits(mine)}, all); err != nil {
		return err
	}
	for r, v := range all {
		if x := math.Float64bits(v); x != math.Float64bits(all[0]) {
			return fmt.Errorf("ranks drifted apart at step %d: the weight checksum of rank %d is %016x, rank 0's %016x (devices or drivers that round differently, or a bug); the last checkpoint in %s was written before",
				t.step, r, x, math.Float64bits(all[0]), t.Cfg.Out)
		}
	}
	return nil
}

// printDistProfile prints where a data-parallel step's host time went.
func (t *Trainer) printDistProfile(w io.Writer) {
	d := t.dist
	if d == nil || d.Prof.Steps == 0 {
		return
	}
	pr, n := d.Prof, float64(d.Prof.Steps)
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1e3 / n }
	fmt.Fprintf(w, "data-parallel, %d ranks, per step (mean of %d): %d host round trips; batchnorm sync %.2f ms, projection gather %.2f ms, gradient all-reduce %.2f ms in %d buckets (%.2f ms of it with the device idle), device wait %.2f ms\n",
		d.comm.Size, pr.Steps, pr.RoundTrips, ms(pr.BNSync), ms(pr.ProjGather), ms(pr.GradReduce), pr.Buckets, ms(pr.GradExposed), ms(pr.DeviceWait))
}
