// Package shaders embeds vkclr's compute shaders, compiled to SPIR-V.
//
// Sources are shaders/*.comp with shared shaders/*.glsl includes; the
// compiled modules in shaders/spv are committed so building vkclr needs no
// shader compiler. After editing a source run `make shaders` (or
// `go generate ./shaders`); `go test ./shaders` fails when a source changed
// without recompiling.
package shaders

//go:generate go run ../tools/shadergen -dir .

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed spv/*.spv
var spv embed.FS

// SPIRV returns the module compiled as spv/NAME.spv. A missing module is a
// programmer error (the name is a constant in ops), so it panics.
func SPIRV(name string) []byte {
	b, err := spv.ReadFile("spv/" + name + ".spv")
	if err != nil {
		panic(fmt.Sprintf("shaders: no module %q; run 'make shaders'", name))
	}
	return b
}

// Names lists every embedded module.
func Names() []string {
	ents, _ := spv.ReadDir("spv")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".spv"))
	}
	sort.Strings(out)
	return out
}
