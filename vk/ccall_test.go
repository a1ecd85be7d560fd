package vk

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// unsafeBindingCalls are the binding's functions that copy a slice of structs
// into C memory freed by a finalizer (its unpackArgS* and unpackS* helpers),
// or store a Go pointer in C memory: a collection during the call can free
// what the driver reads (ccall.h). vk makes these calls from C instead.
var unsafeBindingCalls = map[string]bool{
	"QueueSubmit": true, "CreateDescriptorSetLayout": true, "CreatePipelineLayout": true,
	"CreateComputePipelines": true, "CreateGraphicsPipelines": true, "CreateDescriptorPool": true,
	"AllocateDescriptorSets": true, "UpdateDescriptorSets": true, "BeginCommandBuffer": true,
	"CmdPipelineBarrier": true, "CmdCopyBuffer": true, "CmdCopyBufferToImage": true,
	"CmdCopyImageToBuffer": true, "CreateShaderModule": true, "CreatePipelineCache": true,
	"FlushMappedMemoryRanges": true, "InvalidateMappedMemoryRanges": true, "CreateSwapchain": true,
}

// TestNoUnsafeBindingCalls reads vk's own sources and fails on any call of
// the functions above through the binding.
func TestNoUnsafeBindingCalls(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var bad []string
	for _, fn := range files {
		if strings.HasSuffix(fn, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, fn, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "vk" && unsafeBindingCalls[sel.Sel.Name] {
				bad = append(bad, fset.Position(call.Pos()).String()+": vk."+sel.Sel.Name)
			}
			return true
		})
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Fatalf("binding calls whose C copies a collection can free (make them from C, ccall.h):\n%s", strings.Join(bad, "\n"))
	}
}
