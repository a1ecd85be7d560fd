// Package data loads image datasets into one flat uint8 array per split.
//
// Supported: CIFAR-10 and CIFAR-100 (official binary versions), Fashion-MNIST
// and MNIST (idx files, gzip or raw), STL-10 (binary version) and image
// folders of any size (ImageNet layout, class folders or a flat folder of
// JPEG, PNG and WebP files). Fixed-size datasets are read into memory; an
// image folder is decoded once into a cache file (cache.go) that later runs
// memory-map, its images keeping their aspect ratio (Dataset.Dims).
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
	"os"
	"path/filepath"
)

// Dataset is one split of an image dataset held in memory.
type Dataset struct {
	Name       string
	N, H, W, C int
	Images     []uint8   // (N, H, W, C), channels interleaved per pixel (see Dims)
	Labels     []int32   // (N), nil if unlabeled
	Classes    []string  // class names; Labels index into it
	Mean, Std  []float32 // (C), per channel in [0,1] units, for normalization

	// Sources lists the files the split was read from, for `vkclr data info`.
	// For an image folder it holds the folder alone.
	Sources []string

	// Dims, when not nil, makes the images variable-size (an image folder
	// read through its decoded cache): image i is Dims[i].H x Dims[i].W x C
	// bytes at Images[Dims[i].Off:], and H = W is the side the cache was
	// built at (every image's shorter side, or less for smaller originals).
	Dims []Dim
	// Key identifies the content of a cache-backed split, so Digest need
	// not hash every byte of a file that may be larger than memory.
	Key string
}

// Dim places one image of a variable-size dataset.
type Dim struct {
	Off  int64
	H, W int32
}

// ImageSize returns the height and width of image i.
func (d *Dataset) ImageSize(i int) (h, w int) {
	if d.Dims != nil {
		return int(d.Dims[i].H), int(d.Dims[i].W)
	}
	return d.H, d.W
}

// Names of the built-in datasets accepted by Load.
const (
	CIFAR10      = "cifar10"
	CIFAR100     = "cifar100"
	FashionMNIST = "fashion-mnist"
	MNIST        = "mnist"
	STL10        = "stl10"      // binary version; read through the decoded cache
	Imagenette   = "imagenette" // the 160-px version, an image folder in the ImageNet layout
)

// Builtin lists the dataset names Load knows, in display order.
var Builtin = []string{CIFAR10, CIFAR100, FashionMNIST, MNIST, STL10, Imagenette}

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
// name or the path of an image folder; folders, STL-10 and Imagenette are
// read through the decoded cache with Open's default options (stored for
// training at DefaultFolderSize; call Open for others). dataDir "" means
// DefaultDir(name).
func Load(name, dataDir, split string) (*Dataset, error) {
	if split != "train" && split != "test" {
		return nil, fmt.Errorf("data: split %q: want train or test", split)
	}
	if !IsBuiltin(name) || name == STL10 || name == Imagenette {
		return Open(name, dataDir, split, FolderOptions{})
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
	case d.Dims != nil && len(d.Dims) != d.N:
		return fmt.Errorf("data: %s: %d image sizes for %d images", d.Name, len(d.Dims), d.N)
	case d.Dims == nil && len(d.Images) != d.N*d.H*d.W*d.C:
		return fmt.Errorf("data: %s: %d image bytes, want %d", d.Name, len(d.Images), d.N*d.H*d.W*d.C)
	case d.Labels != nil && len(d.Labels) != d.N:
		return fmt.Errorf("data: %s: %d labels for %d images", d.Name, len(d.Labels), d.N)
	case len(d.Mean) != d.C || len(d.Std) != d.C:
		return fmt.Errorf("data: %s: mean/std have %d/%d channels, want %d", d.Name, len(d.Mean), len(d.Std), d.C)
	}
	for i, m := range d.Dims {
		if m.H <= 0 || m.W <= 0 || m.Off < 0 || m.Off+int64(m.H)*int64(m.W)*int64(d.C) > int64(len(d.Images)) {
			return fmt.Errorf("data: %s: image %d of %dx%d at byte %d lies outside the %d image bytes", d.Name, i, m.H, m.W, m.Off, len(d.Images))
		}
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
	if d.Dims != nil {
		s.Dims = d.Dims[:n:n]
	} else {
		s.Images = d.Images[: n*d.H*d.W*d.C : n*d.H*d.W*d.C]
	}
	if d.Labels != nil {
		s.Labels = d.Labels[:n:n]
	}
	return &s
}

// Image returns image i as (h, w, C) bytes (h, w from ImageSize), sharing memory with d.
func (d *Dataset) Image(i int) []uint8 {
	if d.Dims != nil {
		m := d.Dims[i]
		end := m.Off + int64(m.H)*int64(m.W)*int64(d.C)
		return d.Images[m.Off:end:end]
	}
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
// labels), which identifies a split independently of the file format. For a
// cache-backed split it hashes the cache's key (which covers the folder's
// listing, sizes and modification times and the stored side) instead of the pixels.
func (d *Dataset) Digest() string {
	h := sha256.New()
	var hdr [16]byte
	for i, v := range []int{d.N, d.H, d.W, d.C} {
		binary.LittleEndian.PutUint32(hdr[4*i:], uint32(v))
	}
	h.Write(hdr[:])
	if d.Key != "" {
		h.Write([]byte(d.Key))
	} else {
		h.Write(d.Images)
	}
	var b [4]byte
	for _, l := range d.Labels {
		binary.LittleEndian.PutUint32(b[:], uint32(l))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}
