// Test fixtures: tiny CIFAR, idx and image-folder datasets written to t.TempDir().
package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// cifarRecords returns n records of the given variant; record i has class
// label i%10 (coarse label i%20 for CIFAR-100) and pixel bytes derived from i.
func cifarRecords(name string, n int) []byte {
	f := cifarFormats[name]
	rs := f.recordSize()
	buf := make([]byte, n*rs)
	for i := range n {
		rec := buf[i*rs:]
		if f.labelBytes == 2 {
			rec[0] = byte(i % 20)
			rec[1] = byte(i % 100)
		} else {
			rec[0] = byte(i % 10)
		}
		for p := range cifarPixels {
			rec[f.labelBytes+p] = byte(i*7 + p)
		}
	}
	return buf
}

// writeCIFAR writes a complete tiny CIFAR layout under dir/SUBDIR with
// perFile records in each file and returns the folder holding the .bin files.
func writeCIFAR(t testing.TB, dir, name string, perFile int) string {
	t.Helper()
	f := cifarFormats[name]
	sub := filepath.Join(dir, f.subdir)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, fn := range append(append([]string(nil), f.train...), f.test...) {
		writeFile(t, filepath.Join(sub, fn), cifarRecords(name, perFile))
	}
	var meta bytes.Buffer
	for i := range f.numLabels[f.labelIdx] {
		if f.classes != nil {
			meta.WriteString(f.classes[i] + "\n")
		} else {
			meta.WriteString("c" + string(rune('a'+i%26)) + string(rune('0'+i/26)) + "\n")
		}
	}
	meta.WriteString("\n") // the official files end with a blank line
	writeFile(t, filepath.Join(sub, f.meta), meta.Bytes())
	return sub
}

// idxBytes encodes an unsigned-byte idx file.
func idxBytes(dims []int, payload []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(payload)
	return b.Bytes()
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// writeIDXSplit writes images (n, h, w) and labels of one split into dir.
func writeIDXSplit(t testing.TB, dir, split string, n, h, w int, gz bool) {
	t.Helper()
	im, lb := idxFiles(split)
	pix := make([]byte, n*h*w)
	for i := range pix {
		pix[i] = byte(i)
	}
	labels := make([]byte, n)
	for i := range labels {
		labels[i] = byte(i % 10)
	}
	ib, lbb := idxBytes([]int{n, h, w}, pix), idxBytes([]int{n}, labels)
	if gz {
		ib, lbb, im, lb = gzipBytes(t, ib), gzipBytes(t, lbb), im+".gz", lb+".gz"
	}
	writeFile(t, filepath.Join(dir, im), ib)
	writeFile(t, filepath.Join(dir, lb), lbb)
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// solidImage returns a w x h image of one color.
func solidImage(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tarGz builds a .tar.gz holding the given files (name -> content) in order.
func tarGz(t testing.TB, names []string, files map[string][]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		b := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
