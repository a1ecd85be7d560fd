// ccall.h: the Vulkan calls that take arrays of structs, made from C.
//
// github.com/vulkan-go/vulkan copies a slice of structs into C memory that a
// finalizer frees; the finalizer is set on a temporary that is unreachable as
// soon as the binding's helper returns, so a garbage collection during the
// call can free what the driver is reading (seen as vkQueueSubmit reading a
// garbage sType, corrupted pipeline flags, and segfaults in
// vkUpdateDescriptorSets). Its helpers for vkCreateShaderModule and
// vkCreatePipelineCache store a Go pointer (the code, the data) in C memory,
// which cgo forbids (GOEXPERIMENT=cgocheck2 stops on it; make test runs
// under it). These calls build their structs on the C stack
// instead, from flat arrays of plain values, and call the driver through
// function pointers loaded once per device. No Go memory they read holds a
// Go pointer, so cgo's rules hold and the collector never matters.
#ifndef VKCLR_CCALL_H
#define VKCLR_CCALL_H
#include <stdint.h>
#include <vulkan/vulkan.h>

typedef struct {
	PFN_vkQueueSubmit QueueSubmit;
	PFN_vkCreatePipelineCache CreatePipelineCache;
	PFN_vkCreateShaderModule CreateShaderModule;
	PFN_vkCreateDescriptorSetLayout CreateDescriptorSetLayout;
	PFN_vkCreatePipelineLayout CreatePipelineLayout;
	PFN_vkCreateComputePipelines CreateComputePipelines;
	PFN_vkCreateDescriptorPool CreateDescriptorPool;
	PFN_vkAllocateDescriptorSets AllocateDescriptorSets;
	PFN_vkUpdateDescriptorSets UpdateDescriptorSets;
	PFN_vkBeginCommandBuffer BeginCommandBuffer;
	PFN_vkCmdPipelineBarrier CmdPipelineBarrier;
	PFN_vkCmdCopyBuffer CmdCopyBuffer;
} vkclr_fns;

// vkclr_fns_load fills f for dev; it returns the name of the first function
// the driver does not give, or NULL.
const char *vkclr_fns_load(VkInstance inst, VkDevice dev, vkclr_fns *f);

VkResult vkclr_submit(const vkclr_fns *f, VkQueue q, VkCommandBuffer cb, VkFence fence);
// size 0: an empty cache.
VkResult vkclr_pipeline_cache(const vkclr_fns *f, VkDevice dev, size_t size, const void *data, VkPipelineCache *out);
VkResult vkclr_shader_module(const vkclr_fns *f, VkDevice dev, size_t size, const uint32_t *code, VkShaderModule *out);
// types[i] is binding i's descriptor type; every binding is one compute-stage descriptor.
VkResult vkclr_set_layout(const vkclr_fns *f, VkDevice dev, uint32_t n, const uint32_t *types, VkDescriptorSetLayout *out);
// push == 0: no push-constant range.
VkResult vkclr_pipeline_layout(const vkclr_fns *f, VkDevice dev, VkDescriptorSetLayout dsl, uint32_t push, VkPipelineLayout *out);
// spec[i] is specialization constant i (4 bytes each); entry point "main".
VkResult vkclr_compute_pipeline(const vkclr_fns *f, VkDevice dev, VkPipelineCache cache, VkShaderModule mod,
                                VkPipelineLayout layout, uint32_t nspec, const uint32_t *spec, VkPipeline *out);
// A pool for maxSets sets holding nstorage storage buffers and ntexel uniform texel buffers.
VkResult vkclr_descriptor_pool(const vkclr_fns *f, VkDevice dev, uint32_t maxSets, uint32_t nstorage, uint32_t ntexel,
                               VkDescriptorPool *out);
VkResult vkclr_alloc_set(const vkclr_fns *f, VkDevice dev, VkDescriptorPool pool, VkDescriptorSetLayout dsl,
                         VkDescriptorSet *out);
// Writes bindings 0..n-1 of set: a buffer range where types[i] is a storage
// buffer, views[i] otherwise.
void vkclr_write_set(const vkclr_fns *f, VkDevice dev, VkDescriptorSet set, uint32_t n, const uint32_t *types,
                     const VkBuffer *bufs, const uint64_t *offs, const uint64_t *ranges, const VkBufferView *views);
VkResult vkclr_begin(const vkclr_fns *f, VkCommandBuffer cb);
// One global memory barrier.
void vkclr_barrier(const vkclr_fns *f, VkCommandBuffer cb, uint32_t srcStage, uint32_t dstStage, uint32_t srcAccess,
                   uint32_t dstAccess);
void vkclr_copy(const vkclr_fns *f, VkCommandBuffer cb, VkBuffer src, VkBuffer dst, uint64_t srcOff, uint64_t dstOff,
                uint64_t size);
#endif
