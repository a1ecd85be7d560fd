// STL-10 and Imagenette: parse, fetch from a loopback server, splits.
package data

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"image/color"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stl10Raw returns n images in STL-10's file layout whose displayed pixel
// (y, x, c) of image i is (i + 3y + 5x + 70c) mod 256, and labels 1..10.
func stl10Raw(n, first int) (images, labels []byte) {
	const S = stl10Side
	images = make([]byte, n*stl10Pixels)
	for i := range n {
		for c := range 3 {
			for x := range S {
				for y := range S {
					images[i*stl10Pixels+c*S*S+x*S+y] = byte(first + i + 3*y + 5*x + 70*c)
				}
			}
		}
		labels = append(labels, byte(1+(first+i)%10))
	}
	return images, labels
}

// tinySTL10Archive returns an stl10_binary.tar.gz look-alike with nTrain,
// nTest and nUnlabeled images, and its md5.
func tinySTL10Archive(t testing.TB, nTrain, nTest, nUnlabeled int) ([]byte, string) {
	files := map[string][]byte{}
	trX, trY := stl10Raw(nTrain, 0)
	teX, teY := stl10Raw(nTest, 100)
	unX, _ := stl10Raw(nUnlabeled, 200)
	p := stl10Subdir + "/"
	files[p+"train_X.bin"], files[p+"train_y.bin"] = trX, trY
	files[p+"test_X.bin"], files[p+"test_y.bin"] = teX, teY
	files[p+"unlabeled_X.bin"] = unX
	files[p+"class_names.txt"] = []byte(strings.Join(stl10Classes, "\n") + "\n")
	names := []string{p + "class_names.txt", p + "train_X.bin", p + "train_y.bin", p + "test_X.bin", p + "test_y.bin", p + "unlabeled_X.bin"}
	ar := tarGz(t, names, files)
	s := md5.Sum(ar)
	return ar, hex.EncodeToString(s[:])
}

// serveFile serves body at /NAME on a loopback server.
func serveFile(t *testing.T, name string, body []byte) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/"+name {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, name, time.Time{}, strings.NewReader(string(body)))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestSTL10FetchAndParse(t *testing.T) {
	ar, sum := tinySTL10Archive(t, 4, 3, 5)
	url := serveFile(t, "stl10_binary.tar.gz", ar)
	dir := t.TempDir()
	ctx := context.Background()
	if err := Fetch(ctx, STL10, dir, FetchOptions{BaseURL: url, MD5: strings.Repeat("0", 32)}); !errors.Is(err, ErrChecksum) {
		t.Fatalf("wrong md5: %v, want ErrChecksum", err)
	}
	if err := Fetch(ctx, STL10, dir, FetchOptions{BaseURL: url, MD5: sum}); err != nil {
		t.Fatal(err)
	}
	if !Present(STL10, dir) {
		t.Fatal("fetched STL-10 not present")
	}
	opts := FolderOptions{CacheDir: t.TempDir()}
	tr, err := Open(STL10, dir, "train", opts)
	if err != nil {
		t.Fatal(err)
	}
	if tr.N != 4 || tr.H != 96 || len(tr.Classes) != 10 || tr.Labels[3] != 3 || tr.Classes[2] != "car" {
		t.Fatalf("train N=%d side %d labels %v classes %v", tr.N, tr.H, tr.Labels, tr.Classes)
	}
	// Column-major planes become row-major interleaved pixels.
	for _, p := range [][3]int{{0, 0, 0}, {1, 2, 0}, {95, 3, 2}, {7, 90, 1}} {
		y, x, c := p[0], p[1], p[2]
		want := byte(2 + 3*y + 5*x + 70*c)
		if got := tr.Image(2)[(y*96+x)*3+c]; got != want {
			t.Fatalf("image 2 pixel (%d, %d) channel %d = %d, want %d", y, x, c, got, want)
		}
	}
	te, err := Open(STL10, dir, "test", opts)
	if err != nil || te.N != 3 || te.Labels[0] != 0 {
		t.Fatalf("test: %v", err)
	}
	pre, err := Open(STL10, dir, PretrainSplit(STL10), opts)
	if err != nil || pre.N != 9 || pre.Labels != nil {
		t.Fatalf("train+unlabeled: %v", err)
	}
	if pre.Image(8)[0] != byte(200+4) {
		t.Fatalf("last unlabeled image starts with %d", pre.Image(8)[0])
	}
	// A truncated image file is an error naming it, not a short dataset.
	os.Truncate(filepath.Join(dir, stl10Subdir, "test_X.bin"), 100)
	if _, err := Open(STL10, dir, "test", opts); err == nil || !strings.Contains(err.Error(), "test_X.bin") {
		t.Fatalf("truncated file: %v", err)
	}
	// A folder of STL-10 files passed as --data is read as STL-10.
	if d, err := OpenFolder(filepath.Join(dir, stl10Subdir), "train", opts); err != nil || d.Name != STL10 || d.N != 4 {
		t.Fatalf("STL-10 folder as --data: %v", err)
	}
}

func TestImagenetteFetch(t *testing.T) {
	names := []string{}
	files := map[string][]byte{}
	for _, s := range []string{"train", "val"} {
		for k, c := range []string{"n01440764", "n02102040"} {
			n := imagenetteSubdir + "/" + s + "/" + c + "/ILSVRC_" + s + ".JPEG"
			names = append(names, n)
			files[n] = jpegBytes(t, solidImage(213, 160, color.RGBA{uint8(100 * k), 50, 50, 255}))
		}
	}
	names = append(names, imagenetteSubdir+"/noisy_imagenette.csv")
	files[imagenetteSubdir+"/noisy_imagenette.csv"] = []byte("path,noisy_labels_0\n")
	ar := tarGz(t, names, files)
	s := md5.Sum(ar)
	url := serveFile(t, "imagenette2-160.tgz", ar)
	dir := t.TempDir()
	if err := Fetch(context.Background(), Imagenette, dir, FetchOptions{BaseURL: url, MD5: hex.EncodeToString(s[:])}); err != nil {
		t.Fatal(err)
	}
	opts := FolderOptions{Side: 37, CacheDir: t.TempDir()}
	for _, split := range []string{"train", "test"} {
		d, err := Open(Imagenette, dir, split, opts)
		if err != nil {
			t.Fatal(err)
		}
		if h, w := d.ImageSize(0); d.N != 2 || d.Name != Imagenette || len(d.Classes) != 2 || h != 37 || w != 49 {
			t.Fatalf("%s: N=%d name %s classes %v size %dx%d", split, d.N, d.Name, d.Classes, h, w)
		}
	}
}
