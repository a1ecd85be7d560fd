package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/vkclr/vkclr/model"
	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/train/augment"
	"github.com/vkclr/vkclr/train/data"
	"github.com/vkclr/vkclr/vk"
)

// EvalBatch is the batch size of feature extraction: the training run's kNN monitor keeps it, and
// Grow takes an extractor that has a larger set to do up to maxEvalBatch images at a time, while
// its buffers stay within evalBudget. Eval-mode batchnorm makes every image's arithmetic its own,
// so the features are bit-identical at any batch; larger batches take fewer, larger dispatches
// (the demo's encoder at 1024: 0.90x the time per image of 256, on 2 EPYC cores; BENCHMARKS.md).
const (
	EvalBatch    = 256
	maxEvalBatch = 1024
)

// evalBudget is the bytes of activations and scratch a grown extractor may hold (a variable for the tests).
var evalBudget uint64 = 1 << 30

// Extractor computes encoder features with frozen weights: batchnorm in
// eval mode, no augmentation (resize and normalize only, optional flip).
type Extractor struct {
	S     *Session
	G     *model.Graph
	Dev   *model.Device
	batch int
	w     *model.Weights
	seq   *vk.Seq
	in    *vk.Buffer // host staging
	aug   augment.Config
}

// NewExtractor builds an evaluation graph over w (the weights of cfg).
func NewExtractor(s *Session, cfg model.Config, w *model.Weights) (*Extractor, error) {
	return newExtractor(s, cfg, w, EvalBatch)
}

func newExtractor(s *Session, cfg model.Config, w *model.Weights, batch int) (*Extractor, error) {
	g, err := model.Build(cfg, batch)
	if err != nil {
		return nil, err
	}
	dev, err := model.NewDevice(s.K, g, w, false)
	if err != nil {
		return nil, err
	}
	in, err := s.Ctx.NewHostBuffer(uint64(4 * g.Tensors[g.Input].Len()))
	if err != nil {
		dev.Release()
		return nil, err
	}
	aug, _ := augment.Preset(fmt.Sprintf("none,size=%d", cfg.ImageSize))
	e := &Extractor{S: s, G: g, Dev: dev, batch: batch, w: w, in: in, aug: aug}
	e.seq = s.Ctx.NewSeq()
	e.seq.Copy(dev.Act(g.Input), in.All())
	dev.RecordForward(e.seq, false)
	return e, nil
}

// Batch is the number of images extracted at a time.
func (e *Extractor) Batch() int { return e.batch }

// Grow rebuilds the extractor for batches of up to maxEvalBatch images when n images are to be
// extracted, doubling while the batch is under n and the graph's buffers (which grow with the
// batch) stay within evalBudget. Where the device has no memory for the larger graph it keeps the
// one it has; any other error is returned.
func (e *Extractor) Grow(n int) error {
	per := e.Dev.Bytes() / uint64(e.batch)
	b := e.batch
	for b*2 <= maxEvalBatch && b < n && per*uint64(2*b) <= evalBudget {
		b *= 2
	}
	if b == e.batch {
		return nil
	}
	bigger, err := newExtractor(e.S, e.G.Cfg, e.w, b)
	if errors.Is(err, vk.ErrOutOfDeviceMemory) || errors.Is(err, vk.ErrOutOfHostMemory) {
		return nil
	} else if err != nil {
		return err
	}
	e.Close()
	*e = *bigger
	return nil
}

// Close frees the extractor's buffers.
func (e *Extractor) Close() {
	e.seq.Close()
	e.in.Release()
	e.Dev.Release()
}

// Features returns (N, F) encoder features of ds, optionally of the
// horizontally flipped images, calling progress after each batch.
func (e *Extractor) Features(ds *data.Dataset, flip bool, progress func(done, total int)) ([]float32, error) {
	g := e.G
	F := g.Tensors[g.Features].C
	B := e.batch
	per := g.Tensors[g.Input].Len() / B
	out := make([]float32, ds.N*F)
	feat := make([]float32, B*F)
	dst := e.in.Float32s()
	for lo := 0; lo < ds.N; lo += B {
		n := min(B, ds.N-lo)
		clear(dst[n*per:]) // padding rows: eval-mode batchnorm treats samples independently
		for i := 0; i < n; i++ {
			e.aug.PlainFlip(dst[i*per:(i+1)*per], ds, lo+i, 4, flip)
		}
		if err := e.seq.Run(); err != nil {
			return nil, err
		}
		if err := e.S.Ctx.DownloadF32(feat, e.Dev.Act(g.Features)); err != nil {
			return nil, err
		}
		copy(out[lo*F:], feat[:n*F])
		if progress != nil {
			progress(lo+n, ds.N)
		}
	}
	return out, nil
}

// KNN evaluates the trainer's current encoder with the weighted kNN monitor.
func (t *Trainer) KNN(train, test *data.Dataset, k int, temperature float64) (float64, error) {
	e, err := NewExtractor(t.S, t.Cfg.Model, t.W)
	if err != nil {
		return 0, err
	}
	defer e.Close()
	ftr, err := e.Features(train, false, nil)
	if err != nil {
		return 0, err
	}
	fte, err := e.Features(test, false, nil)
	if err != nil {
		return 0, err
	}
	classes := len(train.Classes)
	if classes == 0 {
		return 0, fmt.Errorf("kNN needs labels")
	}
	pred, err := KNNPredict(t.S, ftr, train.Labels, fte, e.G.Tensors[e.G.Features].C, classes, k, temperature)
	if err != nil {
		return 0, err
	}
	return Accuracy(pred, test.Labels), nil
}

// Accuracy is the fraction of pred equal to labels.
func Accuracy(pred, labels []int32) float64 {
	c := 0
	for i, p := range pred {
		if p == labels[i] {
			c++
		}
	}
	return float64(c) / float64(max(len(labels), 1))
}

// KNNPredict is weighted kNN on cosine similarity (Wu et al. 2018, as
// solo-learn and lightly report it): the k most similar memory-bank features
// vote for their class with weight exp(sim / temperature). Similarities are
// computed on the device (one matmul per chunk of queries), the top-k
// selection on the host.
func KNNPredict(s *Session, bank []float32, bankLabels []int32, queries []float32, dim, classes, k int, temperature float64) ([]int32, error) {
	nb, nq := len(bank)/dim, len(queries)/dim
	if nb == 0 || nq == 0 {
		return nil, fmt.Errorf("kNN: empty memory bank or query set")
	}
	k = min(k, nb)
	normalize := func(v []float32) []float32 {
		rows := len(v) / dim
		z, norms := make([]float32, len(v)), make([]float32, rows)
		ref.L2NormalizeForward(rows, dim, v, z, norms)
		return z
	}
	zb, zq := normalize(bank), normalize(queries)
	c := s.Ctx
	chunk := max(1, min(nq, int(c.Caps.MaxStorageBufferRange/uint64(4*nb)), 1024))
	bufs := make([]*vk.Buffer, 3)
	var err error
	for i, n := range []int{nb * dim, chunk * dim, chunk * nb} {
		if bufs[i], err = c.NewBuffer(uint64(4 * n)); err != nil {
			for _, b := range bufs[:i] {
				b.Release()
			}
			return nil, err
		}
		defer bufs[i].Release()
	}
	if err := c.UploadF32(bufs[0].All(), zb); err != nil {
		return nil, err
	}
	pred := make([]int32, nq)
	sim := make([]float32, chunk*nb)
	heap := make([]int, 0, k)
	votes := make([]float64, classes)
	for lo := 0; lo < nq; lo += chunk {
		n := min(chunk, nq-lo)
		if err := c.UploadF32(bufs[1].All(), zq[lo*dim:(lo+n)*dim]); err != nil {
			return nil, err
		}
		p := ref.Matmul{M: n, N: nb, K: dim, TransB: true}
		if err := c.Run(func(sq *vk.Seq) {
			s.K.Matmul(sq, p, ops.F32(bufs[1], 0, n*dim), bufs[0].All(), ops.F32(bufs[2], 0, n*nb), false)
		}); err != nil {
			return nil, err
		}
		if err := c.DownloadF32(sim[:n*nb], ops.F32(bufs[2], 0, n*nb)); err != nil {
			return nil, err
		}
		for q := 0; q < n; q++ {
			row := sim[q*nb : (q+1)*nb]
			heap = topK(row, k, heap[:0])
			clear(votes)
			for _, j := range heap {
				votes[bankLabels[j]] += math.Exp(float64(row[j]) / temperature)
			}
			best := 0
			for cl := range votes {
				if votes[cl] > votes[best] {
					best = cl
				}
			}
			pred[lo+q] = int32(best)
		}
	}
	return pred, nil
}

// topK returns the indices of the k largest values of row (any order),
// with a min-heap of size k: O(n log k).
func topK(row []float32, k int, h []int) []int {
	less := func(a, b int) bool { return row[h[a]] < row[h[b]] }
	down := func(i int) {
		for {
			l, m := 2*i+1, i
			if l < len(h) && less(l, m) {
				m = l
			}
			if r := l + 1; r < len(h) && less(r, m) {
				m = r
			}
			if m == i {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for j := range row {
		if len(h) < k {
			h = append(h, j)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !less(i, p) {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
		} else if row[j] > row[h[0]] {
			h[0] = j
			down(0)
		}
	}
	return h
}
