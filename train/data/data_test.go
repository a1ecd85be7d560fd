// Tests of the CIFAR, idx and image-folder loaders on tiny generated files.
package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCIFAR(t *testing.T) {
	good10 := cifarRecords(CIFAR10, 3)
	badLabel := cifarRecords(CIFAR10, 3)
	badLabel[2*3073] = 10
	badCoarse := cifarRecords(CIFAR100, 2)
	badCoarse[3074] = 20
	cases := []struct {
		name    string
		variant string
		buf     []byte
		n       int    // records on success
		errHas  string // substring of the error; "" means success
	}{
		{"cifar10", CIFAR10, good10, 3, ""},
		{"cifar100", CIFAR100, cifarRecords(CIFAR100, 4), 4, ""},
		{"empty", CIFAR10, nil, 0, "empty file"},
		{"truncated", CIFAR10, good10[:2*3073+100], 0, "record 2 at offset 6146 has only 100 bytes"},
		{"wrong record size", CIFAR100, good10, 0, "not a whole number of 3074-byte"},
		{"label out of range", CIFAR10, badLabel, 0, "record 2 at offset 6146: label byte 0 is 10"},
		{"coarse out of range", CIFAR100, badCoarse, 0, "record 1 at offset 3074: label byte 0 is 20"},
		{"unknown variant", "cifar5", good10, 0, "unknown CIFAR variant"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			im, lb, err := ParseCIFAR(c.variant, "x.bin", c.buf)
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) || !strings.Contains(err.Error(), "x.bin") {
					t.Fatalf("error %v, want one naming x.bin and containing %q", err, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(lb) != c.n || len(im) != c.n*cifarPixels {
				t.Fatalf("got %d labels, %d bytes; want %d records", len(lb), len(im), c.n)
			}
			f := cifarFormats[c.variant]
			for i := range c.n {
				rec := c.buf[i*f.recordSize():]
				if lb[i] != int32(rec[f.labelIdx]) {
					t.Errorf("label %d = %d, want %d", i, lb[i], rec[f.labelIdx])
				}
				// Pixel (y=1, x=2) channel G: plane offset 1024 + 1*32 + 2.
				got, want := im[i*cifarPixels+(1*32+2)*3+1], rec[f.labelBytes+1024+34]
				if got != want {
					t.Errorf("record %d G(1,2) = %d, want %d", i, got, want)
				}
			}
		})
	}
}

func TestLoadCIFAR(t *testing.T) {
	for _, name := range []string{CIFAR10, CIFAR100} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			sub := writeCIFAR(t, root, name, 5)
			f := cifarFormats[name]
			for _, dir := range []string{root, sub} { // parent and the folder itself
				d, err := Load(name, dir, "train")
				if err != nil {
					t.Fatal(err)
				}
				if d.N != 5*len(f.train) || d.H != 32 || d.W != 32 || d.C != 3 || len(d.Classes) != f.numLabels[f.labelIdx] {
					t.Fatalf("train: N=%d %dx%dx%d, %d classes", d.N, d.H, d.W, d.C, len(d.Classes))
				}
				if d.Mean[0] != knownStats[name][0][0] || len(d.Sources) != len(f.train) {
					t.Fatalf("mean %v, sources %v", d.Mean, d.Sources)
				}
				te, err := Load(name, dir, "test")
				if err != nil || te.N != 5 {
					t.Fatalf("test split: %v, %v", te, err)
				}
			}
		})
	}
	t.Run("class names", func(t *testing.T) {
		root := t.TempDir()
		writeCIFAR(t, root, CIFAR10, 1)
		d, err := Load(CIFAR10, root, "test")
		if err != nil {
			t.Fatal(err)
		}
		if d.Classes[0] != "airplane" || d.Classes[9] != "truck" {
			t.Fatalf("classes %v", d.Classes)
		}
	})
}

func TestLoadCIFARErrors(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(t *testing.T, sub string)
		errHas string
	}{
		{"missing folder", func(t *testing.T, sub string) { os.RemoveAll(sub) }, "Expected layout"},
		{"missing batch", func(t *testing.T, sub string) { os.Remove(filepath.Join(sub, "data_batch_4.bin")) }, "data_batch_4.bin"},
		{"truncated batch", func(t *testing.T, sub string) {
			p := filepath.Join(sub, "data_batch_3.bin")
			os.Truncate(p, 3073*2-1)
		}, "data_batch_3.bin: 6145 bytes"},
		{"cifar100 files", func(t *testing.T, sub string) {
			// A CIFAR-100 record (3074 bytes) in a CIFAR-10 file: a wrong record size.
			writeFile(t, filepath.Join(sub, "data_batch_2.bin"), cifarRecords(CIFAR100, 3))
		}, "data_batch_2.bin"},
		{"bad meta", func(t *testing.T, sub string) {
			writeFile(t, filepath.Join(sub, "batches.meta.txt"), []byte("a\nb\n"))
		}, "2 class names, want 10"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			sub := writeCIFAR(t, root, CIFAR10, 3)
			c.mutate(t, sub)
			d, err := Load(CIFAR10, root, "train")
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Fatalf("Load = %v, %v; want error containing %q", d, err, c.errHas)
			}
		})
	}
	if _, err := Load(CIFAR10, t.TempDir(), "test"); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty dir: %v, want ErrNotFound", err)
	}
	if _, err := Load(CIFAR10, t.TempDir(), "val"); err == nil {
		t.Error("split val accepted")
	}
	if _, err := Load("no-such-dataset", "", "train"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown name: %v, want ErrNotFound", err)
	}
}

func TestParseIDX(t *testing.T) {
	valid := idxBytes([]int{2, 3, 4}, make([]byte, 24))
	cases := []struct {
		name   string
		buf    []byte
		dims   []int
		errHas string
	}{
		{"raw", valid, []int{2, 3, 4}, ""},
		{"gzip", gzipBytes(t, valid), []int{2, 3, 4}, ""},
		{"labels", idxBytes([]int{5}, []byte{1, 2, 3, 4, 5}), []int{5}, ""},
		{"short header", []byte{0, 0}, nil, "too short"},
		{"bad magic", append([]byte{1}, valid[1:]...), nil, "offset 0: magic"},
		{"float data", append([]byte{0, 0, 0x0d}, valid[3:]...), nil, "data type 0x0d"},
		{"no dims", []byte{0, 0, 8, 0}, nil, "zero dimensions"},
		{"short dims", valid[:10], nil, "header of 3 dimensions needs 16 bytes"},
		{"truncated", valid[:len(valid)-1], nil, "truncated"},
		{"trailing", append(append([]byte(nil), valid...), 9), nil, "trailing data"},
		{"huge dims", idxBytes([]int{1 << 20, 1 << 20, 1 << 20}, nil), nil, "implausibly large"},
		{"corrupt gzip", gzipBytes(t, valid)[:20], nil, "gzip"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dims, payload, err := ParseIDX("f.idx", c.buf)
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) || !strings.Contains(err.Error(), "f.idx") {
					t.Fatalf("error %v, want one naming f.idx containing %q", err, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(dims) != len(c.dims) {
				t.Fatalf("dims %v, want %v", dims, c.dims)
			}
			n := 1
			for i := range dims {
				if dims[i] != c.dims[i] {
					t.Fatalf("dims %v, want %v", dims, c.dims)
				}
				n *= dims[i]
			}
			if len(payload) != n {
				t.Fatalf("%d payload bytes, want %d", len(payload), n)
			}
		})
	}
}

func TestLoadIDX(t *testing.T) {
	for _, c := range []struct {
		name string
		gz   bool
	}{{FashionMNIST, true}, {MNIST, false}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeIDXSplit(t, dir, "train", 12, 28, 28, c.gz)
			writeIDXSplit(t, dir, "test", 4, 28, 28, c.gz)
			d, err := Load(c.name, dir, "train")
			if err != nil {
				t.Fatal(err)
			}
			if d.N != 12 || d.H != 28 || d.C != 1 || len(d.Classes) != 10 || d.Labels[3] != 3 || d.Images[5] != 5 {
				t.Fatalf("got N=%d H=%d C=%d classes=%d", d.N, d.H, d.C, len(d.Classes))
			}
			counts := d.ClassCounts()
			if counts[0] != 2 || counts[9] != 1 {
				t.Fatalf("counts %v", counts)
			}
			if te, err := Load(c.name, dir, "test"); err != nil || te.N != 4 {
				t.Fatalf("test: %v", err)
			}
		})
	}
	t.Run("count mismatch", func(t *testing.T) {
		dir := t.TempDir()
		writeIDXSplit(t, dir, "train", 12, 28, 28, false)
		writeFile(t, filepath.Join(dir, "train-labels-idx1-ubyte"), idxBytes([]int{11}, make([]byte, 11)))
		if _, err := Load(MNIST, dir, "train"); err == nil || !strings.Contains(err.Error(), "12 images but") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("bad label", func(t *testing.T) {
		dir := t.TempDir()
		writeIDXSplit(t, dir, "train", 3, 2, 2, false)
		writeFile(t, filepath.Join(dir, "train-labels-idx1-ubyte"), idxBytes([]int{3}, []byte{0, 12, 1}))
		if _, err := Load(MNIST, dir, "train"); err == nil || !strings.Contains(err.Error(), "offset 9: label 12") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		_, err := Load(FashionMNIST, t.TempDir(), "train")
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "train-images-idx3-ubyte.gz") {
			t.Fatalf("err %v", err)
		}
	})
}

// TestLoadDebianFashionMNIST reads the real files when Debian's package is installed.
func TestLoadDebianFashionMNIST(t *testing.T) {
	if _, err := os.Stat(DebianFashionMNIST); err != nil {
		t.Skip("dataset-fashion-mnist not installed")
	}
	if testing.Short() {
		t.Skip("short")
	}
	d, err := Load(FashionMNIST, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 10000 || d.H != 28 || d.W != 28 {
		t.Fatalf("N=%d %dx%d", d.N, d.H, d.W)
	}
	for k, n := range d.ClassCounts() {
		if n != 1000 {
			t.Errorf("class %d has %d images, want 1000", k, n)
		}
	}
}

func TestSubsetAndDigest(t *testing.T) {
	root := t.TempDir()
	writeCIFAR(t, root, CIFAR10, 4)
	d, err := Load(CIFAR10, root, "test")
	if err != nil {
		t.Fatal(err)
	}
	s := d.Subset(2)
	if s.N != 2 || len(s.Images) != 2*3072 || len(s.Labels) != 2 || s.Check() != nil {
		t.Fatalf("subset N=%d", s.N)
	}
	if d.Subset(100).N != 4 || d.Subset(-1).N != 4 {
		t.Fatal("out-of-range subset not clamped")
	}
	if s.Digest() == d.Digest() || d.Digest() != d.Subset(4).Digest() {
		t.Fatal("digest does not follow content")
	}
}

func TestChecksums(t *testing.T) {
	root := t.TempDir()
	sub := writeCIFAR(t, root, CIFAR10, 2)
	d, err := Load(CIFAR10, root, "test")
	if err != nil {
		t.Fatal(err)
	}
	sums, err := d.Checksums()
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(cifarRecords(CIFAR10, 2))
	if len(sums) != 1 || sums[0].Path != filepath.Join(sub, "test_batch.bin") || sums[0].Size != 2*3073 ||
		sums[0].SHA256 != hex.EncodeToString(want[:]) || sums[0].Official != "MISMATCH" {
		t.Fatalf("checksums %+v", sums)
	}
	// An image folder has no per-file sums.
	folder := t.TempDir()
	writeFile(t, filepath.Join(folder, "a.png"), pngBytes(t, solidImage(4, 4, color.RGBA{1, 2, 3, 255})))
	f, err := OpenFolder(folder, "train", FolderOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if sums, err := f.Checksums(); err != nil || len(sums) != 0 {
		t.Fatalf("folder checksums %v, %v", sums, err)
	}
}
