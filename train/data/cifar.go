// CIFAR-10 and CIFAR-100 binary versions: fixed-size records of label bytes
// followed by three 32x32 planes (R, G, B), row-major.
package data

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// cifarFormat describes one of the two CIFAR binary layouts.
type cifarFormat struct {
	name       string
	subdir     string   // folder inside the official archive
	train      []string // training files, in order
	test       []string
	meta       string // class names, one a line
	labelBytes int    // label bytes per record
	labelIdx   int    // which label byte is the class (CIFAR-100: 1 = fine)
	numLabels  []int  // number of classes for each label byte, for validation
	classes    []string
}

const cifarSide, cifarPixels = 32, 32 * 32 * 3

var cifarFormats = map[string]*cifarFormat{
	CIFAR10: {
		name:   CIFAR10,
		subdir: "cifar-10-batches-bin",
		train: []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
			"data_batch_4.bin", "data_batch_5.bin"},
		test:       []string{"test_batch.bin"},
		meta:       "batches.meta.txt",
		labelBytes: 1, labelIdx: 0, numLabels: []int{10},
		classes: []string{"airplane", "automobile", "bird", "cat", "deer",
			"dog", "frog", "horse", "ship", "truck"},
	},
	CIFAR100: {
		name:       CIFAR100,
		subdir:     "cifar-100-binary",
		train:      []string{"train.bin"},
		test:       []string{"test.bin"},
		meta:       "fine_label_names.txt",
		labelBytes: 2, labelIdx: 1, numLabels: []int{20, 100},
	},
}

// recordSize is the byte length of one record.
func (f *cifarFormat) recordSize() int { return f.labelBytes + cifarPixels }

// CIFARRecordSize returns the record length of a CIFAR binary file
// (3073 for cifar10, 3074 for cifar100), or 0 for other names.
func CIFARRecordSize(name string) int {
	if f, ok := cifarFormats[name]; ok {
		return f.recordSize()
	}
	return 0
}

// ParseCIFAR decodes the records of one CIFAR binary file (name is cifar10 or
// cifar100; file is used in errors). It returns images as (N, 32, 32, 3) and
// the class labels (the fine label for CIFAR-100). A size that is not a whole
// number of records or a label out of range is an error naming file and offset.
func ParseCIFAR(name, file string, buf []byte) (images []uint8, labels []int32, err error) {
	f, ok := cifarFormats[name]
	if !ok {
		return nil, nil, fmt.Errorf("data: %s: unknown CIFAR variant %q", file, name)
	}
	n, err := f.records(file, int64(len(buf)))
	if err != nil {
		return nil, nil, err
	}
	images, labels = make([]uint8, n*cifarPixels), make([]int32, n)
	if err := f.decode(file, buf, images, labels); err != nil {
		return nil, nil, err
	}
	return images, labels, nil
}

// records returns the number of records in a file of size bytes, or an
// error when size is not a positive whole number of records.
func (f *cifarFormat) records(file string, size int64) (int, error) {
	rs := int64(f.recordSize())
	if size == 0 {
		return 0, fmt.Errorf("data: %s: empty file, want %d-byte records", file, rs)
	}
	if rem := size % rs; rem != 0 {
		n := size / rs
		return 0, fmt.Errorf("data: %s: %d bytes is not a whole number of %d-byte %s records: "+
			"record %d at offset %d has only %d bytes (truncated file or wrong dataset?)",
			file, size, rs, f.name, n, n*rs, rem)
	}
	return int(size / rs), nil
}

// decode converts whole records into images (N, 32, 32, 3) and labels (N).
func (f *cifarFormat) decode(file string, buf []byte, images []uint8, labels []int32) error {
	rs := f.recordSize()
	const plane = cifarSide * cifarSide
	for i := range labels {
		rec := buf[i*rs : (i+1)*rs]
		for k, max := range f.numLabels {
			if int(rec[k]) >= max {
				return fmt.Errorf("data: %s: record %d at offset %d: label byte %d is %d, want < %d (corrupt file or wrong dataset?)",
					file, i, i*rs, k, rec[k], max)
			}
		}
		labels[i] = int32(rec[f.labelIdx])
		// Planar RGB -> interleaved HWC.
		r, g, b := rec[f.labelBytes:f.labelBytes+plane], rec[f.labelBytes+plane:f.labelBytes+2*plane], rec[f.labelBytes+2*plane:]
		dst := images[i*cifarPixels : (i+1)*cifarPixels]
		for p := range plane {
			dst[3*p], dst[3*p+1], dst[3*p+2] = r[p], g[p], b[p]
		}
	}
	return nil
}

// cifarDir finds the folder holding the .bin files: dir itself or dir/SUBDIR.
func cifarDir(f *cifarFormat, dir string) (string, error) {
	for _, d := range []string{dir, filepath.Join(dir, f.subdir)} {
		if _, err := os.Stat(filepath.Join(d, f.test[0])); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("data: %s: no %s in %s or %s (run 'vkclr data fetch %s' or place the files by hand):\n%s%w",
		f.name, f.test[0], dir, filepath.Join(dir, f.subdir), f.name, Layout(f.name, dir), ErrNotFound)
}

// loadCIFAR reads one split; see Load. It sizes the arrays from the file
// sizes first, so the whole split is allocated once.
func loadCIFAR(name, dir, split string) (*Dataset, error) {
	f := cifarFormats[name]
	dir, err := cifarDir(f, dir)
	if err != nil {
		return nil, err
	}
	files := f.train
	if split == "test" {
		files = f.test
	}
	d := &Dataset{Name: name, H: cifarSide, W: cifarSide, C: 3}
	counts := make([]int, len(files))
	for i, fn := range files {
		path := filepath.Join(dir, fn)
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("data: %s: %w", name, err)
		}
		if counts[i], err = f.records(path, st.Size()); err != nil {
			return nil, err
		}
		d.N += counts[i]
		d.Sources = append(d.Sources, path)
	}
	d.Images, d.Labels = make([]uint8, d.N*cifarPixels), make([]int32, d.N)
	var buf []byte
	at := 0
	for i, path := range d.Sources {
		n := counts[i]
		buf, err = readExactly(path, buf, n*f.recordSize())
		if err != nil {
			return nil, fmt.Errorf("data: %s: %w", name, err)
		}
		if err := f.decode(path, buf, d.Images[at*cifarPixels:(at+n)*cifarPixels], d.Labels[at:at+n]); err != nil {
			return nil, err
		}
		at += n
	}
	d.Classes, err = readClassNames(filepath.Join(dir, f.meta), f.numLabels[f.labelIdx], f.classes)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// readExactly reads a file of size bytes into buf (reused when large
// enough); a file that changed size since it was measured is an error.
func readExactly(path string, buf []byte, size int) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return buf, err
	}
	defer fh.Close()
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if n, err := io.ReadFull(fh, buf); err != nil {
		return buf, fmt.Errorf("%s: read %d of %d bytes: %w", path, n, size, err)
	}
	if n, _ := fh.Read(make([]byte, 1)); n != 0 {
		return buf, fmt.Errorf("%s: grew while being read", path)
	}
	return buf, nil
}

// readClassNames reads one name a line, ignoring blank lines. A missing file
// falls back to the built-in names (or class_K); a file with the wrong number
// of names is an error, since it means a different dataset.
func readClassNames(path string, n int, builtin []string) ([]string, error) {
	buf, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if builtin != nil {
			return append([]string(nil), builtin...), nil
		}
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("class_%d", i)
		}
		return names, nil
	}
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	var names []string
	for _, l := range strings.Split(string(buf), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			names = append(names, l)
		}
	}
	if len(names) != n {
		return nil, fmt.Errorf("data: %s: %d class names, want %d", path, len(names), n)
	}
	return names, nil
}
