package view

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/model/safetensors"
	"github.com/vkclr/vkclr/train/augment"
	"github.com/vkclr/vkclr/train/data"
)

// An embed file without pixels finds its images through the dataset its
// metadata names; a count that does not match is refused.
func TestEmbeddingsFromMetadata(t *testing.T) {
	dir := t.TempDir()
	pics := filepath.Join(dir, "pics")
	writeImageFolder(t, pics)
	ds, err := data.Load(pics, "", "train")
	if err != nil {
		t.Fatal(err)
	}
	write := func(n int, subset string) string {
		f := safetensors.NewFile(safetensors.F32("features", []int{n, 3}, make([]float32, 3*n)))
		f.Metadata = map[string]string{"data": pics, "split": "train", "subset": subset}
		p := filepath.Join(dir, subset+".safetensors")
		if err := safetensors.Write(p, f); err != nil {
			t.Fatal(err)
		}
		return p
	}
	e, err := openEmbeddings(write(5, "5"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := augment.Thumbnails(ds.Subset(5), min(ds.H, maxThumb))
	if err != nil {
		t.Fatal(err)
	}
	if e.n != 5 || e.h != min(ds.H, maxThumb) || e.c != ds.C || !bytes.Equal(e.imgs, want) {
		t.Errorf("images from metadata: n %d, %dx%dx%d, want the first 5 of the folder", e.n, e.h, e.w, e.c)
	}
	if _, err := openEmbeddings(write(7, "0")); err == nil || !strings.Contains(err.Error(), "7 features but its dataset") {
		t.Errorf("mismatched count: %v", err)
	}
}
