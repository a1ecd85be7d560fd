// Fuzz targets for the parsers: no input may panic, and whatever parses is consistent.
package data

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParseCIFAR(f *testing.F) {
	f.Add(false, cifarRecords(CIFAR10, 2))
	f.Add(true, cifarRecords(CIFAR100, 1))
	f.Add(false, cifarRecords(CIFAR10, 1)[:3000])
	f.Add(false, []byte{})
	f.Fuzz(func(t *testing.T, hundred bool, buf []byte) {
		name := CIFAR10
		if hundred {
			name = CIFAR100
		}
		im, lb, err := ParseCIFAR(name, "fuzz.bin", buf)
		if err != nil {
			return
		}
		f := cifarFormats[name]
		if len(lb)*f.recordSize() != len(buf) || len(im) != len(lb)*cifarPixels {
			t.Fatalf("%d labels, %d image bytes from %d input bytes", len(lb), len(im), len(buf))
		}
		for _, l := range lb {
			if int(l) >= f.numLabels[f.labelIdx] {
				t.Fatalf("label %d", l)
			}
		}
	})
}

func FuzzParseIDX(f *testing.F) {
	f.Add(idxBytes([]int{2, 3, 3}, make([]byte, 18)))
	f.Add(idxBytes([]int{4}, []byte{1, 2, 3, 4}))
	f.Add(gzipBytes(f, idxBytes([]int{1, 2, 2}, []byte{9, 8, 7, 6})))
	f.Add([]byte{0, 0, 8, 3, 0, 0})
	f.Fuzz(func(t *testing.T, buf []byte) {
		dims, payload, err := ParseIDX("fuzz.idx", buf)
		if err != nil {
			return
		}
		n := 1
		for _, d := range dims {
			n *= d
		}
		if len(dims) == 0 || len(payload) != n {
			t.Fatalf("dims %v with %d payload bytes", dims, len(payload))
		}
	})
}

// FuzzDecodeImage feeds arbitrary bytes to the per-file step of an image folder's cache build.
func FuzzDecodeImage(f *testing.F) {
	grad := image.NewRGBA(image.Rect(0, 0, 9, 5))
	for y := range 5 {
		for x := range 9 {
			grad.SetRGBA(x, y, color.RGBA{uint8(x * 28), uint8(y * 50), 7, 255})
		}
	}
	f.Add(pngBytes(f, grad))
	f.Add(jpegBytes(f, grad))
	f.Add(pngBytes(f, image.NewGray(image.Rect(0, 0, 3, 1))))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	defer func(n int) { maxImagePixels = n }(maxImagePixels)
	maxImagePixels = 1 << 16 // keep each input's decode small
	f.Fuzz(func(t *testing.T, buf []byte) {
		pix, h, w, err := decodeImage("fuzz.png", buf, 6)
		if err == nil && (len(pix) != h*w*3 || min(h, w) > 6 || h <= 0 || w <= 0) {
			t.Fatalf("%d bytes for %dx%d", len(pix), h, w)
		}
	})
}

// FuzzLoadFolder runs the whole folder path on one file of arbitrary name and content.
func FuzzLoadFolder(f *testing.F) {
	f.Add("cat", "a.png", pngBytes(f, image.NewRGBA(image.Rect(0, 0, 5, 3))))
	f.Add("dog", "b.JPG", jpegBytes(f, image.NewRGBA(image.Rect(0, 0, 2, 7))))
	f.Add("", "c.png", []byte("not a png"))
	f.Add(".hidden", "d.jpeg", []byte{0xff, 0xd8})
	defer func(n int) { maxImagePixels = n }(maxImagePixels)
	maxImagePixels = 1 << 16
	f.Fuzz(func(t *testing.T, class, name string, content []byte) {
		if strings.ContainsAny(class+name, "/\x00") || name == "" || name == "." || name == ".." || class == ".." {
			return // not a file name
		}
		root := t.TempDir()
		dir := filepath.Join(root, class)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return
		}
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return
		}
		d, err := OpenFolder(root, "train", FolderOptions{Side: 4, CacheDir: t.TempDir()})
		if err != nil {
			return
		}
		if err := d.Check(); err != nil || d.N != 1 || d.H != 4 {
			t.Fatalf("loaded %d images, check %v", d.N, err)
		}
	})
}
