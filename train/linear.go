package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

// LinearConfig is the linear probe's training recipe.
type LinearConfig struct {
	Epochs      int
	BatchSize   int
	LR          float64 // peak learning rate, cosine-decayed to zero
	Momentum    float64
	WeightDecay float64
	Standardize bool // scale features to zero mean, unit variance (train statistics)
	Seed        uint64
}

// DefaultLinear is a recipe that converges on frozen SimCLR features.
func DefaultLinear() LinearConfig {
	return LinearConfig{Epochs: 30, BatchSize: 256, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-6, Standardize: true, Seed: 1}
}

// LinearResult is the probe's outcome on the test split.
type LinearResult struct {
	Top1, Top5 float64
	PerClass   []float64
	Confusion  [][]int // [true][predicted]
	TrainLoss  float64 // mean loss of the last epoch
	History    []LinearEpoch
}

// LinearEpoch is the probe after one epoch: its mean training loss and its test accuracy.
type LinearEpoch struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	TestTop1  float64 `json:"test_top1"`
}

// Standardize scales train and test features with the train split's
// per-dimension mean and standard deviation.
func Standardize(train, test []float32, dim int) {
	n := len(train) / dim
	mean, std := make([]float64, dim), make([]float64, dim)
	for i := 0; i < n; i++ {
		for j := 0; j < dim; j++ {
			mean[j] += float64(train[i*dim+j])
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		for j := 0; j < dim; j++ {
			d := float64(train[i*dim+j]) - mean[j]
			std[j] += d * d
		}
	}
	for j := range std {
		// A dimension constant over the train split (a border pixel, a dead channel) is only
		// centred: dividing by its near-zero spread would blow up any test value that differs.
		if std[j] = math.Sqrt(std[j] / float64(n)); std[j] < 1e-6 {
			std[j] = 1
		}
	}
	for _, v := range [][]float32{train, test} {
		for i := range v {
			j := i % dim
			v[i] = float32((float64(v[i]) - mean[j]) / std[j])
		}
	}
}

// TrainLinear trains a softmax classifier on frozen features on the device
// (SGD with momentum and a cosine schedule) and evaluates it on the test
// features. progress is called after each epoch.
func TrainLinear(s *Session, cfg LinearConfig, xtr []float32, ytr []int32, xte []float32, yte []int32, dim, classes int, progress func(epoch int, loss float64)) (*LinearResult, error) {
	ntr := len(ytr)
	if ntr == 0 || len(xtr) != ntr*dim || len(xte) != len(yte)*dim {
		return nil, fmt.Errorf("linear probe: %d train labels for %d features of %d dims", ntr, len(xtr), dim)
	}
	for _, y := range append(append([]int32(nil), ytr...), yte...) {
		if y < 0 || int(y) >= classes {
			return nil, fmt.Errorf("linear probe: label %d outside %d classes", y, classes)
		}
	}
	B := min(cfg.BatchSize, ntr)
	c, k := s.Ctx, s.K
	// The classifier runs with its classes padded to a multiple of 4 (cp), so its GEMMs take the
	// vec4 texel loads (10 classes are not a vec4: the scalar forms, about half as fast; the probes
	// were 12-13 s of make demo). A padded class has zero weights and a bias of padLogit: its logit
	// never wins an argmax or a top-k, its softmax term underflows to 0, so its gradient is 0 (or a
	// denormal) and the real classes' sums are the unpadded probe's, in the same order, bit for bit.
	cp := classes
	if padClasses {
		cp = (classes + 3) / 4 * 4
	}
	// Parameters: W (dim, cp) then b (cp), each aligned for binding.
	wLen := (dim*cp + 63) / 64 * 64
	nParams := wLen + cp
	var bufs []*vk.Buffer
	defer func() {
		for _, b := range bufs {
			b.Release()
		}
	}()
	var err error
	newBuf := func(bytes int, host bool) *vk.Buffer {
		if err != nil {
			return nil
		}
		var b *vk.Buffer
		if host {
			b, err = c.NewHostBuffer(uint64(max(bytes, 4)))
		} else {
			b, err = c.NewBuffer(uint64(max(bytes, 4)))
		}
		bufs = append(bufs, b)
		return b
	}
	params, grads, mom := newBuf(4*nParams, false), newBuf(4*nParams, false), newBuf(4*nParams, false)
	x, y := newBuf(4*B*dim, true), newBuf(4*B, true)
	logits, dlogits, out := newBuf(4*B*cp, false), newBuf(4*B*cp, false), newBuf(16, true)
	segs, hyper := newBuf(4*6, false), newBuf(64, true)
	if err != nil {
		return nil, err
	}
	// PyTorch's default init for the layer, seeded.
	r := rand.New(rand.NewPCG(cfg.Seed, 7))
	p0 := make([]float32, nParams)
	bound := 1 / math.Sqrt(float64(dim))
	for i := 0; i < dim*classes; i++ {
		p0[i/classes*cp+i%classes] = float32((2*r.Float64() - 1) * bound)
	}
	for i := 0; i < cp; i++ {
		p0[wLen+i] = padLogit
		if i < classes {
			p0[wLen+i] = float32((2*r.Float64() - 1) * bound)
		}
	}
	if err := c.UploadF32(params.All(), p0); err != nil {
		return nil, err
	}
	if err := c.UploadF32(mom.All(), make([]float32, nParams)); err != nil {
		return nil, err
	}
	if err := c.Upload(segs.All(), int32Bytes([]int32{0, int32(dim * cp), 0, int32(wLen), int32(cp), 1})); err != nil {
		return nil, err
	}
	p := ref.Linear{N: B, I: dim, O: cp}
	W, bias := ops.F32(params, 0, dim*cp), ops.F32(params, wLen, cp)
	dW, db := ops.F32(grads, 0, dim*cp), ops.F32(grads, wLen, cp)
	step := c.NewSeq()
	defer step.Close()
	k.LinearForward(step, p, x.All(), W, bias, logits.All())
	k.SoftmaxCE(step, B, cp, logits.All(), y.All(), ops.F32(out, 0, 2), dlogits.All())
	k.LinearBackward(step, p, x.All(), W, dlogits.All(), vk.Binding{}, dW, db)
	k.SGDStep(step, nParams, 2, params.All(), grads.All(), mom.All(), segs.All(), hyper.All(), false)

	xs, ys := x.Float32s(), y.Mapped()
	fwd := c.NewSeq()
	defer fwd.Close()
	k.LinearForward(fwd, p, x.All(), W, bias, logits.All())
	nte := len(yte)
	lg := make([]float32, B*cp)
	res := &LinearResult{}
	// test sets Top1, Top5 and Confusion from the test logits, a batch at a time (the last one padded).
	test := func() error {
		res.Confusion = make([][]int, classes)
		for i := range res.Confusion {
			res.Confusion[i] = make([]int, classes)
		}
		var top1, top5 int
		for lo := 0; lo < nte; lo += B {
			n := min(B, nte-lo)
			clear(xs)
			copy(xs, xte[lo*dim:(lo+n)*dim])
			if err := fwd.Run(); err != nil {
				return err
			}
			if err := c.DownloadF32(lg, logits.All()); err != nil {
				return err
			}
			labels := yte[lo : lo+n]
			top1 += ref.TopKCorrect(n, cp, lg[:n*cp], labels, 1)
			top5 += ref.TopKCorrect(n, cp, lg[:n*cp], labels, min(5, classes))
			for i := 0; i < n; i++ {
				row := lg[i*cp : i*cp+classes]
				best := 0
				for j := range row {
					if row[j] > row[best] {
						best = j
					}
				}
				res.Confusion[labels[i]][best]++
			}
		}
		res.Top1, res.Top5 = float64(top1)/float64(nte), float64(top5)/float64(nte)
		return nil
	}
	stepsPerEpoch := ntr / B
	total := cfg.Epochs * stepsPerEpoch
	perm := make([]int, ntr)
	t := 0
	for e := 0; e < cfg.Epochs; e++ {
		for i := range perm {
			perm[i] = i
		}
		r.Shuffle(ntr, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		var sum float64
		for it := 0; it < stepsPerEpoch; it++ {
			for b := 0; b < B; b++ {
				j := perm[it*B+b]
				copy(xs[b*dim:(b+1)*dim], xtr[j*dim:(j+1)*dim])
				putInt32(ys[4*b:], ytr[j])
			}
			lr := cfg.LR * 0.5 * (1 + math.Cos(math.Pi*float64(t)/float64(total)))
			copy(hyper.Float32s(), ops.SGDHyper(lr, cfg.Momentum, cfg.WeightDecay))
			if err := step.Run(); err != nil {
				return nil, err
			}
			loss := float64(out.Float32s()[0])
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return nil, fmt.Errorf("linear probe: %w at epoch %d; try a lower --lr", ErrNonFinite, e+1)
			}
			sum += loss
			t++
		}
		res.TrainLoss = sum / float64(max(stepsPerEpoch, 1))
		if err := test(); err != nil {
			return nil, err
		}
		res.History = append(res.History, LinearEpoch{Epoch: e + 1, TrainLoss: res.TrainLoss, TestTop1: res.Top1})
		if progress != nil {
			progress(e+1, res.TrainLoss)
		}
	}
	res.PerClass = make([]float64, classes)
	for cl, row := range res.Confusion {
		tot := 0
		for _, v := range row {
			tot += v
		}
		if tot > 0 {
			res.PerClass[cl] = float64(row[cl]) / float64(tot)
		}
	}
	return res, nil
}

// padClasses turns TrainLinear's class padding on; tests turn it off to compare.
var padClasses = true

// padLogit is a padded class's bias (TrainLinear): far below any real logit, finite so that no
// inf - inf can arise, and low enough that exp(padLogit - max) is 0 in float32.
const padLogit = -1e30

func putInt32(b []byte, v int32) {
	u := uint32(v)
	b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
}
