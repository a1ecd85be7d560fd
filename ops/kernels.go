// Package ops holds vkclr's kernels: for each op a params struct, a Go
// dispatcher that records it into a vk.Seq, and (in ops/ref) its plain-Go
// CPU reference. Activations are channels-last (N, H, W, C); conv weights
// are (R, S, C, K); linear weights are (I, O). See ../shared/KERNELS.md.
//
// Adding an op is local: one .comp (or a few), one Go file that registers
// its kernels in init() and records them, and one row in the test table.
// Every pipeline's layouts are made for the device when Kernels is, with its workgroup size chosen
// from the capability report, so recording never fails; the pipeline itself is compiled at the first
// Run of a Seq that dispatches it (vk.Context.Compile), so a command pays only for the kernels it
// uses. CompileAll builds them all at once (the tests and selftest).
package ops

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/vkclr/vkclr/shaders"
	"github.com/vkclr/vkclr/vk"
)

// kernelDef describes one compute pipeline.
type kernelDef struct {
	// module is the SPIR-V name (shaders/spv/NAME.spv).
	module   string
	bindings []vk.DescKind
	push     uint32
	// spec gives the specialization constants for a device (ids 0-2 are the
	// workgroup size); nil means a 64x1x1 workgroup.
	spec func(c *vk.Caps) []uint32
}

var registry = map[string]kernelDef{}

// register adds a kernel; call it from init.
func register(name string, d kernelDef) {
	if _, dup := registry[name]; dup {
		panic("ops: duplicate kernel " + name)
	}
	registry[name] = d
}

// Kernels holds the pipelines of every kernel for one device.
type Kernels struct {
	Ctx   *vk.Context
	pipes map[string]*vk.Pipeline
	// Variant is the GEMM-shaped kernels' style: "cpu" (register tiles and
	// texel-buffer loads, for CPU drivers) or "gpu" (shared-memory tiles).
	Variant string
	// Plain keeps the cpu variant's GEMMs and direct convolutions off their subgroup-shuffle forms
	// (shared8, sharedConv), and its store-bound kernels off their _x8 forms (x8), even where the
	// device takes them, so tests cover both on one device.
	Plain bool
	// Square keeps the gpu variant's convolutions on gpuLocal's 128 x 128 block for every shape
	// instead of the narrow blocks for outputs of 64 columns or fewer (gpuConvPipe); the environment's
	// VKCLR_GPU_NARROW=0 sets it.
	Square bool
	// Whole keeps the gpu variant's GEMMs unsplit (gemmChunks), to compare split K against them; the
	// environment's VKCLR_GPU_SPLIT=0 sets it.
	Whole bool
	// lanes overrides where the Winograd transforms take their channel-a-lane forms (c1At): 0 from the
	// driver, 1 wherever the shape allows, -1 nowhere; the environment's VKCLR_WINO_C1 (1 or 0) sets it.
	lanes int
}

// Options tune kernel selection.
type Options struct {
	// Variant forces "cpu" or "gpu" kernels ("" chooses from the device), so
	// both paths can be tested on any device.
	Variant string
}

// New registers every kernel's pipeline with c's device (layouts now, compiled at first use).
func New(c *vk.Context, opt Options) (*Kernels, error) {
	k := &Kernels{Ctx: c, pipes: map[string]*vk.Pipeline{}, Variant: opt.Variant, Square: os.Getenv("VKCLR_GPU_NARROW") == "0",
		Whole: os.Getenv("VKCLR_GPU_SPLIT") == "0"}
	switch os.Getenv("VKCLR_WINO_C1") {
	case "1":
		k.lanes = 1
	case "0":
		k.lanes = -1
	}
	if k.Variant == "" {
		k.Variant = "gpu"
		if c.Caps.IsCPU() {
			k.Variant = "cpu"
		}
	}
	if k.Variant != "cpu" && k.Variant != "gpu" {
		return nil, fmt.Errorf("ops: unknown kernel variant %q (cpu or gpu)", k.Variant)
	}
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if needsInt64(n) && !c.Caps.Int64 {
			continue // without shaderInt64 these modules are invalid; x8 never asks for them there
		}
		d := registry[n]
		spec := []uint32{64, 1, 1}
		if d.spec != nil {
			spec = d.spec(&c.Caps)
		}
		p, err := c.Pipeline(vk.PipelineSpec{Name: n, SPIRV: shaders.SPIRV(d.module), Bindings: d.bindings, PushSize: d.push, Spec: spec})
		if err != nil {
			return nil, fmt.Errorf("ops: %w", err)
		}
		k.pipes[n] = p
	}
	return k, nil
}

// CompileAll compiles every pipeline New registered (in name order), which a command otherwise
// does only for the kernels it runs: the tests and `vkclr selftest` call it so that a module the
// device rejects is found even where no test dispatches it.
func (k *Kernels) CompileAll() error {
	names := make([]string, 0, len(k.pipes))
	for n := range k.pipes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := k.Ctx.Compile(k.pipes[n]); err != nil {
			return fmt.Errorf("ops: %w", err)
		}
	}
	return nil
}

// x8 reports whether the cpu variant takes the _x8 forms of its store-bound kernels (the Winograd
// transforms and GEMMs, the direct forward and backward-data kernels, im2col, batchnorm's apply
// passes), which store eight floats at a time as one 32-byte vector of 64-bit integers (common.glsl):
// they need shaderInt64 (New does not even create them without it), and Plain keeps them off so tests
// compare both forms on one device. Where a destination's offset or row length is not a multiple of 8
// the callers keep the vec4 forms. Same bytes, half the store instructions: on lavapipe each is a
// loop over the lanes (BENCHMARKS.md, "eight floats a store").
func (k *Kernels) x8() bool { return k.Variant == "cpu" && !k.Plain && k.Ctx.Caps.Int64 }

// x8At reports whether a kernel whose destination rows are n floats long and start at float off of
// their binding takes its _x8 form: x8, and both multiples of 8 (its 32-byte stores).
func (k *Kernels) x8At(n, off int) bool { return k.x8() && n%8 == 0 && off%8 == 0 }

// needsInt64 reports whether kernel name uses 64-bit integers: the _x8 forms (_x8 anywhere in the
// name: conv2d_winograd_out_f4_x8_add is one), which store eight floats as four of them (Kernels.x8).
// TestInt64OnlyInX8 checks every module's SPIR-V against it.
func needsInt64(name string) bool { return strings.Contains(name, "_x8") }

// pipe returns a registered pipeline; an unknown name is a programmer error.
func (k *Kernels) pipe(name string) *vk.Pipeline {
	p, ok := k.pipes[name]
	if !ok {
		panic("ops: no kernel " + name)
	}
	return p
}

// local1D is the workgroup size of 1-D elementwise kernels: a multiple of the
// subgroup size near 256 invocations (64 on CPU drivers, where each
// workgroup runs on one thread and smaller groups balance better).
func local1D(c *vk.Caps) []uint32 {
	n := uint32(256)
	if c.IsCPU() {
		n = 64
	}
	if sg := c.SubgroupSize; sg > 0 && n%sg != 0 {
		n = (n/sg + 1) * sg
	}
	if n > c.MaxWorkgroupInvoc {
		n = c.MaxWorkgroupInvoc
	}
	return []uint32{n, 1, 1}
}

// dispatch1D records a 1-D kernel over n invocations.
func (k *Kernels) dispatch1D(s *vk.Seq, name string, n int, push []byte, binds ...vk.Binding) {
	p := k.pipe(name)
	gx, gy, gz := vk.Grid1D(k.Ctx, n, int(p.Spec[0]))
	s.Dispatch(p, gx, gy, gz, push, binds...)
}

// F32 binds n float32s from element off of b.
func F32(b *vk.Buffer, off, n int) vk.Binding { return b.Slice(uint64(4*off), uint64(4*n)) }
