// The `vkclr eval` commands (linear probe, kNN) and `vkclr embed`.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/vkclr/vkclr/model/safetensors"
	"github.com/vkclr/vkclr/train"
	"github.com/vkclr/vkclr/train/augment"
	"github.com/vkclr/vkclr/train/data"
	"github.com/vkclr/vkclr/train/plot"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	register("eval", "evaluate a frozen encoder: linear probe or kNN", cmdEval)
	register("embed", "write a split's features and labels to a safetensors file", cmdEmbed)
}

// evalCommon are the flags every evaluation shares.
type evalCommon struct {
	checkpoint, data, dataDir, device string
	subset, testSubset                int
	baseline                          string
	seed                              uint64
	validate                          bool

	// Image folders: the held-out fraction without a val folder, and the decoded cache.
	valFraction float64
	strictData  bool
	cacheDir    string
}

// flags binds the flags; evaluations (eval) also take baselines, a test subset and a seed.
func (c *evalCommon) flags(fs *pflag.FlagSet, eval bool) {
	fs.StringVar(&c.checkpoint, "checkpoint", "", "the checkpoint (a vkclr .safetensors file)")
	fs.StringVar(&c.data, "data", "", "dataset: cifar10, cifar100, fashion-mnist, mnist, or an image folder")
	fs.StringVar(&c.dataDir, "data-dir", "", "folder holding the dataset's files")
	if eval {
		fs.IntVar(&c.subset, "subset", 0, "use the first N training images (0: all)")
		fs.IntVar(&c.testSubset, "test-subset", 0, "use the first N test images (0: all)")
		fs.StringVar(&c.baseline, "baseline", "", "also evaluate baselines, comma-separated: 'random' (a random-init encoder of the same architecture), 'pixels' (the same probe on the raw pixels)")
		fs.Uint64Var(&c.seed, "seed", 1, "seed of the probe (and of the random baseline)")
	} else {
		fs.IntVar(&c.subset, "subset", 0, "use the first N images of the split (0: all)")
	}
	fs.StringVar(&c.device, "device", "", "Vulkan device: index or name substring")
	fs.BoolVar(&c.validate, "vk-validate", false, "enable the Vulkan validation layer")
	fs.Float64Var(&c.valFraction, "val-fraction", 0, "image folder without a val/ folder: hold out this fraction of the images (chosen by path hash) as the test split")
	fs.BoolVar(&c.strictData, "strict-data", false, "fail on the first unreadable image (default: skip it and report it)")
	fs.StringVar(&c.cacheDir, "cache-dir", "", "where decoded image-folder caches go (default: the user cache, vkclr/images)")
}

// folderOptions reads image folders at the encoder's resolution.
func (c *evalCommon) folderOptions(imageSize int) data.FolderOptions {
	return data.FolderOptions{Side: data.CacheSide(imageSize), CacheDir: c.cacheDir, Strict: c.strictData,
		ValFraction: c.valFraction, Log: os.Stderr}
}

// baselines parses --baseline.
func (c *evalCommon) baselines() (random, pixels bool, err error) {
	if c.baseline == "" {
		return false, false, nil
	}
	for _, b := range strings.Split(c.baseline, ",") {
		switch strings.TrimSpace(b) {
		case "random":
			random = true
		case "pixels":
			pixels = true
		default:
			return false, false, usagef("--baseline %q: a comma-separated list of 'random' and 'pixels'", c.baseline)
		}
	}
	return random, pixels, nil
}

func (c *evalCommon) check() error {
	if c.checkpoint == "" {
		return usagef("--checkpoint is required")
	}
	if c.data == "" {
		return usagef("--data is required")
	}
	if _, _, err := c.baselines(); err != nil {
		return err
	}
	if _, err := os.Stat(c.checkpoint); err != nil {
		return fmt.Errorf("--checkpoint: %w", err)
	}
	return nil
}

func (c *evalCommon) splits(imageSize int) (tr, te *data.Dataset, err error) {
	opts := c.folderOptions(imageSize)
	if tr, err = data.Open(c.data, c.dataDir, "train", opts); err != nil {
		return nil, nil, err
	}
	if te, err = data.Open(c.data, c.dataDir, "test", opts); err != nil {
		return nil, nil, fmt.Errorf("the test split: %w", err)
	}
	if tr.Labels == nil || te.Labels == nil {
		return nil, nil, fmt.Errorf("%s has no labels: evaluation needs a labelled train and test split", c.data)
	}
	if len(tr.Classes) != len(te.Classes) {
		return nil, nil, fmt.Errorf("%s: train has %d classes, test %d", c.data, len(tr.Classes), len(te.Classes))
	}
	if c.subset > 0 && c.subset < tr.N {
		tr = tr.Subset(c.subset)
	}
	if c.testSubset > 0 && c.testSubset < te.N {
		te = te.Subset(c.testSubset)
	}
	return tr, te, nil
}

// subject is one thing a probe evaluates: an encoder's features, or (enc nil) the raw pixels.
type subject struct {
	name string
	enc  *train.Encoder
}

// features of both splits and their width; an encoder's with the flip averaged in when asked.
func (sub subject) features(tr, te *data.Dataset, flip bool, cache string) (xtr, xte []float32, dim int, err error) {
	if sub.enc == nil {
		return train.PixelFeatures(tr), train.PixelFeatures(te), tr.H * tr.W * tr.C, nil
	}
	xtr, xte, err = features(sub.enc, tr, te, flip, cache)
	return xtr, xte, sub.enc.Dim(), err
}

// open loads the device and the encoders, then both splits (image folders
// at the encoder's resolution), and lists what the probe evaluates.
func (c *evalCommon) open() (tr, te *data.Dataset, s *train.Session, encs []*train.Encoder, subs []subject, err error) {
	var names []string
	if s, encs, names, err = c.encoders(); err != nil {
		return
	}
	if tr, te, err = c.splits(encs[0].Cfg.ImageSize); err != nil {
		closeAll(s, encs)
		return nil, nil, nil, nil, nil, err
	}
	for i, e := range encs {
		subs = append(subs, subject{names[i], e})
	}
	if _, pixels, _ := c.baselines(); pixels {
		subs = append(subs, subject{"pixels", nil})
	}
	return
}

func closeAll(s *train.Session, encs []*train.Encoder) {
	for _, e := range encs {
		e.Close()
	}
	s.Close()
}

// encoders opens the device and the checkpoint's encoder (and the random baseline).
func (c *evalCommon) encoders() (*train.Session, []*train.Encoder, []string, error) {
	s, err := train.OpenSession(c.device, c.validate || vk.ValidationFromEnv())
	if err != nil {
		return nil, nil, nil, err
	}
	e, err := train.LoadEncoder(s, c.checkpoint)
	if err != nil {
		s.Close()
		return nil, nil, nil, err
	}
	encs, names := []*train.Encoder{e}, []string{"checkpoint"}
	if random, _, _ := c.baselines(); random {
		r, err := train.RandomEncoder(s, e.Cfg, c.seed)
		if err != nil {
			e.Close()
			s.Close()
			return nil, nil, nil, err
		}
		encs, names = append(encs, r), append(names, "random init")
	}
	return s, encs, names, nil
}

func cmdEval(args []string) error {
	if len(args) == 0 || (args[0] != "linear" && args[0] != "knn") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Println("Usage: vkclr eval linear|knn --checkpoint FILE --data NAME [flags]")
			return nil
		}
		return usagef("usage: vkclr eval linear|knn --checkpoint FILE --data NAME")
	}
	if args[0] == "knn" {
		return cmdEvalKNN(args[1:])
	}
	return cmdEvalLinear(args[1:])
}

// linearResultFile is what eval linear writes into --out.
const linearResultFile = "linear_eval.json"

func cmdEvalLinear(args []string) error {
	var c evalCommon
	lc := train.DefaultLinear()
	fs := newFlags("eval linear", "eval linear --checkpoint FILE --data NAME [flags]")
	c.flags(fs, true)
	fs.IntVar(&lc.Epochs, "epochs", lc.Epochs, "epochs of the classifier")
	fs.IntVar(&lc.BatchSize, "batch-size", lc.BatchSize, "batch size")
	fs.Float64Var(&lc.LR, "lr", lc.LR, "peak learning rate (cosine schedule)")
	fs.Float64Var(&lc.WeightDecay, "weight-decay", lc.WeightDecay, "weight decay")
	fs.BoolVar(&lc.Standardize, "standardize", lc.Standardize, "standardize features with the train statistics")
	flip := fs.Bool("flip", false, "average the features of each image and its horizontal flip (encoders only)")
	out := fs.String("out", "", "folder for "+linearResultFile+", confusion.png and linear.png (default: beside the checkpoint)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	lc.Seed = c.seed
	if err := c.check(); err != nil {
		return err
	}
	if lc.Epochs < 1 || lc.BatchSize < 1 || !(lc.LR > 0) {
		return usagef("--epochs, --batch-size and --lr must be positive")
	}
	tr, te, s, encs, subs, err := c.open()
	if err != nil {
		return err
	}
	defer closeAll(s, encs)
	if *out == "" {
		*out = filepath.Dir(c.checkpoint)
	}
	results := map[string]any{}
	var loss, acc []plot.Series
	for i, sub := range subs {
		t0 := time.Now()
		xtr, xte, dim, err := sub.features(tr, te, *flip, filepath.Dir(c.checkpoint))
		if err != nil {
			return err
		}
		tf := time.Since(t0)
		if lc.Standardize {
			train.Standardize(xtr, xte, dim)
		}
		t1 := time.Now()
		r, err := train.TrainLinear(s, lc, xtr, tr.Labels, xte, te.Labels, dim, len(tr.Classes), nil)
		if err != nil {
			return err
		}
		fmt.Printf("linear probe (%s): top-1 %.2f%%  top-5 %.2f%%  (features %s, classifier %s)\n", sub.name, 100*r.Top1, 100*r.Top5,
			tf.Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
		key := strings.ReplaceAll(sub.name, " ", "_")
		results[key] = map[string]any{"top1": r.Top1, "top5": r.Top5, "per_class": r.PerClass, "confusion": r.Confusion,
			"train_loss": r.TrainLoss, "epochs": r.History, "features_s": tf.Seconds(), "classifier_s": time.Since(t1).Seconds()}
		l, a := plot.Series{Name: sub.name}, plot.Series{Name: sub.name}
		for _, h := range r.History {
			l.X, l.Y = append(l.X, float64(h.Epoch)), append(l.Y, h.TrainLoss)
			a.X, a.Y = append(a.X, float64(h.Epoch)), append(a.Y, 100*h.TestTop1)
		}
		loss, acc = append(loss, l), append(acc, a)
		if i == 0 {
			for cl, a := range r.PerClass {
				fmt.Printf("  %-12s %.1f%%\n", tr.Classes[cl], 100*a)
			}
			png := filepath.Join(*out, "confusion.png")
			if err := plot.ConfusionMatrixPNG(png, tr.Classes, r.Confusion); err == nil {
				fmt.Printf("confusion matrix: %s\n", png)
			}
		}
	}
	png := filepath.Join(*out, "linear.png")
	if err := plot.Charts(png, plot.Chart{Title: "linear probe: train loss", XLabel: "epoch", YLabel: "cross-entropy", Series: loss},
		plot.Chart{Title: "linear probe: test top-1", XLabel: "epoch", YLabel: "accuracy %", Series: acc}); err == nil {
		fmt.Printf("probe curves: %s\n", png)
	}
	// (the probe of the checkpoint is under "checkpoint"; the file it came from is checkpoint_path)
	results["checkpoint_path"], results["data"], results["train_images"], results["test_images"] = c.checkpoint, c.data, tr.N, te.N
	b, _ := json.MarshalIndent(results, "", "  ")
	path := filepath.Join(*out, linearResultFile)
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("results: %s\n", path)
	return nil
}

// features of both splits, the flip averaged in when asked.
func features(e *train.Encoder, tr, te *data.Dataset, flip bool, cache string) (xtr, xte []float32, err error) {
	get := func(ds *data.Dataset) ([]float32, error) {
		v, err := e.Features(ds, false, cache, os.Stderr)
		if err != nil || !flip {
			return v, err
		}
		f, err := e.Features(ds, true, cache, os.Stderr)
		if err != nil {
			return nil, err
		}
		for i := range v {
			v[i] = (v[i] + f[i]) / 2
		}
		return v, nil
	}
	if xtr, err = get(tr); err != nil {
		return nil, nil, err
	}
	xte, err = get(te)
	return xtr, xte, err
}

func cmdEvalKNN(args []string) error {
	var c evalCommon
	fs := newFlags("eval knn", "eval knn --checkpoint FILE --data NAME [--k 200] [--temperature 0.1]")
	c.flags(fs, true)
	k := fs.Int("k", 200, "neighbours")
	temp := fs.Float64("temperature", 0.1, "temperature of the similarity weights exp(sim/T)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	if *k < 1 || !(*temp > 0) {
		return usagef("--k and --temperature must be positive")
	}
	tr, te, s, encs, subs, err := c.open()
	if err != nil {
		return err
	}
	defer closeAll(s, encs)
	for _, sub := range subs {
		t0 := time.Now()
		xtr, xte, dim, err := sub.features(tr, te, false, filepath.Dir(c.checkpoint))
		if err != nil {
			return err
		}
		t1 := time.Now()
		pred, err := train.KNNPredict(s, xtr, tr.Labels, xte, dim, len(tr.Classes), *k, *temp)
		if err != nil {
			return err
		}
		fmt.Printf("kNN (%s, k=%d, T=%g): top-1 %.2f%%  (features %s, kNN %s)\n", sub.name, *k, *temp, 100*train.Accuracy(pred, te.Labels),
			t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	}
	return nil
}

func cmdEmbed(args []string) error {
	var c evalCommon
	fs := newFlags("embed", "embed --checkpoint FILE --data NAME --split train|test --out FILE.safetensors")
	c.flags(fs, false)
	split := fs.String("split", "test", "train or test")
	images := fs.Bool("images", false, "also store the images (images [N, S, S, C] uint8, S = min(side, 64)), so 'vkclr view --embeddings' needs no dataset")
	out := fs.String("out", "", "output .safetensors file (features [N, D] float32, labels [N] int64)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	if *split != "train" && *split != "test" {
		return usagef("--split %q: train or test", *split)
	}
	if *out == "" {
		return usagef("--out is required")
	}
	s, encs, _, err := c.encoders()
	if err != nil {
		return err
	}
	defer s.Close()
	defer encs[0].Close()
	ds, err := data.Open(c.data, c.dataDir, *split, c.folderOptions(encs[0].Cfg.ImageSize))
	if err != nil {
		return err
	}
	if c.subset > 0 && c.subset < ds.N {
		ds = ds.Subset(c.subset)
	}
	v, err := encs[0].Features(ds, false, "", os.Stderr)
	if err != nil {
		return err
	}
	f := safetensors.NewFile(safetensors.F32("features", []int{ds.N, encs[0].Dim()}, v))
	if ds.Labels != nil {
		l := make([]int64, ds.N)
		for i, y := range ds.Labels {
			l[i] = int64(y)
		}
		f.Add(safetensors.I64("labels", []int{ds.N}, l))
	}
	if *images {
		side := min(ds.H, 64) // thumbnails: the viewer shows no more
		pix, err := augment.Thumbnails(ds, side)
		if err != nil {
			return err
		}
		f.Add(&safetensors.Tensor{Name: "images", DType: safetensors.DTypeU8, Shape: []int{ds.N, side, side, ds.C}, Data: pix})
	}
	f.Metadata = map[string]string{"checkpoint": c.checkpoint, "dataset": ds.Name, "split": *split, "classes": strings.Join(ds.Classes, ",")}
	// Where the images are, for 'vkclr view --embeddings' (data, data_dir, split, subset).
	src := c.data
	if !data.IsBuiltin(src) {
		src, _ = filepath.Abs(src)
	}
	f.Metadata["data"], f.Metadata["data_dir"], f.Metadata["subset"] = src, c.dataDir, strconv.Itoa(ds.N)
	if err := safetensors.Write(*out, f); err != nil {
		return err
	}
	fmt.Printf("wrote %d x %d features to %s\n", ds.N, encs[0].Dim(), *out)
	return nil
}
