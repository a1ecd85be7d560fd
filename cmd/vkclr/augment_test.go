// End-to-end tests of `vkclr augment` and `vkclr bench augment`.
package main

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestAugmentCommand(t *testing.T) {
	dir := t.TempDir()
	writeTinyCIFAR10(t, dir, 4)
	out := filepath.Join(t.TempDir(), "pairs.png")
	if code := run([]string{"augment", "--data", "cifar10", "--data-dir", dir, "--n", "4", "--out", out}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// 2 x 2 cells of three 96-pixel tiles (32 x zoom 3) with 2-pixel gaps, 10 between cells.
	if b := img.Bounds(); b.Dx() != 2*(3*96+4)+3*10 || b.Dy() != 2*96+3*10 {
		t.Fatalf("image %v", b)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"augment", "--data", "cifar10", "--data-dir", dir, "--n", "100", "--out", out}, 2},
		{[]string{"augment", "--data", "cifar10", "--data-dir", dir, "--augment", "bogus", "--out", out}, 2},
		{[]string{"augment", "--data", "cifar10", "--data-dir", t.TempDir(), "--out", out}, 1},
		{[]string{"bench", "augment", "--seconds", "0.2", "--batch", "8"}, 0},
		{[]string{"bench", "augment", "--data", "cifar10", "--data-dir", dir, "--seconds", "0.2", "--batch", "8"}, 0},
	} {
		if code := run(c.args); code != c.code {
			t.Errorf("vkclr %v: exit %d, want %d", c.args, code, c.code)
		}
	}
}
