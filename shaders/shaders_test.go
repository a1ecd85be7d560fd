package shaders

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/shaders/manifest"
)

// TestCompiledIsCurrent fails when a source or include changed after the
// last `make shaders`, without needing glslc.
func TestCompiledIsCurrent(t *testing.T) {
	srcs, err := filepath.Glob("*.comp")
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) == 0 {
		t.Fatal("no shader sources found")
	}
	for _, src := range srcs {
		h, err := manifest.Hash(src)
		if err != nil {
			t.Fatal(err)
		}
		if want, ok := sourceHashes[src]; !ok {
			t.Errorf("%s was never compiled: run 'make shaders' and commit shaders/spv", src)
		} else if h != want {
			t.Errorf("%s (or an include) changed since it was compiled: run 'make shaders' and commit shaders/spv", src)
		}
		vars, err := manifest.Variants(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vars {
			if _, err := os.Stat(filepath.Join("spv", v.Output)); err != nil {
				t.Errorf("%s: compiled module %s missing: run 'make shaders'", src, v.Output)
			}
		}
	}
	for name := range sourceHashes {
		if _, err := os.Stat(name); err != nil {
			t.Errorf("manifest names %s, which no longer exists: run 'make shaders'", name)
		}
	}
}

func TestModulesAreSPIRV(t *testing.T) {
	for _, n := range Names() {
		b := SPIRV(n)
		if len(b) < 20 || len(b)%4 != 0 || !strings.HasPrefix(string(b[:4]), "\x03\x02\x23\x07") {
			t.Errorf("%s: not a SPIR-V module (%d bytes)", n, len(b))
		}
	}
}
