package train

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/model"
	"github.com/vkclr/vkclr/train/data"
)

// clusters returns n points per class around well-separated centres in dim dimensions.
func clusters(classes, n, dim int, spread float64, seed uint64) ([]float32, []int32) {
	r := rand.New(rand.NewPCG(seed, 3))
	centres := make([]float64, classes*dim)
	for i := range centres {
		centres[i] = r.NormFloat64() * 3
	}
	x := make([]float32, 0, classes*n*dim)
	y := make([]int32, 0, classes*n)
	for i := 0; i < classes*n; i++ {
		c := i % classes
		for j := 0; j < dim; j++ {
			x = append(x, float32(centres[c*dim+j]+r.NormFloat64()*spread))
		}
		y = append(y, int32(c))
	}
	return x, y
}

func TestLinearProbeSeparable(t *testing.T) {
	s := session(t)
	const classes, dim = 7, 33
	xtr, ytr := clusters(classes, 60, dim, 0.5, 1)
	xte, yte := clusters(classes, 20, dim, 0.5, 1) // same centres (same seed), new points below
	xte2, _ := clusters(classes, 40, dim, 0.5, 1)
	xte = xte2[len(xte2)-len(xte):]
	Standardize(xtr, xte, dim)
	cfg := DefaultLinear()
	cfg.Epochs, cfg.BatchSize = 20, 64
	r, err := TrainLinear(s, cfg, xtr, ytr, xte, yte, dim, classes, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Top1 < 0.99 || r.Top5 < 0.999 {
		t.Fatalf("separable clusters: top-1 %.3f, top-5 %.3f", r.Top1, r.Top5)
	}
	total := 0
	for _, row := range r.Confusion {
		for _, v := range row {
			total += v
		}
	}
	if total != len(yte) || len(r.PerClass) != classes {
		t.Fatalf("confusion matrix counts %d of %d", total, len(yte))
	}
	// One record per epoch, the last one the final result; the probe learns (loss falls).
	h := r.History
	if len(h) != cfg.Epochs || h[len(h)-1].TestTop1 != r.Top1 || h[len(h)-1].TrainLoss != r.TrainLoss || !(h[len(h)-1].TrainLoss < h[0].TrainLoss) {
		t.Fatalf("history %+v", h)
	}
	// Bad labels are an error, not a wrong answer.
	ybad := slices.Clone(ytr)
	ybad[3] = classes
	if _, err := TrainLinear(s, cfg, xtr, ybad, xte, yte, dim, classes, nil); err == nil {
		t.Error("a label outside the classes was accepted")
	}
}

// TestLinearProbePadded: the probe with its classes padded to a vec4 (the default) gives the
// unpadded probe's results bit for bit: every epoch's loss, top-1, top-5 and the confusion matrix.
func TestLinearProbePadded(t *testing.T) {
	s := session(t)
	// dim % 4 == 0: the padded probe's GEMMs take the vec4 forms. The first 30 points per class
	// train, the other 10 test.
	const classes, dim = 10, 32
	xall, yall := clusters(classes, 40, dim, 2.5, 5)
	xtr, ytr := slices.Clone(xall[:30*classes*dim]), yall[:30*classes]
	xte, yte := slices.Clone(xall[30*classes*dim:]), yall[30*classes:]
	Standardize(xtr, xte, dim)
	cfg := DefaultLinear()
	cfg.Epochs, cfg.BatchSize = 3, 64
	run := func(pad bool) *LinearResult {
		old := padClasses
		padClasses = pad
		defer func() { padClasses = old }()
		r, err := TrainLinear(s, cfg, xtr, ytr, xte, yte, dim, classes, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := run(true), run(false)
	if !slices.Equal(a.History, b.History) || a.Top5 != b.Top5 || !slices.EqualFunc(a.Confusion, b.Confusion, slices.Equal) {
		t.Fatalf("padded probe %+v top-5 %v\nunpadded %+v top-5 %v", a.History, a.Top5, b.History, b.Top5)
	}
	if a.Top1 == 1 || a.Top1 < 0.3 {
		t.Fatalf("top-1 %.3f: the clusters should be learnable but not separable, so the check means something", a.Top1)
	}
	t.Logf("top-1 %.3f, top-5 %.3f, losses %+v", a.Top1, a.Top5, a.History)
}

// TestExtractorGrow: an extractor grown for a larger set takes larger batches and gives the
// features of the EvalBatch one bit for bit (eval-mode batchnorm keeps the images apart, the last
// batch padded); a set no larger than its batch, or a budget the larger graph would pass, leaves it.
func TestExtractorGrow(t *testing.T) {
	s := session(t)
	cfg := model.Config{Arch: "resnet18", Width: 4, Stem: "imagenet", InChannels: 1, ImageSize: 28, ProjHidden: 8, ProjDim: 4}
	const n = 600
	ds := &data.Dataset{Name: "noise", N: n, H: 28, W: 28, C: 1, Images: make([]uint8, n*28*28), Labels: make([]int32, n),
		Mean: []float32{0.3}, Std: []float32{0.3}}
	r := rand.New(rand.NewPCG(5, 6))
	for i := range ds.Images {
		ds.Images[i] = uint8(r.IntN(256))
	}
	e, err := RandomEncoder(s, cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	small, err := e.ext.Features(ds, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ext.Grow(EvalBatch); err != nil || e.ext.Batch() != EvalBatch {
		t.Fatalf("Grow(%d): batch %d, %v; want it kept", EvalBatch, e.ext.Batch(), err)
	}
	old := evalBudget
	evalBudget = e.ext.Dev.Bytes() * 3 / 2
	err = e.ext.Grow(n)
	evalBudget = old
	if err != nil || e.ext.Batch() != EvalBatch {
		t.Fatalf("Grow(%d) under a budget of 1.5x the graph: batch %d, %v; want it kept", n, e.ext.Batch(), err)
	}
	if err := e.ext.Grow(n); err != nil || e.ext.Batch() != maxEvalBatch {
		t.Fatalf("Grow(%d): batch %d, %v; want %d", n, e.ext.Batch(), err, maxEvalBatch)
	}
	big, err := e.ext.Features(ds, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(big) != len(small) || len(small) != n*cfg.FeatureDim() {
		t.Fatalf("features: %d and %d values, want %d", len(small), len(big), n*cfg.FeatureDim())
	}
	for i := range small {
		if math.Float32bits(small[i]) != math.Float32bits(big[i]) {
			t.Fatalf("feature %d (image %d): %v at batch %d, %v at %d", i, i/cfg.FeatureDim(), small[i], EvalBatch, big[i], maxEvalBatch)
		}
	}
}

func TestKNNClusters(t *testing.T) {
	s := session(t)
	const classes, dim = 5, 16
	bank, by := clusters(classes, 50, dim, 0.3, 2)
	q, qy := clusters(classes, 10, dim, 0.3, 2)
	pred, err := KNNPredict(s, bank, by, q, dim, classes, 20, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if acc := Accuracy(pred, qy); acc < 0.99 {
		t.Fatalf("well-separated clusters: kNN accuracy %.3f", acc)
	}
	if got := topK([]float32{3, 9, 1, 7, 5}, 2, nil); !(slices.Contains(got, 1) && slices.Contains(got, 3)) {
		t.Errorf("topK = %v", got)
	}
}

// TestCheckpointFeatures: a checkpoint's features are identical across
// runs and extractors, and bad pairings of checkpoint and data fail clearly.
func TestCheckpointFeatures(t *testing.T) {
	s := session(t)
	dataDir := writeTinyCIFAR(t, 4)
	c := tinyConfig(dataDir, filepath.Join(t.TempDir(), "run"))
	c.Steps = 2
	if _, err := Run(context.Background(), s, c, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(c.Out, LastCkpt)
	ds, err := data.Load("cifar10", dataDir, "test")
	if err != nil {
		t.Fatal(err)
	}
	var feats [][]float32
	for i := 0; i < 2; i++ {
		e, err := LoadEncoder(s, ck)
		if err != nil {
			t.Fatal(err)
		}
		f, err := e.Features(ds, false, "", io.Discard)
		e.Close()
		if err != nil {
			t.Fatal(err)
		}
		feats = append(feats, f)
	}
	if !slices.Equal(feats[0], feats[1]) || len(feats[0]) != ds.N*c.Model.FeatureDim() {
		t.Fatal("features differ between two extractions of one checkpoint")
	}
	// The cache returns the same features.
	e, _ := LoadEncoder(s, ck)
	defer e.Close()
	cache := t.TempDir()
	a, _ := e.Features(ds, false, cache, io.Discard)
	b, err := e.Features(ds, false, cache, io.Discard)
	if err != nil || !slices.Equal(a, b) || !slices.Equal(a, feats[0]) {
		t.Fatal("cached features differ")
	}
	// A one-channel dataset for a three-channel encoder.
	gray := &data.Dataset{Name: "gray", N: 2, H: 32, W: 32, C: 1, Images: make([]uint8, 2*32*32), Mean: []float32{0.5}, Std: []float32{0.5}}
	if _, err := e.Features(gray, false, "", io.Discard); err == nil || !strings.Contains(err.Error(), "channels") {
		t.Errorf("1-channel data on a 3-channel encoder: %v", err)
	}
	// Not a checkpoint at all.
	if _, err := LoadEncoder(s, filepath.Join(c.Out, MetricsFile)); err == nil {
		t.Error("metrics.jsonl loaded as a checkpoint")
	}
}

// TestStandardizeConstantDimension: a dimension constant over the train split (a border pixel that
// is always 0) is centred, not divided by its zero spread, so a test image that differs stays finite
// and small.
func TestStandardizeConstantDimension(t *testing.T) {
	xtr := []float32{0, 1, 0, 3, 0, 5} // dim 0 always 0; dim 1 varies
	xte := []float32{0.5, 3}
	Standardize(xtr, xte, 2)
	if xte[0] != 0.5 || xtr[0] != 0 {
		t.Errorf("constant dimension: test %v, train %v; want it only centred", xte[0], xtr[0])
	}
	if xte[1] != 0 || xtr[1] > -1.2 || xtr[1] < -1.25 {
		t.Errorf("varying dimension: test %v, train %v", xte[1], xtr[1])
	}
}
