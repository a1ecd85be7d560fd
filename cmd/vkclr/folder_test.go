// End-to-end runs on the data paths of issue 15: an STL-10-format folder
// (pre-train on train+unlabeled, probe on train/test) and image folders
// (pre-train on an unlabeled folder, probe on a labeled one with --val-fraction).
package main

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/vkclr/vkclr/vk"
)

// writeTinySTL10 writes STL-10's binary files with n images per split.
func writeTinySTL10(t *testing.T, dir string, n int) {
	t.Helper()
	sub := filepath.Join(dir, "stl10_binary")
	os.MkdirAll(sub, 0o755)
	for _, s := range []string{"train", "test", "unlabeled"} {
		x := make([]byte, n*96*96*3)
		for i := range x {
			x[i] = byte(i*7 + i/9216)
		}
		if err := os.WriteFile(filepath.Join(sub, s+"_X.bin"), x, 0o644); err != nil {
			t.Fatal(err)
		}
		if s != "unlabeled" {
			y := make([]byte, n)
			for i := range y {
				y[i] = byte(1 + i%10)
			}
			os.WriteFile(filepath.Join(sub, s+"_y.bin"), y, 0o644)
		}
	}
}

func TestSTL10TrainProbe(t *testing.T) {
	if _, err := vk.Devices(); errors.Is(err, vk.ErrNoDevice) {
		t.Skipf("no Vulkan device: %v", err)
	}
	dir := t.TempDir()
	writeTinySTL10(t, dir, 20)
	out := filepath.Join(dir, "run")
	cache := filepath.Join(dir, "cache")
	args := []string{"train", "--data", "stl10", "--data-dir", dir, "--cache-dir", cache, "--out", out, "--image-size", "24",
		"--arch", "resnet18", "--width", "2", "--proj-hidden", "8", "--proj-dim", "4", "--batch-size", "8", "--steps", "6",
		"--optimizer", "sgd", "--lr", "0.1", "--eval-every", "1", "--knn-k", "3", "--augment", "simclr-imagenet"}
	if code := run(args); code != 0 {
		t.Fatalf("train on stl10: exit %d", code)
	}
	common := []string{"--checkpoint", filepath.Join(out, "last.safetensors"), "--data", "stl10", "--data-dir", dir, "--cache-dir", cache}
	if code := run(append([]string{"eval", "linear", "--epochs", "2"}, common...)); code != 0 {
		t.Fatalf("eval linear on stl10: exit %d", code)
	}
	if code := run(append([]string{"eval", "knn", "--k", "3"}, common...)); code != 0 {
		t.Fatalf("eval knn on stl10: exit %d", code)
	}
}

func pngFile(t *testing.T, path string, w, h int, c color.RGBA) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = c.R+uint8(i), c.G, c.B+uint8(3*i), 255
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFolderTrainProbe(t *testing.T) {
	if _, err := vk.Devices(); errors.Is(err, vk.ErrNoDevice) {
		t.Skipf("no Vulkan device: %v", err)
	}
	dir := t.TempDir()
	unl, lab := filepath.Join(dir, "unlabeled"), filepath.Join(dir, "labeled")
	for i := range 16 {
		pngFile(t, filepath.Join(unl, string(rune('a'+i))+".png"), 30+i, 20, color.RGBA{uint8(9 * i), 40, 90, 255})
		pngFile(t, filepath.Join(lab, []string{"red", "blue"}[i%2], string(rune('a'+i))+".png"), 20, 26, color.RGBA{uint8(200 * (1 - i%2)), 0, uint8(200 * (i % 2)), 255})
	}
	os.WriteFile(filepath.Join(unl, "broken.jpg"), []byte("not a jpeg"), 0o644)
	out := filepath.Join(dir, "run")
	cache := filepath.Join(dir, "cache")
	args := []string{"train", "--data", unl, "--cache-dir", cache, "--out", out, "--image-size", "16",
		"--arch", "resnet18", "--width", "2", "--proj-hidden", "8", "--proj-dim", "4", "--batch-size", "4", "--steps", "3",
		"--optimizer", "sgd", "--lr", "0.1"}
	if code := run(append(args, "--strict-data")); code != 1 {
		t.Fatalf("train --strict-data with a broken file: exit %d, want 1", code)
	}
	if code := run(args); code != 0 {
		t.Fatalf("train on an unlabeled folder: exit %d", code)
	}
	common := []string{"--checkpoint", filepath.Join(out, "last.safetensors"), "--data", lab, "--cache-dir", cache}
	if code := run(append([]string{"eval", "knn", "--k", "3"}, common...)); code != 1 {
		t.Fatalf("eval knn on a folder without val/ or --val-fraction: exit %d, want 1", code)
	}
	if code := run(append([]string{"eval", "knn", "--k", "3", "--val-fraction", "0.25"}, common...)); code != 0 {
		t.Fatalf("eval knn --val-fraction: exit %d", code)
	}
}
