package model

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/model/safetensors"
)

// encoderDict writes g's checkpoint ck as torchvision would save the encoder alone: no head, no
// optimizer state, no vkclr metadata, with a classifier fc.
func encoderDict(t *testing.T, g *Graph, ck *Checkpoint) string {
	t.Helper()
	dir := t.TempDir()
	full := filepath.Join(dir, "full.safetensors")
	if err := g.Save(full, ck); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(full)
	if err != nil {
		t.Fatal(err)
	}
	for n := range f.Tensors {
		if strings.HasPrefix(n, "projector.") || strings.HasPrefix(n, "optimizer.") {
			delete(f.Tensors, n)
		}
	}
	f.Add(safetensors.F32("fc.weight", []int{10, g.Cfg.FeatureDim()}, make([]float32, 10*g.Cfg.FeatureDim())))
	f.Metadata = nil
	path := filepath.Join(dir, "encoder.safetensors")
	if err := safetensors.Write(path, f); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestInitEncoder(t *testing.T) {
	for _, cfg := range []Config{tinyConfig("resnet18"), tinyConfig("resnet50"), {Arch: "resnet18", Width: 4, Stem: "imagenet", InChannels: 1, ImageSize: 16, ProjHidden: 6, ProjDim: 5}} {
		g, ck := testCheckpoint(t, cfg)
		path := encoderDict(t, g, ck)
		e, err := InspectEncoder(path)
		if err != nil || e.Arch != cfg.Arch || e.Width != cfg.Width || e.Stem != cfg.Stem || e.InChannels != cfg.InChannels {
			t.Fatalf("%s: InspectEncoder %+v, %v", cfg.Arch, e, err)
		}
		// A fresh init from another seed, then the file's encoder: the encoder is the file's, the head
		// the seed's.
		p, st := make([]float32, g.NParams), make([]float32, g.NState)
		g.Init(9, p, st)
		p0 := slices.Clone(p)
		if err := g.InitEncoder(path, p, st); err != nil {
			t.Fatalf("%s: %v", cfg.Arch, err)
		}
		for _, prm := range g.Params {
			got, want := p[prm.Offset:prm.Offset+prm.Len], ck.Params[prm.Offset:prm.Offset+prm.Len]
			if isHead(prm.Name) {
				want = p0[prm.Offset : prm.Offset+prm.Len]
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %s not taken from the right source", cfg.Arch, prm.Name)
			}
		}
		for _, s := range g.Stats {
			if !isHead(s.Prefix) && !slices.Equal(st[s.MeanOff:s.MeanOff+s.C], ck.State[s.MeanOff:s.MeanOff+s.C]) {
				t.Fatalf("%s: %s running mean not loaded", cfg.Arch, s.Prefix)
			}
		}
	}
	// Each mismatch names the flag to pass.
	g, ck := testCheckpoint(t, tinyConfig("resnet18"))
	path := encoderDict(t, g, ck)
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Width = 4 }, "--width 2 (this run: 4)"},
		{func(c *Config) { c.Stem = "imagenet"; c.ImageSize = 32 }, "--stem cifar (this run: imagenet)"},
		{func(c *Config) { c.Arch = "resnet34" }, "--arch resnet18 (this run: resnet34)"},
		{func(c *Config) { c.InChannels = 1 }, "3 input channels (this dataset: 1)"},
	} {
		cfg := tinyConfig("resnet18")
		tc.edit(&cfg)
		g2, err := Build(cfg, 2)
		if err != nil {
			t.Fatal(err)
		}
		p, st := make([]float32, g2.NParams), make([]float32, g2.NState)
		err = g2.InitEncoder(path, p, st)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("mismatch: error %v, want it to say %q", err, tc.want)
		}
	}
}
