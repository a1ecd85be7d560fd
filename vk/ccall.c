// ccall.c: see ccall.h.
#include <string.h>
#include "cvk.h"
#include "ccall.h"

const char *vkclr_fns_load(VkInstance inst, VkDevice dev, vkclr_fns *f) {
	memset(f, 0, sizeof *f);
	PFN_vkGetInstanceProcAddr gipa = (PFN_vkGetInstanceProcAddr)vkclr_gipa();
	if (!gipa) return "vkGetInstanceProcAddr";
	PFN_vkGetDeviceProcAddr gdpa = (PFN_vkGetDeviceProcAddr)gipa(inst, "vkGetDeviceProcAddr");
	if (!gdpa) return "vkGetDeviceProcAddr";
#define LOAD(name)                                                   \
	if (!(f->name = (PFN_vk##name)gdpa(dev, "vk" #name))) return "vk" #name;
	LOAD(QueueSubmit)
	LOAD(CreatePipelineCache)
	LOAD(CreateShaderModule)
	LOAD(CreateDescriptorSetLayout)
	LOAD(CreatePipelineLayout)
	LOAD(CreateComputePipelines)
	LOAD(CreateDescriptorPool)
	LOAD(AllocateDescriptorSets)
	LOAD(UpdateDescriptorSets)
	LOAD(BeginCommandBuffer)
	LOAD(CmdPipelineBarrier)
	LOAD(CmdCopyBuffer)
#undef LOAD
	return NULL;
}

VkResult vkclr_submit(const vkclr_fns *f, VkQueue q, VkCommandBuffer cb, VkFence fence) {
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &cb,
	};
	return f->QueueSubmit(q, 1, &si, fence);
}

VkResult vkclr_pipeline_cache(const vkclr_fns *f, VkDevice dev, size_t size, const void *data, VkPipelineCache *out) {
	VkPipelineCacheCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO, .initialDataSize = size, .pInitialData = size > 0 ? data : NULL};
	return f->CreatePipelineCache(dev, &ci, NULL, out);
}

VkResult vkclr_shader_module(const vkclr_fns *f, VkDevice dev, size_t size, const uint32_t *code, VkShaderModule *out) {
	VkShaderModuleCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = size, .pCode = code};
	return f->CreateShaderModule(dev, &ci, NULL, out);
}

VkResult vkclr_set_layout(const vkclr_fns *f, VkDevice dev, uint32_t n, const uint32_t *types, VkDescriptorSetLayout *out) {
	VkDescriptorSetLayoutBinding b[n > 0 ? n : 1];
	for (uint32_t i = 0; i < n; i++)
		b[i] = (VkDescriptorSetLayoutBinding){
			.binding = i,
			.descriptorType = (VkDescriptorType)types[i],
			.descriptorCount = 1,
			.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
		};
	VkDescriptorSetLayoutCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
		.bindingCount = n,
		.pBindings = n > 0 ? b : NULL,
	};
	return f->CreateDescriptorSetLayout(dev, &ci, NULL, out);
}

VkResult vkclr_pipeline_layout(const vkclr_fns *f, VkDevice dev, VkDescriptorSetLayout dsl, uint32_t push, VkPipelineLayout *out) {
	VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = push};
	VkPipelineLayoutCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
		.setLayoutCount = 1,
		.pSetLayouts = &dsl,
		.pushConstantRangeCount = push > 0 ? 1 : 0,
		.pPushConstantRanges = push > 0 ? &pr : NULL,
	};
	return f->CreatePipelineLayout(dev, &ci, NULL, out);
}

VkResult vkclr_compute_pipeline(const vkclr_fns *f, VkDevice dev, VkPipelineCache cache, VkShaderModule mod,
                                VkPipelineLayout layout, uint32_t nspec, const uint32_t *spec, VkPipeline *out) {
	VkSpecializationMapEntry e[nspec > 0 ? nspec : 1];
	for (uint32_t i = 0; i < nspec; i++)
		e[i] = (VkSpecializationMapEntry){.constantID = i, .offset = 4 * i, .size = 4};
	VkSpecializationInfo si = {.mapEntryCount = nspec, .pMapEntries = e, .dataSize = 4 * (size_t)nspec, .pData = spec};
	VkComputePipelineCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
		.stage =
			{
				.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
				.stage = VK_SHADER_STAGE_COMPUTE_BIT,
				.module = mod,
				.pName = "main",
				.pSpecializationInfo = nspec > 0 ? &si : NULL,
			},
		.layout = layout,
	};
	return f->CreateComputePipelines(dev, cache, 1, &ci, NULL, out);
}

VkResult vkclr_descriptor_pool(const vkclr_fns *f, VkDevice dev, uint32_t maxSets, uint32_t nstorage, uint32_t ntexel,
                               VkDescriptorPool *out) {
	VkDescriptorPoolSize sz[2];
	uint32_t n = 0;
	if (nstorage > 0) sz[n++] = (VkDescriptorPoolSize){.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = nstorage};
	if (ntexel > 0) sz[n++] = (VkDescriptorPoolSize){.type = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, .descriptorCount = ntexel};
	VkDescriptorPoolCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
		.maxSets = maxSets,
		.poolSizeCount = n,
		.pPoolSizes = sz,
	};
	return f->CreateDescriptorPool(dev, &ci, NULL, out);
}

VkResult vkclr_alloc_set(const vkclr_fns *f, VkDevice dev, VkDescriptorPool pool, VkDescriptorSetLayout dsl,
                         VkDescriptorSet *out) {
	VkDescriptorSetAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
		.descriptorPool = pool,
		.descriptorSetCount = 1,
		.pSetLayouts = &dsl,
	};
	return f->AllocateDescriptorSets(dev, &ai, out);
}

void vkclr_write_set(const vkclr_fns *f, VkDevice dev, VkDescriptorSet set, uint32_t n, const uint32_t *types,
                     const VkBuffer *bufs, const uint64_t *offs, const uint64_t *ranges, const VkBufferView *views) {
	if (n == 0) return;
	VkWriteDescriptorSet w[n];
	VkDescriptorBufferInfo bi[n];
	for (uint32_t i = 0; i < n; i++) {
		w[i] = (VkWriteDescriptorSet){
			.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
			.dstSet = set,
			.dstBinding = i,
			.descriptorCount = 1,
			.descriptorType = (VkDescriptorType)types[i],
		};
		if (types[i] == VK_DESCRIPTOR_TYPE_STORAGE_BUFFER) {
			bi[i] = (VkDescriptorBufferInfo){.buffer = bufs[i], .offset = offs[i], .range = ranges[i]};
			w[i].pBufferInfo = &bi[i];
		} else {
			w[i].pTexelBufferView = &views[i];
		}
	}
	f->UpdateDescriptorSets(dev, n, w, 0, NULL);
}

VkResult vkclr_begin(const vkclr_fns *f, VkCommandBuffer cb) {
	VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
	return f->BeginCommandBuffer(cb, &bi);
}

void vkclr_barrier(const vkclr_fns *f, VkCommandBuffer cb, uint32_t srcStage, uint32_t dstStage, uint32_t srcAccess,
                   uint32_t dstAccess) {
	VkMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = srcAccess, .dstAccessMask = dstAccess};
	f->CmdPipelineBarrier(cb, srcStage, dstStage, 0, 1, &b, 0, NULL, 0, NULL);
}

void vkclr_copy(const vkclr_fns *f, VkCommandBuffer cb, VkBuffer src, VkBuffer dst, uint64_t srcOff, uint64_t dstOff,
                uint64_t size) {
	VkBufferCopy r = {.srcOffset = srcOff, .dstOffset = dstOff, .size = size};
	f->CmdCopyBuffer(cb, src, dst, 1, &r);
}
