package model

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/model/safetensors"
)

func testCheckpoint(t *testing.T, cfg Config) (*Graph, *Checkpoint) {
	g, err := Build(cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	ck := &Checkpoint{Params: make([]float32, g.NParams), State: make([]float32, g.NState), BatchesTracked: 17,
		Opt: map[string][]float32{"momentum": Randn32(g.NParams, 3)}, Meta: map[string]string{"epoch": "2", "step": "40"}}
	g.Init(5, ck.Params, ck.State)
	for _, st := range g.Stats { // (the alignment gaps between stats are not saved)
		for i := 0; i < st.C; i++ {
			ck.State[st.MeanOff+i] += float32(i%7) * 0.25
			ck.State[st.VarOff+i] += float32(i%5) * 0.5
		}
	}
	return g, ck
}

func TestCheckpointRoundTripBitIdentical(t *testing.T) {
	for _, cfg := range []Config{tinyConfig("resnet18"), tinyConfig("resnet50"), {Arch: "resnet18", Width: 4, Stem: "imagenet", InChannels: 1, ImageSize: 16}} {
		g, ck := testCheckpoint(t, cfg)
		path := filepath.Join(t.TempDir(), "ck.safetensors")
		if err := g.Save(path, ck); err != nil {
			t.Fatal(err)
		}
		got, err := g.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Params, ck.Params) || !slices.Equal(got.State, ck.State) || !slices.Equal(got.Opt["momentum"], ck.Opt["momentum"]) {
			t.Fatalf("%s: round trip differs", cfg.Arch)
		}
		if got.BatchesTracked != 17 || got.Meta["step"] != "40" || got.EncoderOnly != (cfg.ProjHidden == 0) {
			t.Fatalf("metadata: %+v", got.Meta)
		}
		rc, _, err := ReadConfig(path)
		if err != nil || rc != cfg {
			t.Fatalf("config %+v, %v", rc, err)
		}
		// Saving what was loaded gives the same bytes.
		path2 := filepath.Join(t.TempDir(), "ck2.safetensors")
		if err := g.Save(path2, got); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(path)
		b, _ := os.ReadFile(path2)
		if !slices.Equal(a, b) {
			t.Fatal("save(load(save(x))) differs from save(x)")
		}
	}
}

func TestCheckpointTorchvisionLayout(t *testing.T) {
	g, ck := testCheckpoint(t, tinyConfig("resnet18"))
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := g.Save(path, ck); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, shape := range map[string][]int{
		"conv1.weight":                       {2, 3, 3, 3},
		"bn1.running_var":                    {2},
		"layer2.0.downsample.0.weight":       {4, 2, 1, 1},
		"layer4.1.conv2.weight":              {16, 16, 3, 3},
		"projector.0.weight":                 {6, 16},
		"projector.2.bias":                   {5},
		"layer3.0.downsample.1.running_mean": {8},
	} {
		tn, ok := f.Tensors[name]
		if !ok || !slices.Equal(tn.Shape, shape) {
			t.Errorf("%s: %v, want shape %v", name, tn, shape)
		}
	}
	if n := f.Tensors["bn1.num_batches_tracked"]; n == nil || n.DType != "I64" || len(n.Shape) != 0 {
		t.Error("num_batches_tracked is not an int64 scalar")
	}
	// conv1.weight[k=1, c=2, r=0, s=1] is device (r=0, s=1, c=2, k=1).
	w, _ := f.Tensors["conv1.weight"].Float32s()
	p := g.Params[0]
	if w[((1*3+2)*3+0)*3+1] != ck.Params[p.Offset+((0*3+1)*4+2)*2+1] {
		t.Error("conv weight not in [K, C, R, S] order")
	}
}

func TestCheckpointErrors(t *testing.T) {
	g, ck := testCheckpoint(t, tinyConfig("resnet18"))
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	if err := g.Save(good, ck); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	rewrite := func(name string, edit func(f *safetensors.File)) string {
		f, _ := safetensors.Read(good)
		edit(f)
		p := filepath.Join(dir, name)
		if err := safetensors.Write(p, f); err != nil {
			t.Fatal(err)
		}
		return p
	}
	corrupt := append([]byte(nil), data...)
	copy(corrupt[8:], "{garbage")
	for _, tc := range []struct {
		name, path, want string
	}{
		{"truncated", write("trunc.safetensors", data[:len(data)/2]), "safetensors"},
		{"corrupt header", write("corrupt.safetensors", corrupt), "safetensors"},
		{"missing tensor", rewrite("missing.safetensors", func(f *safetensors.File) { delete(f.Tensors, "layer3.1.conv2.weight") }), `"layer3.1.conv2.weight" is missing`},
		{"wrong shape", rewrite("shape.safetensors", func(f *safetensors.File) {
			f.Tensors["bn1.weight"] = safetensors.F32("bn1.weight", []int{3}, []float32{1, 2, 3})
		}), `"bn1.weight": shape [3], the model needs [2]`},
		{"foreign tensor", rewrite("extra.safetensors", func(f *safetensors.File) {
			f.Add(safetensors.F32("layer5.0.conv1.weight", []int{1}, []float32{1}))
		}), `"layer5.0.conv1.weight": not a tensor of resnet18`},
		{"NaN weight", rewrite("nan.safetensors", func(f *safetensors.File) {
			v, _ := f.Tensors["layer2.0.conv1.weight"].Float32s()
			v[len(v)-1] = float32(math.NaN())
			f.Tensors["layer2.0.conv1.weight"] = safetensors.F32("layer2.0.conv1.weight", f.Tensors["layer2.0.conv1.weight"].Shape, v)
		}), `"layer2.0.conv1.weight": element`},
		{"Inf running var", rewrite("inf.safetensors", func(f *safetensors.File) {
			f.Tensors["bn1.running_var"] = safetensors.F32("bn1.running_var", []int{2}, []float32{1, float32(math.Inf(1))})
		}), `"bn1.running_var": element 1 is +Inf`},
		{"NaN optimizer state", rewrite("nanopt.safetensors", func(f *safetensors.File) {
			v, _ := f.Tensors["optimizer.momentum"].Float32s()
			v[0] = float32(math.NaN())
			f.Tensors["optimizer.momentum"] = safetensors.F32("optimizer.momentum", []int{len(v)}, v)
		}), `"optimizer.momentum": element 0 is NaN`},
		{"no file", filepath.Join(dir, "nope.safetensors"), "no such file"},
	} {
		_, err := g.Load(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	// A torchvision-style encoder-only dict (with fc) loads as an initialisation.
	enc := rewrite("enc.safetensors", func(f *safetensors.File) {
		for n := range f.Tensors {
			if strings.HasPrefix(n, "projector.") || strings.HasPrefix(n, "optimizer.") {
				delete(f.Tensors, n)
			}
		}
		f.Add(safetensors.F32("fc.weight", []int{10, 16}, make([]float32, 160)))
		f.Metadata = nil
	})
	got, err := g.Load(enc)
	if err != nil || !got.EncoderOnly {
		t.Fatalf("encoder-only dict: %v", err)
	}
	if _, _, err := ReadConfig(enc); err == nil {
		t.Error("ReadConfig accepted a file without a model configuration")
	}
}
