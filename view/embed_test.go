package view

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/model/safetensors"
	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/train"
	"github.com/vkclr/vkclr/train/augment"
	"github.com/vkclr/vkclr/train/data"
	"github.com/vkclr/vkclr/vk"
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

// BenchmarkNeighbours50k: a new query's neighbours among 50,000 512-d
// features (the device matmul, the download, the host top-k) as a click
// costs; an arrow key usually finds them computed already (prefetch).
func BenchmarkNeighbours50k(b *testing.B) {
	const n, dim = 50000, 512
	ctx, err := vk.Open(vk.Options{})
	if err != nil {
		b.Skipf("no Vulkan device: %v", err)
	}
	defer ctx.Close()
	k, err := ops.New(ctx, ops.Options{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	e := &embeddings{n: n, dim: dim, z: make([]float32, n*dim)}
	for i := range e.z {
		e.z[i] = float32(rng.NormFloat64())
	}
	x, err := newIndex(&train.Session{Ctx: ctx, K: k}, e)
	if err != nil {
		b.Fatal(err)
	}
	defer x.close()
	v := &neighbourView{e: e, x: x, k: 8}
	for i := 0; b.Loop(); i++ {
		if err := v.setQuery(i * prefetch * 3 % n); err != nil {
			b.Fatal(err)
		}
	}
}
