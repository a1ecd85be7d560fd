package model

import (
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestActivationShapes: every layer's output shape, for ResNet-18/34/50
// with both stems at several sizes (odd ones included), is torchvision's,
// as recorded by tools/torchref/shapes.py in testdata. Every recorded layer
// exists in the graph and every encoder layer of the graph is recorded.
func TestActivationShapes(t *testing.T) {
	b, err := os.ReadFile("testdata/torchvision_shapes.json")
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Torchvision string
		Models      map[string]map[string][3]int
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Models) != 18 {
		t.Fatalf("%d models recorded, want 3 archs x 2 stems x 3 sizes", len(rec.Models))
	}
	keys := make([]string, 0, len(rec.Models))
	for k := range rec.Models {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		want := rec.Models[key]
		t.Run(key, func(t *testing.T) {
			f := strings.Split(key, "/")
			size, err := strconv.Atoi(f[2])
			if err != nil || len(f) != 3 {
				t.Fatalf("bad key %q", key)
			}
			cfg := Config{Arch: f[0], Width: 64, Stem: f[1], InChannels: 3, ImageSize: size}
			g, err := Build(cfg, 2)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][3]int{}
			for _, l := range g.Layers {
				o := g.Tensors[l.Out]
				got[l.Name] = [3]int{o.C, o.H, o.W}
			}
			for name, w := range want {
				if gs, ok := got[name]; !ok {
					t.Errorf("%s: torchvision's layer %s is not in the graph", key, name)
				} else if gs != w {
					t.Errorf("%s: %s output (C, H, W) = %v, torchvision %v", key, name, gs, w)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("%s: layer %s has no torchvision shape", key, name)
				}
			}
			if len(want) < 20 {
				t.Errorf("%s: only %d layers recorded", key, len(want))
			}
		})
	}
}
