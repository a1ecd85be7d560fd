// Package data loads image datasets into one flat uint8 array per split.
//
// Supported: CIFAR-10 and CIFAR-100 (official binary versions), Fashion-MNIST
// and MNIST (idx files, gzip or raw) and image folders (root/CLASS/*.png|jpg).
// Every loader either returns the whole split or an error naming the file (and
// the byte offset where it applies); it never returns a partial dataset.
//
// Dimension letters used throughout: N images, H, W spatial, C channels.
package data

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// Dataset is one split of an image dataset held in memory.
type Dataset struct {
	Name       string
	N, H, W, C int
	Images     []uint8   // (N, H, W, C), channels interleaved per pixel
	Labels     []int32   // (N), nil if unlabeled
	Classes    []string  // class names; Labels index into it
	Mean, Std  []float32 // (C), per channel in [0,1] units, for normalization

	// Sources lists the files the split was read from, for `vkclr data info`.
	// For an image folder it holds the folder alone.
	Sources []string
}

// Names of the built-in datasets accepted by Load.
const (
	CIFAR10      = "cifar10"
	CIFAR100     = "cifar100"
	FashionMNIST = "fashion-mnist"
	MNIST        = "mnist"
)

// Builtin lists the dataset names Load knows, in display order.
var Builtin = []string{CIFAR10, CIFAR100, FashionMNIST, MNIST}

// Known per-channel statistics of the training splits (the values every
// SimCLR and torchvision recipe uses), so runs are comparable with theirs.
var knownStats = map[string][2][]float32{
	CIFAR10:      {{0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}},
	CIFAR100:     {{0.5071, 0.4865, 0.4409}, {0.2673, 0.2564, 0.2762}},
	FashionMNIST: {{0.2860}, {0.3530}},
	MNIST:        {{0.1307}, {0.3081}},
}

// DebianFashionMNIST is where Debian's dataset-fashion-mnist package installs the files.
const DebianFashionMNIST = "/usr/share/datasets/fashion-mnist"

// ErrNotFound reports that a dataset's files are not where they were looked for;
// the wrapping error names the paths and how to get the files.
var ErrNotFound = errors.New("dataset not found")

// DefaultDir returns the folder Load and Fetch use for a built-in dataset when
// no data directory is given: os.UserCacheDir()/vkclr/data/NAME, except for
// Fashion-MNIST, which is read from Debian's package location when it exists.
func DefaultDir(name string) (string, error) {
	if name == FashionMNIST {
		if st, err := os.Stat(DebianFashionMNIST); err == nil && st.IsDir() {
			return DebianFashionMNIST, nil
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("data: no data directory given and no user cache directory: %w", err)
	}
	return filepath.Join(cache, "vkclr", "data", name), nil
}

// IsBuiltin reports whether name is one of the built-in datasets.
func IsBuiltin(name string) bool {
	for _, b := range Builtin {
		if b == name {
			return true
		}
	}
	return false
}

// Load reads one split ("train" or "test") of a dataset. name is a built-in
// name (cifar10, cifar100, fashion-mnist, mnist) or the path of an image
// folder, which is loaded with LoadFolder at DefaultFolderSize (from
// PATH/SPLIT when that folder exists). dataDir "" means DefaultDir(name).
func Load(name, dataDir, split string) (*Dataset, error) {
	if split != "train" && split != "test" {
		return nil, fmt.Errorf("data: split %q: want train or test", split)
	}
	if !IsBuiltin(name) {
		return LoadFolderSplit(name, split, DefaultFolderSize)
	}
	if dataDir == "" {
		d, err := DefaultDir(name)
		if err != nil {
			return nil, err
		}
		dataDir = d
	}
	var d *Dataset
	var err error
	switch name {
	case CIFAR10, CIFAR100:
		d, err = loadCIFAR(name, dataDir, split)
	case FashionMNIST, MNIST:
		d, err = loadIDX(name, dataDir, split)
	}
	if err != nil {
		return nil, err
	}
	st := knownStats[name]
	d.Mean, d.Std = append([]float32(nil), st[0]...), append([]float32(nil), st[1]...)
	return d, d.Check()
}

// Check verifies that the slices agree with N, H, W, C; loaders call it before
// returning, and code that builds a Dataset by hand (tests, synthetic data) can too.
func (d *Dataset) Check() error {
	switch {
	case d.N < 0 || d.H <= 0 || d.W <= 0 || d.C <= 0:
		return fmt.Errorf("data: %s: bad shape (%d, %d, %d, %d)", d.Name, d.N, d.H, d.W, d.C)
	case len(d.Images) != d.N*d.H*d.W*d.C:
		return fmt.Errorf("data: %s: %d image bytes, want %d", d.Name, len(d.Images), d.N*d.H*d.W*d.C)
	case d.Labels != nil && len(d.Labels) != d.N:
		return fmt.Errorf("data: %s: %d labels for %d images", d.Name, len(d.Labels), d.N)
	case len(d.Mean) != d.C || len(d.Std) != d.C:
		return fmt.Errorf("data: %s: mean/std have %d/%d channels, want %d", d.Name, len(d.Mean), len(d.Std), d.C)
	}
	for i, l := range d.Labels {
		if l < 0 || int(l) >= len(d.Classes) {
			return fmt.Errorf("data: %s: image %d has label %d, outside the %d classes", d.Name, i, l, len(d.Classes))
		}
	}
	for c, s := range d.Std {
		if !(s > 0) {
			return fmt.Errorf("data: %s: std of channel %d is %v", d.Name, c, s)
		}
	}
	return nil
}

// Subset returns the first n images (all when n is out of range), sharing memory with d.
// Use it for quick runs and tests.
func (d *Dataset) Subset(n int) *Dataset {
	if n < 0 || n > d.N {
		n = d.N
	}
	s := *d
	s.N = n
	s.Images = d.Images[: n*d.H*d.W*d.C : n*d.H*d.W*d.C]
	if d.Labels != nil {
		s.Labels = d.Labels[:n:n]
	}
	return &s
}

// Image returns image i as (H, W, C) bytes, sharing memory with d.
func (d *Dataset) Image(i int) []uint8 {
	n := d.H * d.W * d.C
	return d.Images[i*n : (i+1)*n : (i+1)*n]
}

// ClassCounts returns the number of images per class (nil if unlabeled).
func (d *Dataset) ClassCounts() []int {
	if d.Labels == nil {
		return nil
	}
	counts := make([]int, len(d.Classes))
	for _, l := range d.Labels {
		counts[l]++
	}
	return counts
}

// Digest returns the hex SHA-256 of the decoded content (shape, images and
// labels), which identifies a split independently of the file format.
func (d *Dataset) Digest() string {
	h := sha256.New()
	var hdr [16]byte
	for i, v := range []int{d.N, d.H, d.W, d.C} {
		binary.LittleEndian.PutUint32(hdr[4*i:], uint32(v))
	}
	h.Write(hdr[:])
	h.Write(d.Images)
	var b [4]byte
	for _, l := range d.Labels {
		binary.LittleEndian.PutUint32(b[:], uint32(l))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// channelStats computes per-channel mean and std in [0,1] units over all pixels;
// image folders use it since they have no published statistics.
func channelStats(images []uint8, c int) (mean, std []float32) {
	sum := make([]float64, c)
	sq := make([]float64, c)
	for i, v := range images {
		f := float64(v)
		sum[i%c] += f
		sq[i%c] += f * f
	}
	n := float64(len(images) / c)
	mean, std = make([]float32, c), make([]float32, c)
	for k := range c {
		if n == 0 {
			mean[k], std[k] = 0, 1
			continue
		}
		m := sum[k] / n
		v := sq[k]/n - m*m
		s := 0.0
		if v > 0 {
			s = math.Sqrt(v)
		}
		if s < 1e-3 { // constant channel: avoid dividing by zero in normalization
			s = 1e-3 * 255
		}
		mean[k], std[k] = float32(m/255), float32(s/255)
	}
	return mean, std
}
