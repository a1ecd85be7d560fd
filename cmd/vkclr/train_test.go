// End-to-end tests of train, eval, embed and model summary on tiny data.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/model/safetensors"
	"github.com/vkclr/vkclr/vk"
)

func TestTrainEvalEmbed(t *testing.T) {
	if _, err := vk.Devices(); errors.Is(err, vk.ErrNoDevice) {
		t.Skipf("no Vulkan device: %v", err)
	}
	dir := t.TempDir()
	writeTinyCIFAR10(t, dir, 20)
	out := filepath.Join(dir, "run")
	tiny := []string{"--data", "cifar10", "--data-dir", dir, "--out", out, "--arch", "resnet18", "--width", "2",
		"--proj-hidden", "8", "--proj-dim", "4", "--batch-size", "8", "--steps", "3", "--optimizer", "sgd", "--lr", "0.1"}
	// Bad flags and combinations fail before any work, with exit status 2.
	for _, bad := range [][]string{
		{"--batch-size", "1"},
		{"--optimizer", "rmsprop"},
		{"--temperature", "0"},
		{"--nesterov", "--momentum", "0"},
		{"--arch", "vgg16"},
		{"--preset", "imagenet"},
		{"--no-such-flag"},
	} {
		if code := run(append(append([]string{"train"}, tiny...), bad...)); code != 2 {
			t.Errorf("train %v: exit %d, want 2", bad, code)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a rejected command created the run folder")
	}
	if code := run(append([]string{"train"}, tiny...)); code != 0 {
		t.Fatalf("train: exit %d", code)
	}
	ck := filepath.Join(out, "last.safetensors")
	if code := run([]string{"train", "--resume", out, "--steps", "4"}); code != 0 {
		t.Fatalf("train --resume: exit %d", code)
	}
	// --init-from starts a run from the checkpoint's encoder; one of another width is refused.
	if code := run(append(append([]string{"train"}, tiny...), "--out", filepath.Join(dir, "init"), "--init-from", ck, "--steps", "1")); code != 0 {
		t.Errorf("train --init-from: exit %d", code)
	}
	if code := run(append(append([]string{"train"}, tiny...), "--out", filepath.Join(dir, "init4"), "--init-from", ck, "--width", "4")); code != 1 {
		t.Errorf("train --init-from with another --width: exit %d, want 1", code)
	}
	common := []string{"--checkpoint", ck, "--data", "cifar10", "--data-dir", dir}
	if code := run(append([]string{"eval", "linear", "--epochs", "2", "--baseline", "random,pixels"}, common...)); code != 0 {
		t.Fatalf("eval linear: exit %d", code)
	}
	for _, f := range []string{"linear_eval.json", "confusion.png", "linear.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("eval linear wrote no %s", f)
		}
	}
	// The JSON holds every probe's epochs: train loss and test accuracy.
	var res map[string]struct {
		Top1   float64
		Epochs []struct {
			Epoch     int
			TrainLoss float64 `json:"train_loss"`
			TestTop1  float64 `json:"test_top1"`
		}
	}
	b, _ := os.ReadFile(filepath.Join(out, "linear_eval.json"))
	_ = json.Unmarshal(b, &res) // (scalar entries do not fit the struct; the probes do)
	for _, key := range []string{"checkpoint", "random_init", "pixels"} {
		r := res[key]
		if len(r.Epochs) != 2 || r.Epochs[1].Epoch != 2 || r.Epochs[1].TestTop1 != r.Top1 || !(r.Epochs[0].TrainLoss > 0) {
			t.Errorf("linear_eval.json %s: %+v, want 2 epochs ending at top-1 %v", key, r.Epochs, r.Top1)
		}
	}
	// The help names the file it writes.
	if help := captureOutput(func() { run([]string{"eval", "linear", "--help"}) }); !strings.Contains(help, "linear_eval.json") || strings.Contains(help, "result.json") {
		t.Errorf("eval linear --help does not name linear_eval.json:\n%s", help)
	}
	if code := run(append([]string{"eval", "knn", "--k", "5", "--baseline", "pixels"}, common...)); code != 0 {
		t.Fatalf("eval knn: exit %d", code)
	}
	if code := run(append([]string{"eval", "knn", "--baseline", "noise"}, common...)); code != 2 {
		t.Errorf("eval knn --baseline noise: exit %d, want 2", code)
	}
	// embed has no baselines, test split subset or seed: such flags are refused, not ignored.
	for _, bad := range [][]string{{"--baseline", "random"}, {"--test-subset", "5"}, {"--seed", "3"}} {
		if code := run(append(append([]string{"embed", "--out", filepath.Join(dir, "x.safetensors")}, common...), bad...)); code != 2 {
			t.Errorf("embed %v: exit %d, want 2", bad, code)
		}
	}
	emb := filepath.Join(dir, "emb.safetensors")
	if code := run(append([]string{"embed", "--split", "test", "--out", emb}, common...)); code != 0 {
		t.Fatalf("embed: exit %d", code)
	}
	f, err := safetensors.Read(emb)
	if err != nil || f.Tensors["features"] == nil || f.Tensors["labels"] == nil || f.Tensors["features"].Shape[0] != 20 {
		t.Fatalf("embed output: %v %v", f, err)
	}
	if md := f.Metadata; md["data"] != "cifar10" || md["data_dir"] != dir || md["split"] != "test" || md["subset"] != "20" || f.Tensors["images"] != nil {
		t.Errorf("embed without --images: metadata %v (want where the images are), tensors %v", md, f.Names())
	}
	if code := run(append([]string{"embed", "--split", "test", "--images", "--out", emb}, common...)); code != 0 {
		t.Fatalf("embed --images: exit %d", code)
	}
	if f, err = safetensors.Read(emb); err != nil || f.Tensors["images"] == nil || fmt.Sprint(f.Tensors["images"].Shape) != "[20 32 32 3]" || f.Tensors["images"].DType != "U8" {
		t.Fatalf("embed --images: %v, want images U8 [20 32 32 3]", err)
	}
	// Errors: a missing split, a missing checkpoint, a dataset whose images
	// do not fit the encoder, bad flags.
	if code := run([]string{"eval", "knn", "--checkpoint", filepath.Join(dir, "nope.safetensors"), "--data", "cifar10", "--data-dir", dir}); code == 0 {
		t.Error("eval with a missing checkpoint succeeded")
	}
	if code := run(append([]string{"eval", "linear", "--epochs", "0"}, common...)); code != 2 {
		t.Errorf("eval linear --epochs 0: exit %d, want 2", code)
	}
	os.Remove(filepath.Join(dir, "cifar-10-batches-bin", "test_batch.bin"))
	if code := run(append([]string{"eval", "knn"}, common...)); code != 1 {
		t.Errorf("eval without a test split: exit %d, want 1", code)
	}
	if code := run([]string{"model", "summary", "--width", "8", "--layers=false"}); code != 0 {
		t.Errorf("model summary: exit %d", code)
	}
}

// captureOutput runs f and returns what it wrote to stdout and stderr.
func captureOutput(f func()) string {
	r, w, _ := os.Pipe()
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	f()
	w.Close()
	os.Stdout, os.Stderr = stdout, stderr
	return string(<-done)
}
