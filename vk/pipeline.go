package vk

// #include "ccall.h"
import "C"

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// DescKind is how a shader binding reads its buffer.
type DescKind int

const (
	// Storage is a storage buffer (read/write, std430).
	Storage DescKind = iota
	// TexelVec4 is a read-only uniform texel buffer of RGBA32F texels
	// (textureBuffer, read with texelFetch): the fast vectorised load path on lavapipe.
	TexelVec4
	// TexelFloat is a read-only uniform texel buffer of R32F texels.
	TexelFloat
)

func (k DescKind) descriptorType() vk.DescriptorType {
	if k == Storage {
		return vk.DescriptorTypeStorageBuffer
	}
	return vk.DescriptorTypeUniformTexelBuffer
}

// PipelineSpec describes a compute pipeline: its SPIR-V, the kind of each
// binding (set 0, bindings 0..n-1), the push-constant block size, and the
// specialization constants (constant_id i gets Spec[i]; ids 0-2 are the
// workgroup size by convention).
type PipelineSpec struct {
	Name     string
	SPIRV    []byte
	Bindings []DescKind
	PushSize uint32
	Spec     []uint32
}

// Pipeline is a compute pipeline with its layouts. The layouts are made when it is; the
// VkPipeline itself is compiled at the first build of a Seq that dispatches it (compile), so a
// process pays only for the kernels it runs: on lavapipe, creating all of vkclr's ~400 pipelines
// took 7 s of every command's start (BENCHMARKS.md, "pipelines on first use").
type Pipeline struct {
	Name     string
	Spec     []uint32
	bindings []DescKind
	push     uint32
	dsl      vk.DescriptorSetLayout
	layout   vk.PipelineLayout
	spirv    []byte

	mu  sync.Mutex // guards h and err: Seqs of several goroutines may build at once
	h   vk.Pipeline
	err error // a failed compile, returned again rather than retried
}

func (s PipelineSpec) key() string {
	var b strings.Builder
	b.WriteString(s.Name)
	for _, v := range s.Spec {
		fmt.Fprintf(&b, ",%d", v)
	}
	return b.String()
}

// Pipeline returns the pipeline for spec (cached per context by name and specialization
// constants): its layouts now, the pipeline itself at its first dispatch's build (Compile).
func (c *Context) Pipeline(spec PipelineSpec) (*Pipeline, error) {
	key := spec.key()
	c.mu.Lock()
	p, ok := c.pipelines[key]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	if spec.PushSize > c.Caps.MaxPushConstants || spec.PushSize%4 != 0 {
		return nil, fmt.Errorf("vk: pipeline %s: push constants of %d bytes (device limit %d, multiple of 4)", spec.Name, spec.PushSize, c.Caps.MaxPushConstants)
	}
	if len(spec.SPIRV) == 0 || len(spec.SPIRV)%4 != 0 {
		return nil, fmt.Errorf("vk: pipeline %s: SPIR-V of %d bytes is not a module", spec.Name, len(spec.SPIRV))
	}
	p = &Pipeline{Name: spec.Name, Spec: append([]uint32(nil), spec.Spec...), bindings: spec.Bindings, push: spec.PushSize, spirv: spec.SPIRV}
	if err := c.createLayouts(p); err != nil {
		p.destroy(c)
		return nil, fmt.Errorf("pipeline %s: %w", spec.Name, err)
	}
	c.mu.Lock()
	c.pipelines[key] = p
	c.mu.Unlock()
	return p, nil
}

func (c *Context) createLayouts(p *Pipeline) error {
	types := make([]C.uint32_t, len(p.bindings)+1) // +1: never empty, so &types[0] is valid
	for i, k := range p.bindings {
		types[i] = C.uint32_t(k.descriptorType())
	}
	var dsl C.VkDescriptorSetLayout
	if err := check("vkCreateDescriptorSetLayout", vk.Result(C.vkclr_set_layout(&c.fns, c.cdev(), C.uint32_t(len(p.bindings)), &types[0], &dsl))); err != nil {
		return err
	}
	p.dsl = vk.DescriptorSetLayout(unsafe.Pointer(dsl))
	var layout C.VkPipelineLayout
	if err := check("vkCreatePipelineLayout", vk.Result(C.vkclr_pipeline_layout(&c.fns, c.cdev(), dsl, C.uint32_t(p.push), &layout))); err != nil {
		return err
	}
	p.layout = vk.PipelineLayout(unsafe.Pointer(layout))
	return nil
}

// Compile creates p's VkPipeline if it has none yet; Seq's first build calls it for every pipeline
// it dispatches. A failure is kept and returned again, naming the pipeline. Tests and `vkclr
// selftest` call it for every kernel (ops.Kernels.CompileAll) so that no pipeline goes unbuilt.
func (c *Context) Compile(p *Pipeline) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.h != vk.NullPipeline || p.err != nil {
		return p.err
	}
	p.err = c.compile(p)
	if p.err != nil {
		p.err = fmt.Errorf("pipeline %s: %w", p.Name, p.err)
	}
	return p.err
}

// Compiled reports whether p's VkPipeline exists yet.
func (p *Pipeline) Compiled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.h != vk.NullPipeline
}

func (c *Context) compile(p *Pipeline) error {
	var cmod C.VkShaderModule
	if err := check("vkCreateShaderModule", vk.Result(C.vkclr_shader_module(&c.fns, c.cdev(), C.size_t(len(p.spirv)),
		(*C.uint32_t)(unsafe.Pointer(&p.spirv[0])), &cmod))); err != nil {
		return err
	}
	mod := vk.ShaderModule(unsafe.Pointer(cmod))
	defer vk.DestroyShaderModule(c.dev, mod, nil)
	spec := make([]C.uint32_t, len(p.Spec)+1) // +1: never empty, so &spec[0] is valid
	for i, v := range p.Spec {
		spec[i] = C.uint32_t(v)
	}
	var h C.VkPipeline
	if err := check("vkCreateComputePipelines", vk.Result(C.vkclr_compute_pipeline(&c.fns, c.cdev(),
		C.VkPipelineCache(unsafe.Pointer(c.cache)), cmod,
		C.VkPipelineLayout(unsafe.Pointer(p.layout)), C.uint32_t(len(p.Spec)), &spec[0], &h))); err != nil {
		return err
	}
	p.h = vk.Pipeline(unsafe.Pointer(h))
	return nil
}

func (p *Pipeline) destroy(c *Context) {
	if p.h != vk.NullPipeline {
		vk.DestroyPipeline(c.dev, p.h, nil)
	}
	if p.layout != vk.NullPipelineLayout {
		vk.DestroyPipelineLayout(c.dev, p.layout, nil)
	}
	if p.dsl != vk.NullDescriptorSetLayout {
		vk.DestroyDescriptorSetLayout(c.dev, p.dsl, nil)
	}
}

// Push encodes push constants: ints as int32, uint32 as is, floats as float32,
// all little-endian, in order (std430 scalars, 4 bytes each).
func Push(values ...any) []byte {
	out := make([]byte, 0, 4*len(values))
	for _, v := range values {
		var u uint32
		switch x := v.(type) {
		case int:
			u = uint32(int32(x))
		case int32:
			u = uint32(x)
		case uint32:
			u = x
		case float32:
			u = math.Float32bits(x)
		case float64:
			u = math.Float32bits(float32(x))
		case bool:
			if x {
				u = 1
			}
		default:
			panic(fmt.Sprintf("vk.Push: unsupported %T", v))
		}
		out = binary.LittleEndian.AppendUint32(out, u)
	}
	return out
}

// pipelineCachePath is per device: the cache header names the device anyway,
// but separate files keep two GPUs from evicting each other.
func (c *Context) pipelineCachePath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "vkclr", fmt.Sprintf("pipelines-%04x-%04x-%x.bin", c.Caps.VendorID, c.Caps.DeviceID, c.Caps.raw.uuid[:8]))
}

func (c *Context) openPipelineCache() {
	c.cacheFn = c.pipelineCachePath()
	if c.cacheFn == "" {
		return
	}
	data, err := os.ReadFile(c.cacheFn)
	if err != nil || len(data) == 0 {
		return
	}
	var pc C.VkPipelineCache
	if C.vkclr_pipeline_cache(&c.fns, c.cdev(), C.size_t(len(data)), unsafe.Pointer(&data[0]), &pc) == C.VK_SUCCESS {
		c.cache = vk.PipelineCache(unsafe.Pointer(pc))
	}
}

func (c *Context) createPipelineCacheIfNone() error {
	if c.cache != vk.NullPipelineCache {
		return nil
	}
	var pc C.VkPipelineCache
	if err := check("vkCreatePipelineCache", vk.Result(C.vkclr_pipeline_cache(&c.fns, c.cdev(), 0, nil, &pc))); err != nil {
		return err
	}
	c.cache = vk.PipelineCache(unsafe.Pointer(pc))
	return nil
}

// savePipelineCache writes the cache atomically; failures only cost speed.
func (c *Context) savePipelineCache() {
	if c.cacheFn == "" || c.cache == vk.NullPipelineCache || c.lost.Load() {
		return
	}
	var n uint
	if vk.GetPipelineCacheData(c.dev, c.cache, &n, nil) != vk.Success || n == 0 {
		return
	}
	data := make([]byte, n)
	if vk.GetPipelineCacheData(c.dev, c.cache, &n, unsafe.Pointer(&data[0])) != vk.Success {
		return
	}
	if err := os.MkdirAll(filepath.Dir(c.cacheFn), 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.cacheFn), ".pipelines-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data[:n])
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), c.cacheFn) != nil {
		os.Remove(tmp.Name())
	}
}
