// Loader: batches of view pairs, prepared by a goroutine pool ahead of the trainer.
package augment

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/vkclr/vkclr/train/data"
)

// LoaderOptions configures a Loader.
type LoaderOptions struct {
	Batch    int    // images per step (B); each gives two views
	OutC     int    // output channels (OC >= the dataset's C); 0 means the dataset's C
	Seed     uint64 // keys the permutations and every view's parameters
	Workers  int    // goroutines making views; 0 means GOMAXPROCS
	DropLast bool   // skip the last, smaller batch of an epoch
	Prefetch int    // batches prepared ahead; 0 means 2 (double buffering)
	// Parts > 1 makes this loader one of Parts ranks of a data-parallel run:
	// each step it gives images [Part*Batch/Parts, (Part+1)*Batch/Parts) of
	// the global batch of Batch images, so the ranks' batches together are
	// the single-process batch (every view keyed by its image as there).
	Part, Parts int
}

// Loader turns a Dataset into batches of SimCLR view pairs. Call Epoch to
// start an epoch, then Next once per step; while the caller uses one batch
// the pool is already preparing the next ones.
//
// A batch of n images is 2*n*S*S*OC floats laid out (2, n, S, S, OC): view 0
// of every image, then view 1 in the same order, so rows b and n+b are the
// positive pair. n is Batch except in the last step of an epoch without DropLast.
type Loader struct {
	d    *data.Dataset
	cfg  Config
	opts LoaderOptions

	jobs chan job
	free chan *batch
	wg   sync.WaitGroup // workers

	// The running epoch; nil before the first Epoch call and after Close.
	ready chan *batch
	stop  chan struct{}
	done  chan struct{}
	steps int
}

// batch is one prepared step.
type batch struct {
	buf []float32
	idx []int
	n   int
}

// job asks a worker for the views items [lo, hi) of a batch, item i being
// view i/n of image idx[i%n].
type job struct {
	b      *batch
	epoch  int
	lo, hi int
	wg     *sync.WaitGroup
}

// NewLoader checks the options and starts the worker pool; Close stops it.
func NewLoader(d *data.Dataset, cfg Config, opts LoaderOptions) (*Loader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := d.Check(); err != nil {
		return nil, err
	}
	if opts.OutC == 0 {
		opts.OutC = d.C
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Prefetch <= 0 {
		opts.Prefetch = 2
	}
	switch {
	case opts.Batch <= 0:
		return nil, fmt.Errorf("augment: batch %d, want > 0", opts.Batch)
	case opts.OutC < d.C:
		return nil, fmt.Errorf("augment: %d output channels for %d-channel %s, want >= %d", opts.OutC, d.C, d.Name, d.C)
	case opts.Parts > 1 && (opts.Batch%opts.Parts != 0 || !opts.DropLast || opts.Part < 0 || opts.Part >= opts.Parts):
		return nil, fmt.Errorf("augment: part %d of %d of a batch of %d: the batch must split evenly and the last, smaller batch be dropped", opts.Part, opts.Parts, opts.Batch)
	case d.N == 0 || (opts.DropLast && d.N < opts.Batch):
		return nil, fmt.Errorf("augment: %s has %d images, too few for one batch of %d", d.Name, d.N, opts.Batch)
	}
	l := &Loader{
		d: d, cfg: cfg, opts: opts,
		jobs: make(chan job, 4*opts.Workers),
		free: make(chan *batch, opts.Prefetch),
	}
	for range opts.Prefetch {
		l.free <- &batch{buf: make([]float32, l.BatchLen(opts.Batch))}
	}
	for range opts.Workers {
		l.wg.Go(l.work)
	}
	return l, nil
}

// BatchLen returns the floats of a batch of n images: 2*n*S*S*OC.
func (l *Loader) BatchLen(n int) int { return 2 * n * l.cfg.Size * l.cfg.Size * l.opts.OutC }

// StepsPerEpoch returns the number of Next calls an epoch gives.
func (l *Loader) StepsPerEpoch() int {
	if l.opts.DropLast {
		return l.d.N / l.opts.Batch
	}
	return (l.d.N + l.opts.Batch - 1) / l.opts.Batch
}

// Epoch starts epoch e (abandoning what is left of the previous one) and
// returns its number of steps. The image order is Permutation(Seed, e, N).
func (l *Loader) Epoch(e int) int {
	if l.jobs == nil {
		panic("augment: Epoch after Close")
	}
	l.stopEpoch()
	l.steps = l.StepsPerEpoch()
	l.ready = make(chan *batch, l.opts.Prefetch)
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	go l.produce(e, Permutation(l.opts.Seed, e, l.d.N), l.ready, l.stop, l.done)
	return l.steps
}

// Next copies the next batch of the epoch into dst (at least BatchLen(n)
// floats, for example mapped staging memory) and returns the dataset
// indices of its n images. It returns io.EOF after the epoch's last step.
func (l *Loader) Next(dst []float32) (indices []int, err error) {
	if l.ready == nil {
		return nil, errors.New("augment: Next before Epoch")
	}
	b, ok := <-l.ready
	if !ok {
		return nil, io.EOF
	}
	defer func() { l.free <- b }()
	n := l.BatchLen(b.n)
	if len(dst) < n {
		return nil, fmt.Errorf("augment: batch of %d images needs %d floats, dst has %d", b.n, n, len(dst))
	}
	copy(dst, b.buf[:n])
	return append([]int(nil), b.idx...), nil
}

// Close stops the epoch in progress and the workers.
func (l *Loader) Close() {
	l.stopEpoch()
	if l.jobs != nil {
		close(l.jobs)
		l.wg.Wait()
		l.jobs = nil
	}
}

// stopEpoch ends the producer of the running epoch and takes back its buffers.
func (l *Loader) stopEpoch() {
	if l.ready == nil {
		return
	}
	close(l.stop)
	for b := range l.ready {
		l.free <- b
	}
	<-l.done
	l.ready = nil
}

// produce fills one batch after the other, handing each to Next.
func (l *Loader) produce(epoch int, perm []int, ready chan<- *batch, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	defer close(ready)
	B := l.opts.Batch
	// Chunks of a few views per job: enough jobs to balance the workers,
	// few enough that channel traffic stays negligible.
	for s := range l.steps {
		var b *batch
		select {
		case b = <-l.free:
		case <-stop:
			return
		}
		lo, hi := s*B, min((s+1)*B, len(perm))
		if l.opts.Parts > 1 {
			lo, hi = lo+l.opts.Part*B/l.opts.Parts, lo+(l.opts.Part+1)*B/l.opts.Parts
		}
		b.idx = append(b.idx[:0], perm[lo:hi]...)
		b.n = len(b.idx)
		items := 2 * b.n
		chunk := max(1, items/(8*l.opts.Workers))
		var wg sync.WaitGroup
		for lo := 0; lo < items; lo += chunk {
			wg.Add(1)
			l.jobs <- job{b: b, epoch: epoch, lo: lo, hi: min(lo+chunk, items), wg: &wg}
		}
		wg.Wait()
		select {
		case ready <- b:
		case <-stop:
			l.free <- b
			return
		}
	}
}

// work makes views until the job channel closes.
func (l *Loader) work() {
	s := new(scratch)
	per := l.cfg.Size * l.cfg.Size * l.opts.OutC
	for j := range l.jobs {
		n := j.b.n
		for i := j.lo; i < j.hi; i++ {
			v, k := i/n, i%n
			l.cfg.view(s, j.b.buf[i*per:(i+1)*per], l.d, j.b.idx[k], l.opts.Seed, j.epoch, v, l.opts.OutC)
		}
		j.wg.Done()
	}
}
