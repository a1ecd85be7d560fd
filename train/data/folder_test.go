// Image folders through the decoded cache: formats, orientation, bad files,
// cache reuse and rebuild, splits, folders that hold a built-in dataset.
package data

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// withEXIF inserts an APP1 Exif segment with the given orientation (big-endian
// TIFF) right after a JPEG's SOI marker, as a phone camera writes it.
func withEXIF(jpg []byte, orientation uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("MM")
	binary.Write(&tiff, binary.BigEndian, uint16(42))
	binary.Write(&tiff, binary.BigEndian, uint32(8)) // IFD0 right after the header
	binary.Write(&tiff, binary.BigEndian, uint16(2)) // two entries
	// An unrelated tag first (ImageDescription offset), then Orientation.
	binary.Write(&tiff, binary.BigEndian, []uint16{0x010e, 2})
	binary.Write(&tiff, binary.BigEndian, []uint32{1, 0})
	binary.Write(&tiff, binary.BigEndian, []uint16{0x0112, 3})
	binary.Write(&tiff, binary.BigEndian, uint32(1))
	binary.Write(&tiff, binary.BigEndian, []uint16{orientation, 0})
	binary.Write(&tiff, binary.BigEndian, uint32(0)) // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(jpg[:2])
	out.Write([]byte{0xff, 0xe1})
	binary.Write(&out, binary.BigEndian, uint16(len(seg)+2))
	out.Write(seg)
	out.Write(jpg[2:])
	return out.Bytes()
}

// quadrants returns a w x h image whose quadrants are red (top left), green
// (top right), blue (bottom left) and white (bottom right).
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	cols := [2][2]color.RGBA{{{255, 0, 0, 255}, {0, 255, 0, 255}}, {{0, 0, 255, 255}, {255, 255, 255, 255}}}
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, cols[2*y/h][2*x/w])
		}
	}
	return img
}

// pixelNear reports whether pixel (y, x) of image i is within tol of want.
func pixelNear(d *Dataset, i, y, x int, want [3]int, tol int) bool {
	h, w := d.ImageSize(i)
	if y >= h || x >= w {
		return false
	}
	p := d.Image(i)[(y*w+x)*3:]
	for c := range 3 {
		if diff := int(p[c]) - want[c]; diff > tol || diff < -tol {
			return false
		}
	}
	return true
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFolderFormats(t *testing.T) {
	root := t.TempDir()
	red := color.RGBA{255, 0, 0, 255}
	writeFile(t, filepath.Join(root, "a", "wide.png"), pngBytes(t, solidImage(40, 20, red)))
	gray := image.NewGray(image.Rect(0, 0, 5, 7))
	for i := range gray.Pix {
		gray.Pix[i] = 77
	}
	writeFile(t, filepath.Join(root, "a", "gray.jpg"), jpegBytes(t, gray))
	deep := image.NewRGBA64(image.Rect(0, 0, 3, 3))
	for y := range 3 {
		for x := range 3 {
			deep.SetRGBA64(x, y, color.RGBA64{0x8080, 0x4040, 0xffff, 0xffff})
		}
	}
	writeFile(t, filepath.Join(root, "a", "deep.png"), pngBytes(t, deep))
	pal := image.NewPaletted(image.Rect(0, 0, 4, 2), color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 200, 0, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 2)
	}
	writeFile(t, filepath.Join(root, "b", "pal.png"), pngBytes(t, pal))
	writeFile(t, filepath.Join(root, "b", "tiny.webp"), readFixture(t, "tiny.webp"))
	writeFile(t, filepath.Join(root, "b", "cmyk.jpg"), readFixture(t, "cmyk.jpg"))
	writeFile(t, filepath.Join(root, "b", "phone.jpg"), withEXIF(jpegBytes(t, quadrants(16, 8)), 6))

	d, err := OpenFolder(root, "train", FolderOptions{Side: 16, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 7 || len(d.Classes) != 2 || d.C != 3 || d.H != 16 {
		t.Fatalf("N=%d classes %v C=%d side %d", d.N, d.Classes, d.C, d.H)
	}
	// Listing order: a/deep.png, a/gray.jpg, a/wide.png, b/cmyk.jpg, b/pal.png, b/phone.jpg, b/tiny.webp.
	wantSize := [][2]int{{3, 3}, {7, 5}, {16, 32}, {6, 8}, {2, 4}, {16, 8}, {3, 5}}
	for i, ws := range wantSize {
		if h, w := d.ImageSize(i); h != ws[0] || w != ws[1] {
			t.Errorf("image %d is %dx%d, want %dx%d (aspect kept, shorter side at most 16)", i, h, w, ws[0], ws[1])
		}
	}
	if d.Labels[2] != 0 || d.Labels[3] != 1 {
		t.Errorf("labels %v", d.Labels)
	}
	checks := []struct {
		name      string
		i, y, x   int
		want      [3]int
		tolerance int
	}{
		{"16-bit PNG keeps the high byte", 0, 1, 1, [3]int{128, 64, 255}, 0},
		{"grayscale JPEG", 1, 3, 2, [3]int{77, 77, 77}, 2},
		{"scaled PNG", 2, 8, 16, [3]int{255, 0, 0}, 0},
		{"CMYK JPEG left is red", 3, 3, 0, [3]int{255, 0, 0}, 40},
		{"CMYK JPEG right is blue", 3, 3, 7, [3]int{0, 0, 255}, 40},
		{"paletted PNG", 4, 0, 1, [3]int{0, 200, 0}, 0},
		{"paletted PNG", 4, 1, 0, [3]int{255, 0, 0}, 0},
		// EXIF 6: rotated 90 degrees clockwise, the stored bottom-left
		// (blue) quadrant shows at the top left.
		{"EXIF-rotated top left", 5, 2, 2, [3]int{0, 0, 255}, 40},
		{"EXIF-rotated top right", 5, 2, 6, [3]int{255, 0, 0}, 40},
		{"EXIF-rotated bottom left", 5, 13, 2, [3]int{255, 255, 255}, 40},
		{"EXIF-rotated bottom right", 5, 13, 6, [3]int{0, 255, 0}, 40},
		{"lossless WebP", 6, 2, 4, [3]int{160, 160, 200}, 0},
		{"lossless WebP", 6, 1, 3, [3]int{120, 80, 200}, 0},
	}
	for _, c := range checks {
		if !pixelNear(d, c.i, c.y, c.x, c.want, c.tolerance) {
			_, w := d.ImageSize(c.i)
			t.Errorf("%s: image %d pixel (%d, %d) = %v, want %v", c.name, c.i, c.y, c.x, d.Image(c.i)[(c.y*w+c.x)*3:][:3], c.want)
		}
	}
}

func TestEXIFOrientations(t *testing.T) {
	// A 3x2 image with distinct pixels; each orientation moves pixel
	// (y, x) = (0, 0) to a known corner of the displayed image.
	pix := []uint8{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5} // rows [0 1 2] [3 4 5]
	want := map[int][]uint8{
		2: {2, 1, 0, 5, 4, 3},
		3: {5, 4, 3, 2, 1, 0},
		4: {3, 4, 5, 0, 1, 2},
		5: {0, 3, 1, 4, 2, 5},
		6: {3, 0, 4, 1, 5, 2},
		7: {5, 2, 4, 1, 3, 0},
		8: {2, 5, 1, 4, 0, 3},
	}
	for o, w := range want {
		out, h, ww := orient(pix, 2, 3, o)
		if (o >= 5) != (h == 3 && ww == 2) {
			t.Errorf("orientation %d: %dx%d", o, h, ww)
		}
		for i, v := range w {
			if out[3*i] != v {
				t.Errorf("orientation %d: got %v, want %v", o, out, w)
				break
			}
		}
	}
	jpg := jpegBytes(t, quadrants(4, 4))
	for _, o := range []uint16{1, 6, 8} {
		if got := exifOrientation(withEXIF(jpg, o)); got != int(o) {
			t.Errorf("orientation %d read as %d", o, got)
		}
	}
	if got := exifOrientation(jpg); got != 1 {
		t.Errorf("no EXIF read as %d", got)
	}
	if got := exifOrientation(withEXIF(jpg, 6)[:30]); got != 1 {
		t.Errorf("truncated EXIF read as %d", got)
	}
}

// badFolder writes two good images and every kind of bad file.
func badFolder(t *testing.T) string {
	root := t.TempDir()
	good := pngBytes(t, solidImage(6, 6, color.RGBA{9, 9, 9, 255}))
	writeFile(t, filepath.Join(root, "a", "good1.png"), good)
	writeFile(t, filepath.Join(root, "a", "good2.jpg"), jpegBytes(t, quadrants(8, 8)))
	writeFile(t, filepath.Join(root, "a", "truncated.png"), good[:40])
	writeFile(t, filepath.Join(root, "a", "truncated.jpg"), jpegBytes(t, quadrants(64, 64))[:300])
	writeFile(t, filepath.Join(root, "b", "zero.jpg"), nil)
	writeFile(t, filepath.Join(root, "b", "text.png"), []byte("not an image at all"))
	writeFile(t, filepath.Join(root, "b", "notes.txt"), []byte("a note"))
	writeFile(t, filepath.Join(root, "b", "good3.png"), good)
	return root
}

func TestFolderBadFiles(t *testing.T) {
	root := badFolder(t)
	var log bytes.Buffer
	d, err := OpenFolder(root, "train", FolderOptions{Side: 8, CacheDir: t.TempDir(), Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 3 || d.Labels[2] != 1 {
		t.Fatalf("N=%d labels %v, want the 3 good images", d.N, d.Labels)
	}
	out := log.String()
	for _, want := range []string{"4 of 7 files could not be read", filepath.Join(root, "a", "truncated.png"),
		filepath.Join(root, "a", "truncated.jpg"), filepath.Join(root, "b", "zero.jpg"), filepath.Join(root, "b", "text.png"),
		"1 files are not", filepath.Join("b", "notes.txt")} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}

	_, err = OpenFolder(root, "train", FolderOptions{Side: 8, CacheDir: t.TempDir(), Strict: true, Workers: 1})
	if !errors.Is(err, ErrBadImage) || !strings.Contains(err.Error(), filepath.Join("a", "truncated.jpg")) {
		t.Fatalf("strict: %v, want ErrBadImage naming the first bad file", err)
	}
}

func TestFolderCacheReuseAndRebuild(t *testing.T) {
	root := t.TempDir()
	for _, n := range []string{"x.png", "y.png"} {
		writeFile(t, filepath.Join(root, n), pngBytes(t, solidImage(10, 12, color.RGBA{100, 0, 0, 255})))
	}
	cache := t.TempDir()
	open := func() (*Dataset, string) {
		t.Helper()
		var log bytes.Buffer
		d, err := OpenFolder(root, "train", FolderOptions{Side: 8, CacheDir: cache, Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		return d, log.String()
	}
	d, log := open()
	if !strings.Contains(log, "decoding 2 images") || d.N != 2 || d.Labels != nil {
		t.Fatalf("first open: N=%d\n%s", d.N, log)
	}
	files, _ := filepath.Glob(filepath.Join(cache, "*.vkimg"))
	if len(files) != 1 {
		t.Fatalf("cache files %v", files)
	}
	st0, _ := os.Stat(files[0])
	d2, log := open()
	if strings.Contains(log, "decoding") || !strings.Contains(log, "from the cache") || d2.Digest() != d.Digest() {
		t.Fatalf("unchanged folder was not reused:\n%s", log)
	}
	if st, _ := os.Stat(files[0]); !st.ModTime().Equal(st0.ModTime()) {
		t.Fatal("cache file rewritten for an unchanged folder")
	}

	// Same name and size, new content and modification time: rebuilt.
	writeFile(t, filepath.Join(root, "x.png"), pngBytes(t, solidImage(10, 12, color.RGBA{0, 100, 0, 255})))
	os.Chtimes(filepath.Join(root, "x.png"), time.Now(), time.Now().Add(time.Minute))
	d3, log := open()
	if !strings.Contains(log, "decoding 2 images") || d3.Digest() == d.Digest() || !pixelNear(d3, 0, 1, 1, [3]int{0, 100, 0}, 0) {
		t.Fatalf("changed file not rebuilt:\n%s", log)
	}
	// A new file: rebuilt with it.
	writeFile(t, filepath.Join(root, "z.png"), pngBytes(t, solidImage(4, 4, color.RGBA{1, 2, 3, 255})))
	if d4, log := open(); d4.N != 3 || !strings.Contains(log, "decoding 3 images") {
		t.Fatalf("added file: N=%d\n%s", d4.N, log)
	}
	// An interrupted build leaves FILE.partial, and a damaged cache file
	// fails its trailer check: both give a clean rebuild.
	writeFile(t, files[0]+".partial", []byte("half a build"))
	buf, _ := os.ReadFile(files[0])
	writeFile(t, files[0], buf[:len(buf)-10])
	if d5, log := open(); d5.N != 3 || !strings.Contains(log, "decoding 3 images") {
		t.Fatalf("after a damaged cache: N=%d\n%s", d5.N, log)
	}
	if _, err := os.Stat(files[0] + ".partial"); !os.IsNotExist(err) {
		t.Errorf("partial file left behind: %v", err)
	}
}

func TestFolderSplits(t *testing.T) {
	root := t.TempDir()
	for _, s := range []string{"train", "val"} {
		for _, c := range []string{"cat", "dog"} {
			for k := range map[string]int{"train": 3, "val": 2}[s] {
				writeFile(t, filepath.Join(root, s, c, string(rune('a'+k))+".png"), pngBytes(t, solidImage(5, 5, color.RGBA{uint8(k), 0, 0, 255})))
			}
		}
	}
	writeFile(t, filepath.Join(root, "noisy_imagenette.csv"), []byte("path,label\n"))
	opts := FolderOptions{Side: 8, CacheDir: t.TempDir()}
	tr, err := OpenFolder(root, "train", opts)
	if err != nil {
		t.Fatal(err)
	}
	te, err := OpenFolder(root, "test", opts)
	if err != nil {
		t.Fatal(err)
	}
	if tr.N != 6 || te.N != 4 || len(tr.Classes) != 2 || te.Classes[1] != "dog" {
		t.Fatalf("train %d test %d classes %v", tr.N, te.N, tr.Classes)
	}

	// A plain class folder has no test split, unless --val-fraction carves one.
	flat := filepath.Join(root, "train")
	if _, err := OpenFolder(flat, "test", opts); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "--val-fraction") {
		t.Fatalf("test split of a plain folder: %v", err)
	}
	opts.ValFraction = 0.5
	a, err := OpenFolder(flat, "train", opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenFolder(flat, "test", opts)
	if err != nil {
		t.Fatal(err)
	}
	if a.N+b.N != 6 || a.N == 0 || b.N == 0 || a.Digest() == b.Digest() {
		t.Fatalf("val-fraction split %d + %d", a.N, b.N)
	}
	seen := map[int64]bool{}
	for _, m := range append(append([]Dim(nil), a.Dims...), b.Dims...) {
		if seen[m.Off] {
			t.Fatal("an image is in both splits")
		}
		seen[m.Off] = true
	}
	again, _ := OpenFolder(flat, "test", opts)
	if again.N != b.N || again.Dims[0] != b.Dims[0] {
		t.Fatal("val-fraction split not deterministic")
	}
}

// TestFolderOfDatasetFiles: a folder holding CIFAR binary files is read as
// CIFAR (it used to fail with "no images"); idx files get a hint.
func TestFolderOfDatasetFiles(t *testing.T) {
	root := t.TempDir()
	writeCIFAR(t, root, CIFAR10, 3)
	d, err := OpenFolder(root, "train", FolderOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != CIFAR10 || d.N != 15 || d.H != 32 || d.Dims != nil {
		t.Fatalf("read as %s N=%d", d.Name, d.N)
	}
	if d, err := Load(filepath.Join(root, cifarFormats[CIFAR10].subdir), "", "test"); err != nil || d.N != 3 {
		t.Fatalf("the .bin folder itself: %v", err)
	}
	idx := t.TempDir()
	writeIDXSplit(t, idx, "train", 2, 4, 4, true)
	if _, err := Load(idx, "", "train"); err == nil || !strings.Contains(err.Error(), "--data mnist or --data fashion-mnist") {
		t.Fatalf("idx folder: %v", err)
	}
}

// TestResizeRGB checks the antialiased bilinear shrink against hand
// computation (PIL's triangle of radius 2 for a 2x shrink, taps at x+0.5)
// and that a same-size resize is the identity.
func TestResizeRGB(t *testing.T) {
	row := []uint8{0, 0, 0, 51, 51, 51, 102, 102, 102, 255, 255, 255}
	got := resizeRGB(row, 1, 4, 1, 2)
	want := []uint8{36, 36, 36, 160, 160, 160} // (0.75*51 + 0.25*102)/1.75, (0.25*51 + 0.75*102 + 0.75*255)/1.75
	if !bytes.Equal(got, want) {
		t.Fatalf("shrink: %v, want %v", got, want)
	}
	img := make([]uint8, 5*7*3)
	for i := range img {
		img[i] = uint8(i * 13)
	}
	if got := resizeRGB(img, 5, 7, 5, 7); !bytes.Equal(got, img) {
		t.Fatal("same-size resize changed the image")
	}
}

// TestFolderCacheCancelled: a cancelled build (Ctrl-C) leaves neither a
// cache file nor a partial one (only the lock file, which is kept), and the
// next run builds from the start.
func TestFolderCacheCancelled(t *testing.T) {
	root := badFolder(t)
	cache := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := OpenFolder(root, "train", FolderOptions{Side: 8, CacheDir: cache, Ctx: ctx}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled build: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(cache, "*.vkimg"))
	partial, _ := filepath.Glob(filepath.Join(cache, "*.partial"))
	if left = append(left, partial...); len(left) != 0 {
		t.Fatalf("a cancelled build left %v", left)
	}
	if d, err := OpenFolder(root, "train", FolderOptions{Side: 8, CacheDir: cache}); err != nil || d.N != 3 {
		t.Fatalf("build after a cancelled one: %v", err)
	}
}
