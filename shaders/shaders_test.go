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

// TestNoSampledBufferImages: texel-buffer inputs are textureBuffer read with texelFetch
// (GL_EXT_samplerless_texture_functions), never samplerBuffer. glslc compiles samplerBuffer to an
// OpTypeSampledImage of an image whose Dim is Buffer, which SPIR-V before 1.6 says "should not" be
// (from 1.6: "must not"); Mesa 25's SPIR-V front end (lavapipe, RADV, ANV) reports every such module
// as a warning through the debug messenger, which vkclr counts as a validation message, so every
// test with the validation layer on failed there (BENCHMARKS.md, "Mesa 25.0.7 built on Debian 12's
// LLVM 19"). Debian 12's Mesa 22.3 does not warn, so this reads the modules themselves.
func TestNoSampledBufferImages(t *testing.T) {
	const opTypeImage, opTypeSampledImage, dimBuffer = 25, 27, 5
	for _, n := range Names() {
		b := SPIRV(n)
		word := func(i int) uint32 {
			return uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24
		}
		dim := map[uint32]uint32{} // OpTypeImage result id -> Dim
		for i := 5; i < len(b)/4; {
			op, count := word(i)&0xffff, int(word(i)>>16)
			if count == 0 || i+count > len(b)/4 {
				t.Fatalf("%s: malformed instruction at word %d", n, i)
			}
			switch {
			case op == opTypeImage && count >= 4:
				dim[word(i+1)] = word(i + 3)
			case op == opTypeSampledImage && count >= 3 && dim[word(i+2)] == dimBuffer:
				t.Errorf("%s: a sampled image of Dim Buffer (a samplerBuffer): declare the input as textureBuffer", n)
			}
			i += count
		}
	}
}
