// STL-10 (binary version) and Imagenette (an image folder in the ImageNet
// layout), the public examples of pre-training on images larger than CIFAR's.
package data

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// STL-10: 96x96 RGB images, 5,000 labeled training images, 8,000 test
// images and 100,000 unlabeled ones for pre-training. Each file is a
// sequence of images stored as three 96x96 planes (R, G, B), each plane
// column-major; the label files hold one byte per image, classes 1 to 10.
const (
	stl10Subdir = "stl10_binary"
	stl10Side   = 96
	stl10Pixels = stl10Side * stl10Side * 3
)

// stl10Files lists the image file and label file ("" when unlabeled) of each split.
var stl10Files = map[string][]string{
	"train":     {"train_X.bin", "train_y.bin"},
	"test":      {"test_X.bin", "test_y.bin"},
	"unlabeled": {"unlabeled_X.bin", ""},
}

var stl10Classes = []string{"airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"}

// imagenetteSubdir is the folder the 160-px Imagenette archive extracts to.
const imagenetteSubdir = "imagenette2-160"

// PretrainSplit returns the split that pre-training reads: STL-10's
// labeled training images together with its 100,000 unlabeled ones
// ("train+unlabeled", read without labels), "train" for every other dataset.
func PretrainSplit(name string) string {
	if name == STL10 {
		return "train+unlabeled"
	}
	return "train"
}

// Open reads one split of any dataset: the built-in in-memory ones as Load
// does, and image folders, Imagenette and STL-10 through the decoded cache
// with opts. For STL-10 the splits are train, test, unlabeled and
// train+unlabeled.
func Open(name, dataDir, split string, opts FolderOptions) (*Dataset, error) {
	switch name {
	case STL10:
		return openSTL10(dataDir, split, opts)
	case Imagenette:
		dir, err := imagenetteDir(dataDir)
		if err != nil {
			return nil, err
		}
		d, err := OpenFolder(dir, split, opts)
		if d != nil {
			d.Name = Imagenette
		}
		return d, err
	}
	if !IsBuiltin(name) {
		return OpenFolder(name, split, opts)
	}
	return Load(name, dataDir, split)
}

// imagenetteDir returns the folder holding Imagenette's train/ and val/.
func imagenetteDir(dataDir string) (string, error) {
	if dataDir == "" {
		d, err := DefaultDir(Imagenette)
		if err != nil {
			return "", err
		}
		dataDir = d
	}
	for _, d := range []string{filepath.Join(dataDir, imagenetteSubdir), dataDir} {
		if st, err := os.Stat(filepath.Join(d, "train")); err == nil && st.IsDir() {
			return d, nil
		}
	}
	return "", fmt.Errorf("data: imagenette: no %s/train in %s (run 'vkclr data fetch imagenette' or place the files by hand):\n%s%w",
		imagenetteSubdir, dataDir, Layout(Imagenette, dataDir), ErrNotFound)
}

// stl10Dir returns the folder holding STL-10's .bin files.
func stl10Dir(dataDir string) (string, error) {
	if dataDir == "" {
		d, err := DefaultDir(STL10)
		if err != nil {
			return "", err
		}
		dataDir = d
	}
	for _, d := range []string{dataDir, filepath.Join(dataDir, stl10Subdir)} {
		if _, err := os.Stat(filepath.Join(d, stl10Files["test"][0])); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("data: stl10: no %s in %s or %s (run 'vkclr data fetch stl10' or place the files by hand):\n%s%w",
		stl10Files["test"][0], dataDir, filepath.Join(dataDir, stl10Subdir), Layout(STL10, dataDir), ErrNotFound)
}

// openSTL10 reads split through a cache of the images in display order
// (row-major, channels interleaved), decoded once like an image folder's.
func openSTL10(dataDir, split string, opts FolderOptions) (*Dataset, error) {
	var parts []string
	switch split {
	case "train", "test", "unlabeled":
		parts = []string{split}
	case "train+unlabeled":
		parts = []string{"train", "unlabeled"}
	default:
		return nil, fmt.Errorf("data: stl10: split %q: want train, test, unlabeled or train+unlabeled", split)
	}
	dir, err := stl10Dir(dataDir)
	if err != nil {
		return nil, err
	}
	labeled := len(parts) == 1 && stl10Files[split][1] != ""
	type file struct {
		f     *os.File
		first int // index of its first image among the sources
	}
	var files []file
	defer func() {
		for _, f := range files {
			f.f.Close()
		}
	}()
	var names []string
	var labels []int32
	h := sha256.New()
	fmt.Fprintf(h, "vkclr stl10 cache %d %s\x00", cacheVersion, split)
	for _, p := range parts {
		fn := filepath.Join(dir, stl10Files[p][0])
		f, err := os.Open(fn)
		if err != nil {
			return nil, fmt.Errorf("data: stl10: %w", err)
		}
		files = append(files, file{f, len(names)})
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if st.Size() == 0 || st.Size()%stl10Pixels != 0 {
			return nil, fmt.Errorf("data: stl10: %s: %d bytes is not a whole number of %d-byte images (a truncated download? fetch it again)",
				fn, st.Size(), stl10Pixels)
		}
		n := int(st.Size() / stl10Pixels)
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], uint64(st.Size()))
		binary.LittleEndian.PutUint64(b[8:], uint64(st.ModTime().UnixNano()))
		h.Write([]byte(fn))
		h.Write(b[:])
		for i := range n {
			names = append(names, fmt.Sprintf("%s#%d", stl10Files[p][0], i))
		}
		if labeled {
			lf := filepath.Join(dir, stl10Files[p][1])
			lb, err := os.ReadFile(lf)
			if err != nil {
				return nil, fmt.Errorf("data: stl10: %w", err)
			}
			if len(lb) != n {
				return nil, fmt.Errorf("data: stl10: %s has %d labels for the %d images of %s", lf, len(lb), n, fn)
			}
			for i, v := range lb {
				if v < 1 || v > 10 {
					return nil, fmt.Errorf("data: stl10: %s: label %d at byte %d, want 1 to 10", lf, v, i)
				}
				labels = append(labels, int32(v-1))
			}
			h.Write(lb)
		}
	}
	var classes []string
	if labeled {
		classes = stl10Classes
	}
	cdir, err := opts.cacheDir()
	if err != nil {
		return nil, err
	}
	where := sha256.Sum256([]byte(dir))
	spec := cacheSpec{
		path: filepath.Join(cdir, fmt.Sprintf("stl10-%s-%s.vkimg", strings.ReplaceAll(split, "+", "-"), hex.EncodeToString(where[:6]))),
		key:  hex.EncodeToString(h.Sum(nil)), name: STL10, root: dir, side: stl10Side,
		names: names, labels: labels, classes: classes,
		decode: func(i int) ([]uint8, int, int, error) {
			k := len(files) - 1
			for files[k].first > i {
				k--
			}
			var raw [stl10Pixels]byte
			if _, err := files[k].f.ReadAt(raw[:], int64(i-files[k].first)*stl10Pixels); err != nil {
				return nil, 0, 0, err
			}
			return stl10Image(raw[:]), stl10Side, stl10Side, nil
		},
		strict: true, workers: opts.Workers, log: opts.Log, ctx: opts.Ctx,
	}
	d, _, err := openCache(spec)
	return d, err
}

// stl10Image converts one stored image (three column-major planes) to
// (96, 96, 3) row-major RGB.
func stl10Image(raw []byte) []uint8 {
	const S = stl10Side
	out := make([]uint8, stl10Pixels)
	for c := range 3 {
		plane := raw[c*S*S : (c+1)*S*S]
		for x := range S {
			for y := range S {
				out[(y*S+x)*3+c] = plane[x*S+y]
			}
		}
	}
	return out
}
