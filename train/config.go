// Package train runs SimCLR pre-training on a Vulkan device: the data path
// (dataset -> augmentations on goroutines -> double-buffered staging), one
// recorded command buffer per step (upload, forward of both views, head,
// NT-Xent, backward, non-finite check, optimizer) replayed every step with
// one submit, and the run folder (metrics, plots, checkpoints).
package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/vkclr/vkclr/internal/diskio"
	"github.com/vkclr/vkclr/model"
	"github.com/vkclr/vkclr/train/augment"
	"github.com/vkclr/vkclr/train/data"
)

// Config is every setting of a run; config.json in the run folder holds it
// resolved, and --resume reads it back.
type Config struct {
	Data    string `json:"data"`     // cifar10, cifar100, fashion-mnist, mnist or a folder
	DataDir string `json:"data_dir"` // where the dataset's files are ("" for the default)
	Subset  int    `json:"subset"`   // first N training images (0: all)

	// Image folders (and STL-10, Imagenette): the decoded cache.
	CacheDir   string `json:"cache_dir,omitempty"`   // "" means the user cache
	CacheSide  int    `json:"cache_side,omitempty"`  // stored shorter side; 0 means data.CacheSide(ImageSize)
	StrictData bool   `json:"strict_data,omitempty"` // fail on the first unreadable image

	Model    model.Config `json:"model"`
	InitFrom string       `json:"init_from,omitempty"` // start the encoder from this torchvision-layout state dict

	BatchSize    int     `json:"batch_size"` // images per step (two views each)
	Epochs       int     `json:"epochs"`
	Steps        int     `json:"steps"` // stop after this many steps in all (0: Epochs decides)
	Optimizer    string  `json:"optimizer"`
	LR           float64 `json:"lr"`         // base learning rate per 256 images
	LRScaling    string  `json:"lr_scaling"` // linear or sqrt
	WarmupEpochs float64 `json:"warmup_epochs"`
	WeightDecay  float64 `json:"weight_decay"`
	Momentum     float64 `json:"momentum"`
	Nesterov     bool    `json:"nesterov"`
	Temperature  float64 `json:"temperature"`
	Augment      string  `json:"augment"` // an augment.Preset spec
	Seed         uint64  `json:"seed"`
	// Data-parallel runs (mpirun): batchnorm statistics per rank instead of
	// over the global batch, and the steps between weight checksum
	// comparisons (0: DefaultCheckEvery, negative: never).
	PerRankBN  bool `json:"per_rank_bn,omitempty"`
	CheckEvery int  `json:"check_every,omitempty"`

	Device     string `json:"device"`
	Out        string `json:"out"`
	SaveEvery  int    `json:"save_every"` // epochs between numbered checkpoints (0: only last)
	EvalEvery  int    `json:"eval_every"` // epochs between kNN evaluations (0: never)
	KNNK       int    `json:"knn_k"`
	LogEvery   int    `json:"log_every"` // steps between metrics.jsonl lines
	Profile    bool   `json:"profile"`
	VkValidate bool   `json:"vk_validate"`
}

// Presets: the paper's CIFAR-10 recipe and a demo that learns within
// minutes on a CPU driver.
var Presets = map[string]Config{
	"cifar10": {
		Data: "cifar10", Model: model.Config{Arch: "resnet18", Width: 64, Stem: "cifar", InChannels: 3, ImageSize: 32, ProjHidden: 2048, ProjDim: 128},
		BatchSize: 512, Epochs: 1000, Optimizer: "lars", LR: 1.0, LRScaling: "linear", WarmupEpochs: 10,
		WeightDecay: 1e-6, Momentum: 0.9, Temperature: 0.5, Augment: "simclr-cifar", Seed: 1,
		SaveEvery: 50, EvalEvery: 10, KNNK: 200, LogEvery: 10,
	},
	// The demo: one and a half passes over all 60,000 Fashion-MNIST images (702 steps of 128) at width 64, with
	// AdamW. The width buys the probe's features (512 dimensions; width 48 gave 384 and stayed
	// under the raw pixels' probe), the ImageNet stem (7x7 stride 2 + max pool: 7x7 maps from 28x28,
	// down to 1x1) pays for the width; AdamW learns more in a few hundred steps than SGD did (81.35%
	// against 80.26% at width 48), and fresh images beat repeated ones at the same step count
	// (81.90% against 81.35%); crops of at least 30% of a 28x28 image keep the garment recognisable.
	// 702 steps (one and a half passes) rather than one pass of 468: on the fused-FMA lavapipe `make
	// demo` builds (tools/lavapipe/build.sh) three seeds of 468 steps gave 81.59%, 82.48% and 81.47%
	// against the raw pixels' 82.26%, and of 702 steps 82.32%, 83.17% and 82.25%; the faster driver
	// pays for the extra steps. BENCHMARKS.md "make demo" has the runs and times.
	"demo": {
		Data: "fashion-mnist", Subset: 0,
		Model:     model.Config{Arch: "resnet18", Width: 64, Stem: "imagenet", InChannels: 1, ImageSize: 28, ProjHidden: 64, ProjDim: 32},
		BatchSize: 128, Epochs: 2, Steps: 702, Optimizer: "adamw", LR: 0.002, LRScaling: "linear", WarmupEpochs: 0.05,
		WeightDecay: 0.05, Momentum: 0.9, Temperature: 0.2, Augment: "simclr-cifar,s=0.5,scale=0.3", Seed: 1,
		EvalEvery: 0, KNNK: 200, LogEvery: 5,
	},
}

// PresetNames lists the presets.
func PresetNames() []string { return []string{"cifar10", "demo"} }

// Validate checks settings and combinations before any work starts.
func (c *Config) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if c.Data == "" {
		bad("--data is required (cifar10, cifar100, fashion-mnist, mnist, or an image folder)")
	}
	if err := c.Model.Validate(); err != nil {
		bad("model: %v", err)
	}
	if c.BatchSize < 2 {
		bad("--batch-size %d: need at least 2 images (NT-Xent needs negatives)", c.BatchSize)
	}
	if c.Epochs < 1 && c.Steps < 1 {
		bad("--epochs or --steps must be positive")
	}
	if c.Steps < 0 || c.Subset < 0 || c.SaveEvery < 0 || c.EvalEvery < 0 || c.LogEvery < 0 {
		bad("negative --steps, --subset, --save-every, --eval-every or --log-every")
	}
	switch c.Optimizer {
	case "sgd", "lars", "adamw":
	default:
		bad("--optimizer %q: one of sgd, lars, adamw", c.Optimizer)
	}
	if !(c.LR > 0) || math.IsInf(c.LR, 0) {
		bad("--lr %v: must be positive", c.LR)
	}
	if c.LRScaling != "linear" && c.LRScaling != "sqrt" {
		bad("--lr-scaling %q: linear or sqrt", c.LRScaling)
	}
	if c.WarmupEpochs < 0 {
		bad("--warmup-epochs %v: must be >= 0", c.WarmupEpochs)
	}
	if c.WeightDecay < 0 || c.Momentum < 0 || c.Momentum >= 1 {
		bad("--weight-decay must be >= 0 and --momentum in [0, 1)")
	}
	if c.Nesterov && c.Momentum == 0 {
		bad("--nesterov needs --momentum > 0")
	}
	if !(c.Temperature > 0) {
		bad("--temperature %v: must be positive", c.Temperature)
	}
	if _, err := c.AugmentConfig(); err != nil {
		bad("--augment: %v", err)
	}
	if c.KNNK < 1 && c.EvalEvery > 0 {
		bad("--knn-k must be positive")
	}
	if c.Out == "" {
		bad("--out (the run folder) is required")
	}
	if len(errs) > 0 {
		return fmt.Errorf("bad training settings:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

// FolderOptions are the data options for image folders at this run's
// resolution, reporting the cache build to log.
func (c *Config) FolderOptions(log io.Writer) data.FolderOptions {
	side := c.CacheSide
	if side <= 0 {
		side = data.CacheSide(c.Model.ImageSize)
	}
	return data.FolderOptions{Side: side, CacheDir: c.CacheDir, Strict: c.StrictData, Log: log}
}

// AugmentConfig resolves the augmentation preset at the model's resolution.
func (c *Config) AugmentConfig() (augment.Config, error) {
	spec := c.Augment
	if !strings.Contains(spec, "size=") {
		spec += fmt.Sprintf(",size=%d", c.Model.ImageSize)
	}
	return augment.Preset(spec)
}

// PeakLR is the learning rate after warm-up: the base per 256 images scaled
// to the batch.
func (c *Config) PeakLR() float64 {
	r := float64(c.BatchSize) / 256
	if c.LRScaling == "sqrt" {
		return c.LR * math.Sqrt(r)
	}
	return c.LR * r
}

// LRAt is the schedule: linear warm-up over WarmupEpochs, then cosine decay
// to zero at the last step.
func (c *Config) LRAt(step, stepsPerEpoch, totalSteps int) float64 {
	peak := c.PeakLR()
	warm := int(math.Round(c.WarmupEpochs * float64(stepsPerEpoch)))
	if step < warm {
		return peak * float64(step+1) / float64(warm)
	}
	if totalSteps <= warm {
		return peak
	}
	p := float64(step-warm) / float64(totalSteps-warm)
	return peak * 0.5 * (1 + math.Cos(math.Pi*p))
}

// WriteJSON writes the configuration to path atomically, and only when it
// differs from what path holds (a resume with unchanged settings writes nothing).
func (c *Config) WriteJSON(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	return diskio.WriteFileAtomic(path, b)
}

// ReadConfig reads a run's config.json.
func ReadConfig(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
