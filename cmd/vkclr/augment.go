// The `vkclr augment` command (a PNG of view pairs) and `vkclr bench augment`.
package main

import (
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/vkclr/vkclr/train/augment"
	"github.com/vkclr/vkclr/train/data"
)

func init() {
	register("augment", "write a PNG of images and their two augmented views", cmdAugment)
	registerBench("augment", "augmentation throughput (images/s, two views each)", benchAugment)
}

func cmdAugment(args []string) error {
	fs := newFlags("augment", "augment --data NAME|PATH [--n 16] [--out pairs.png]")
	name := fs.String("data", data.CIFAR10, "dataset: "+strings.Join(data.Builtin, ", ")+", or an image folder")
	dir := fs.String("data-dir", "", "folder holding the dataset's files (default: where 'data fetch' puts them)")
	split := fs.String("split", "train", "train or test")
	cacheDir := fs.String("cache-dir", "", "where decoded image-folder caches go (default: the user cache, vkclr/images)")
	preset := fs.String("augment", "simclr-cifar", "augmentation preset (simclr-cifar, simclr-imagenet, none, s=X, with ,key=value overrides)")
	n := fs.Int("n", 16, "number of images")
	first := fs.Int("first", 0, "index of the first image")
	seed := fs.Uint64("seed", 0, "random seed")
	epoch := fs.Int("epoch", 0, "epoch whose views to show")
	size := fs.Int("size", 0, "view side (default: a built-in dataset's own, else the preset's)")
	zoom := fs.Int("zoom", 0, "pixel magnification (default: tiles about 96 pixels wide)")
	out := fs.StringP("out", "o", "pairs.png", "output PNG")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := augment.Preset(*preset)
	if err != nil {
		return usagef("--augment: %v", err)
	}
	if *size > 0 {
		cfg.Size = *size
	}
	d, err := loadData(*name, *dir, *split, cfg.Size, *cacheDir)
	if err != nil {
		return err
	}
	if *size <= 0 && d.Dims == nil && data.IsBuiltin(*name) {
		cfg.Size = d.H
	}
	if *n <= 0 || *first < 0 || *first+*n > d.N {
		return usagef("--first %d --n %d: want 0 <= first, n > 0, first+n <= %d images", *first, *n, d.N)
	}
	z := *zoom
	if z <= 0 {
		z = max(1, 96/cfg.Size)
	}
	img := augment.PairsGrid(d, cfg, *first, *n, 0, *seed, *epoch, z)
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("augment: %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d images of %s (%s) with their two views, %s\n", *out, *n, d.Name, *split, cfg)
	return nil
}

func benchAugment(args []string) error {
	fs := newFlags("bench augment", "bench augment [--data NAME|PATH] [--image-size S] [--batch 256] [--workers N]")
	name := fs.String("data", "", "dataset (default: 10000 synthetic 32x32 RGB images, a worst case for branch prediction)")
	dir := fs.String("data-dir", "", "folder holding the dataset's files")
	cacheDir := fs.String("cache-dir", "", "where decoded image-folder caches go (default: the user cache, vkclr/images)")
	preset := fs.String("augment", "simclr-cifar", "augmentation preset")
	size := fs.Int("image-size", 0, "view side (default: the preset's); an image folder's cache is built for it")
	batch := fs.Int("batch", 256, "images per batch (each gives two views)")
	workers := fs.Int("workers", 0, "worker goroutines (default: GOMAXPROCS)")
	outC := fs.Int("outc", 4, "output channels (the trainer pads RGB to 4)")
	seconds := fs.Float64("seconds", 5, "how long to measure")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := augment.Preset(*preset)
	if err != nil {
		return usagef("--augment: %v", err)
	}
	if *size > 0 {
		cfg.Size = *size
	}
	var d *data.Dataset
	if *name == "" {
		d = syntheticData(10000, cfg.Size, 3)
	} else if d, err = loadData(*name, *dir, "train", cfg.Size, *cacheDir); err != nil {
		return err
	}
	oc := max(*outC, d.C)
	l, err := augment.NewLoader(d, cfg, augment.LoaderOptions{Batch: *batch, OutC: oc, Workers: *workers, DropLast: true})
	if err != nil {
		return err
	}
	defer l.Close()
	dst := make([]float32, l.BatchLen(*batch))
	epoch := 0
	l.Epoch(epoch)
	next := func() error {
		_, err := l.Next(dst)
		if err == io.EOF {
			epoch++
			l.Epoch(epoch)
			_, err = l.Next(dst)
		}
		return err
	}
	if err := next(); err != nil { // warm up: buffers, page faults
		return err
	}
	start := time.Now()
	steps := 0
	for time.Since(start).Seconds() < *seconds {
		if err := next(); err != nil {
			return err
		}
		steps++
	}
	el := time.Since(start).Seconds()
	imgs := float64(steps * *batch)
	if *asJSON {
		b, _ := json.Marshal(map[string]any{"images_per_s": imgs / el, "images": imgs, "seconds": el, "batch": *batch,
			"workers": effectiveWorkers(*workers), "size": cfg.Size, "augment": cfg.String(), "dataset": d.Name})
		fmt.Println(string(b))
		return nil
	}
	fmt.Printf("augment %s: %d-image batches of 2 views at %dx%dx%d (%s), %d workers\n",
		d.Name, *batch, cfg.Size, cfg.Size, oc, *preset, effectiveWorkers(*workers))
	fmt.Printf("  %.0f images/s (%.0f views/s), %.2f ms per batch, %d batches in %.1f s\n",
		imgs/el, 2*imgs/el, 1e3*el/float64(steps), steps, el)
	return nil
}

func effectiveWorkers(w int) int {
	if w > 0 {
		return w
	}
	return runtime.GOMAXPROCS(0)
}

// syntheticData returns n random images, for benchmarks without a dataset.
func syntheticData(n, side, c int) *data.Dataset {
	d := &data.Dataset{Name: "synthetic", N: n, H: side, W: side, C: c,
		Images: make([]uint8, n*side*side*c), Mean: make([]float32, c), Std: make([]float32, c)}
	x := uint64(88172645463325252)
	for i := range d.Images {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		d.Images[i] = uint8(x)
	}
	for k := range c {
		d.Mean[k], d.Std[k] = 0.5, 0.25
	}
	return d
}
