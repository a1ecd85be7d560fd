// Command dump runs one vkclr SimCLR training step per optimizer (SGD with
// Nesterov, LARS, AdamW) from the same seeded weights on the same batch of
// views, and writes what tools/torchref/parity.py replays in PyTorch:
//
//	DIR/init.safetensors    the weights and running statistics before the step (torchvision names)
//	DIR/views.safetensors   "views" (2N, S, S, 4): the augmented batch, both views, device layout
//	DIR/grads.safetensors   every parameter's gradient of the loss, torchvision names and layouts
//	DIR/after_OPT.safetensors  the weights and running statistics after one OPT step
//	DIR/step.json           the loss of each run and the hyperparameters used
//
//	go run ./tools/torchref/dump -out DIR -stem cifar|imagenet [-size PX]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/vkclr/vkclr/model"
	"github.com/vkclr/vkclr/model/safetensors"
	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/train"
	"github.com/vkclr/vkclr/train/augment"
	"github.com/vkclr/vkclr/train/data"
)

// Step is step.json.
type Step struct {
	Model       model.Config       `json:"model"`
	Batch       int                `json:"batch"`
	Temperature float64            `json:"temperature"`
	Momentum    float64            `json:"momentum"`
	WeightDecay float64            `json:"weight_decay"`
	LARSEta     float64            `json:"lars_eta"`
	Runs        map[string]OptStep `json:"runs"`
}

// OptStep is one optimizer's run.
type OptStep struct {
	LR       float64 `json:"lr"`
	Nesterov bool    `json:"nesterov"`
	Loss     float64 `json:"loss"`
}

func main() {
	out := flag.String("out", "", "output folder")
	stem := flag.String("stem", "cifar", "cifar or imagenet")
	device := flag.String("device", "", "Vulkan device")
	size := flag.Int("size", 32, "image size in pixels")
	flag.Parse()
	if err := run(*out, *stem, *device, *size); err != nil {
		fmt.Fprintln(os.Stderr, "dump:", err)
		os.Exit(1)
	}
}

func run(out, stem, device string, size int) error {
	if out == "" {
		return fmt.Errorf("-out DIR is required")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	s, err := train.OpenSession(device, false)
	if err != nil {
		return err
	}
	defer s.Close()
	// torchvision's width; a small batch and image so it runs in seconds
	// (parity.sh picks sizes where float32 can meet the tolerance).
	// The imagenet-stem run also takes the head with batchnorm.
	c := train.Presets["cifar10"]
	c.Model = model.Config{Arch: "resnet18", Width: 64, Stem: stem, InChannels: 3, ImageSize: size, ProjHidden: 64, ProjDim: 32, ProjBN: stem == "imagenet"}
	c.BatchSize, c.Steps, c.WarmupEpochs, c.Out = 8, 1, 0, out
	c.WeightDecay, c.Momentum = 5e-4, 0.9
	ds := syntheticCIFAR(64, size)
	st := Step{Model: c.Model, Batch: c.BatchSize, Temperature: c.Temperature, Momentum: c.Momentum,
		WeightDecay: c.WeightDecay, LARSEta: ref.DefaultLARSEta, Runs: map[string]OptStep{}}
	// Base rates per 256 images: peak rates 0.5 (SGD), 5 (LARS, whose trust
	// ratio scales by eta = 1e-3) and 1e-3 (AdamW) at batch 8.
	for _, o := range []struct {
		name     string
		lr       float64
		nesterov bool
	}{{"sgd", 16, true}, {"lars", 160, false}, {"adamw", 0.032, false}} {
		c.Optimizer, c.LR, c.Nesterov = o.name, o.lr, o.nesterov
		loss, err := oneStep(s, c, ds, out, o.name == "sgd")
		if err != nil {
			return fmt.Errorf("%s: %w", o.name, err)
		}
		st.Runs[o.name] = OptStep{LR: c.LRAt(0, 1, 1), Nesterov: o.nesterov, Loss: loss}
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	return os.WriteFile(filepath.Join(out, "step.json"), append(b, '\n'), 0o644)
}

// oneStep trains one step from the seeded weights and saves the weights
// after it; first also saves the weights before, the views and the gradients.
func oneStep(s *train.Session, c train.Config, ds *data.Dataset, out string, first bool) (float64, error) {
	tr, err := train.NewTrainer(s, c, ds)
	if err != nil {
		return 0, err
	}
	defer tr.Close()
	if err := tr.Init(); err != nil {
		return 0, err
	}
	g := tr.G
	save := func(name string) error {
		ck, err := tr.Checkpoint(0)
		if err != nil {
			return err
		}
		ck.Opt = nil
		return g.Save(filepath.Join(out, name), ck)
	}
	opts := augment.LoaderOptions{Batch: c.BatchSize, OutC: c.Model.DeviceInChannels(), Seed: c.Seed, DropLast: true}
	if first {
		if err := save("init.safetensors"); err != nil {
			return 0, err
		}
		// The trainer's loader with the same seed makes the same first batch.
		l, err := augment.NewLoader(ds, tr.Aug, opts)
		if err != nil {
			return 0, err
		}
		l.Epoch(0)
		v := make([]float32, l.BatchLen(c.BatchSize))
		_, err = l.Next(v)
		l.Close()
		if err != nil {
			return 0, err
		}
		S := c.Model.ImageSize
		f := safetensors.NewFile(safetensors.F32("views", []int{2 * c.BatchSize, S, S, c.Model.DeviceInChannels()}, v))
		if err := safetensors.Write(filepath.Join(out, "views.safetensors"), f); err != nil {
			return 0, err
		}
	}
	loader, err := augment.NewLoader(ds, tr.Aug, opts)
	if err != nil {
		return 0, err
	}
	defer loader.Close()
	var loss float64
	hooks := train.Hooks{OnStep: func(st train.Step) error { loss = st.Loss; return nil }}
	if err := tr.RunSteps(context.Background(), loader, hooks, io.Discard); err != nil {
		return 0, err
	}
	if first {
		// The gradient buffer still holds the step's gradients.
		ck, err := tr.Checkpoint(0)
		if err != nil {
			return 0, err
		}
		if err := s.Ctx.DownloadF32(ck.Params, tr.Dev.Grads.All()); err != nil {
			return 0, err
		}
		ck.Opt = nil
		if err := g.Save(filepath.Join(out, "grads.safetensors"), ck); err != nil {
			return 0, err
		}
	}
	return loss, save("after_" + c.Optimizer + ".safetensors")
}

// syntheticCIFAR is n seeded images of size S with class-dependent colored
// squares over noise: no download, and something for the views to differ in.
func syntheticCIFAR(n, S int) *data.Dataset {
	r := rand.New(rand.NewPCG(7, 8))
	ds := &data.Dataset{Name: "synthetic", N: n, H: S, W: S, C: 3, Images: make([]uint8, n*S*S*3), Labels: make([]int32, n),
		Classes: []string{"0", "1", "2", "3"}, Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}}
	for i := 0; i < n; i++ {
		lab := r.IntN(4)
		ds.Labels[i] = int32(lab)
		x0, y0 := r.IntN(S/2), r.IntN(S/2)
		for y := 0; y < S; y++ {
			for x := 0; x < S; x++ {
				for ch := 0; ch < 3; ch++ {
					v := 40 + r.IntN(60)
					if x >= x0 && x < x0+S/3 && y >= y0 && y < y0+S/3 {
						v += 40 * ((lab + ch) % 4)
					}
					ds.Images[((i*S+y)*S+x)*3+ch] = uint8(v)
				}
			}
		}
	}
	return ds
}
