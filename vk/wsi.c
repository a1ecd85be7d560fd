// wsi.c: swapchain creation and presentation of host-composed frames.
//
// Each frame: wait for the frame slot's fence, acquire an image, write the pixels into the
// slot's mapped staging buffer, record UNDEFINED -> TRANSFER_DST, copy, TRANSFER_DST ->
// PRESENT_SRC, submit (waiting on "acquired" at the transfer stage, signalling the image's
// "done"), and present waiting on "done". Semaphores signalled for present are per image
// so one is never re-signalled while a presentation may still wait on it.
#include <stdio.h>
#include <string.h>
#include "cvk.h"
#include "wsi.h"

#define FN(name) PFN_##name name = (PFN_##name)((PFN_vkGetInstanceProcAddr)vkclr_gipa())(s->inst, #name)

static VkResult fail(vkclr_swapchain *s, VkResult r, const char *what) {
	snprintf(s->err, sizeof s->err, "%s", what);
	return r;
}

VkResult vkclr_sc_init(vkclr_swapchain *s) {
	FN(vkGetPhysicalDeviceSurfaceSupportKHR);
	FN(vkCreateCommandPool);
	FN(vkAllocateCommandBuffers);
	FN(vkCreateSemaphore);
	FN(vkCreateFence);
	VkBool32 ok = VK_FALSE;
	VkResult r = vkGetPhysicalDeviceSurfaceSupportKHR(s->pd, s->qfam, s->surface, &ok);
	if (r != VK_SUCCESS) return fail(s, r, "vkGetPhysicalDeviceSurfaceSupportKHR");
	if (!ok) return fail(s, VK_ERROR_FEATURE_NOT_PRESENT, "the device's queue cannot present to this surface");
	VkCommandPoolCreateInfo pci = {VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
	pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
	pci.queueFamilyIndex = s->qfam;
	if ((r = vkCreateCommandPool(s->dev, &pci, NULL, &s->pool)) != VK_SUCCESS) return fail(s, r, "vkCreateCommandPool");
	VkCommandBufferAllocateInfo ai = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
	ai.commandPool = s->pool;
	ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
	ai.commandBufferCount = VKCLR_FRAMES;
	if ((r = vkAllocateCommandBuffers(s->dev, &ai, s->cb)) != VK_SUCCESS) return fail(s, r, "vkAllocateCommandBuffers");
	VkSemaphoreCreateInfo sci = {VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
	VkFenceCreateInfo fci = {VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
	fci.flags = VK_FENCE_CREATE_SIGNALED_BIT;
	for (int i = 0; i < VKCLR_FRAMES; i++) {
		if ((r = vkCreateSemaphore(s->dev, &sci, NULL, &s->acquired[i])) != VK_SUCCESS) return fail(s, r, "vkCreateSemaphore");
		if ((r = vkCreateFence(s->dev, &fci, NULL, &s->fence[i])) != VK_SUCCESS) return fail(s, r, "vkCreateFence");
	}
	return VK_SUCCESS;
}

// pick_format prefers 8-bit BGRA/RGBA UNORM (bytes shown as written), then their sRGB forms.
static int pick_format(vkclr_swapchain *s, VkSurfaceFormatKHR *fs, uint32_t n, VkSurfaceFormatKHR *out) {
	const VkFormat pref[4] = {VK_FORMAT_B8G8R8A8_UNORM, VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_B8G8R8A8_SRGB, VK_FORMAT_R8G8B8A8_SRGB};
	for (int p = 0; p < 4; p++)
		for (uint32_t i = 0; i < n; i++)
			if (fs[i].format == pref[p]) {
				*out = fs[i];
				return 1;
			}
	return 0;
}

// vkclr_sc_build creates (or re-creates, after a resize) the swapchain at the surface's extent,
// or width x height where the surface leaves it to us. A zero extent (minimized) builds nothing.
VkResult vkclr_sc_build(vkclr_swapchain *s, uint32_t width, uint32_t height) {
	FN(vkGetPhysicalDeviceSurfaceCapabilitiesKHR);
	FN(vkGetPhysicalDeviceSurfaceFormatsKHR);
	FN(vkCreateSwapchainKHR);
	FN(vkDestroySwapchainKHR);
	FN(vkGetSwapchainImagesKHR);
	FN(vkCreateSemaphore);
	FN(vkDestroySemaphore);
	FN(vkDeviceWaitIdle);
	// Idle, presentation included: the old images and their semaphores are free to go.
	VkResult r = vkDeviceWaitIdle(s->dev);
	if (r != VK_SUCCESS) return fail(s, r, "vkDeviceWaitIdle");
	VkSurfaceCapabilitiesKHR caps;
	if ((r = vkGetPhysicalDeviceSurfaceCapabilitiesKHR(s->pd, s->surface, &caps)) != VK_SUCCESS)
		return fail(s, r, "vkGetPhysicalDeviceSurfaceCapabilitiesKHR");
	if (!(caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_DST_BIT))
		return fail(s, VK_ERROR_FEATURE_NOT_PRESENT, "the surface's images cannot be transfer destinations");
	uint32_t n = 0;
	if ((r = vkGetPhysicalDeviceSurfaceFormatsKHR(s->pd, s->surface, &n, NULL)) != VK_SUCCESS || n == 0)
		return fail(s, r ? r : VK_ERROR_FORMAT_NOT_SUPPORTED, "vkGetPhysicalDeviceSurfaceFormatsKHR");
	VkSurfaceFormatKHR fs[n];
	if ((r = vkGetPhysicalDeviceSurfaceFormatsKHR(s->pd, s->surface, &n, fs)) < 0) return fail(s, r, "vkGetPhysicalDeviceSurfaceFormatsKHR");
	VkSurfaceFormatKHR f;
	if (!pick_format(s, fs, n, &f)) return fail(s, VK_ERROR_FORMAT_NOT_SUPPORTED, "the surface offers no 8-bit RGBA or BGRA format");
	VkExtent2D ext = caps.currentExtent;
	if (ext.width == 0xFFFFFFFF) {
		ext.width = width < caps.minImageExtent.width ? caps.minImageExtent.width : width > caps.maxImageExtent.width ? caps.maxImageExtent.width : width;
		ext.height = height < caps.minImageExtent.height ? caps.minImageExtent.height : height > caps.maxImageExtent.height ? caps.maxImageExtent.height : height;
	}
	for (uint32_t i = 0; i < s->nimages; i++) {
		vkDestroySemaphore(s->dev, s->done[i], NULL);
		s->done[i] = VK_NULL_HANDLE;
	}
	s->nimages = 0;
	if (ext.width == 0 || ext.height == 0) { // minimized: nothing to present to
		if (s->sc) vkDestroySwapchainKHR(s->dev, s->sc, NULL);
		s->sc = VK_NULL_HANDLE;
		s->width = s->height = 0;
		return VK_SUCCESS;
	}
	uint32_t count = caps.minImageCount + 1;
	if (caps.maxImageCount && count > caps.maxImageCount) count = caps.maxImageCount;
	if (count > VKCLR_MAX_IMAGES) count = VKCLR_MAX_IMAGES;
	VkCompositeAlphaFlagBitsKHR alpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
	if (!(caps.supportedCompositeAlpha & alpha))
		for (uint32_t b = 1; b; b <<= 1)
			if (caps.supportedCompositeAlpha & b) {
				alpha = (VkCompositeAlphaFlagBitsKHR)b;
				break;
			}
	VkSwapchainCreateInfoKHR ci = {VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR};
	ci.surface = s->surface;
	ci.minImageCount = count;
	ci.imageFormat = f.format;
	ci.imageColorSpace = f.colorSpace;
	ci.imageExtent = ext;
	ci.imageArrayLayers = 1;
	ci.imageUsage = VK_IMAGE_USAGE_TRANSFER_DST_BIT;
	ci.imageSharingMode = VK_SHARING_MODE_EXCLUSIVE;
	ci.preTransform = (caps.supportedTransforms & VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR) ? VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR : caps.currentTransform;
	ci.compositeAlpha = alpha;
	ci.presentMode = VK_PRESENT_MODE_FIFO_KHR; // always supported; the viewer presents only when a frame changed
	ci.clipped = VK_TRUE;
	ci.oldSwapchain = s->sc;
	VkSwapchainKHR sc;
	r = vkCreateSwapchainKHR(s->dev, &ci, NULL, &sc);
	if (s->sc) vkDestroySwapchainKHR(s->dev, s->sc, NULL);
	s->sc = VK_NULL_HANDLE;
	if (r != VK_SUCCESS) return fail(s, r, "vkCreateSwapchainKHR");
	s->sc = sc;
	s->format = f.format;
	s->bgr = f.format == VK_FORMAT_B8G8R8A8_UNORM || f.format == VK_FORMAT_B8G8R8A8_SRGB;
	s->width = ext.width;
	s->height = ext.height;
	n = 0;
	if ((r = vkGetSwapchainImagesKHR(s->dev, sc, &n, NULL)) != VK_SUCCESS) return fail(s, r, "vkGetSwapchainImagesKHR");
	if (n > VKCLR_MAX_IMAGES) n = VKCLR_MAX_IMAGES;
	if ((r = vkGetSwapchainImagesKHR(s->dev, sc, &n, s->images)) < 0) return fail(s, r, "vkGetSwapchainImagesKHR");
	VkSemaphoreCreateInfo sci = {VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
	for (uint32_t i = 0; i < n; i++) {
		if ((r = vkCreateSemaphore(s->dev, &sci, NULL, &s->done[i])) != VK_SUCCESS) return fail(s, r, "vkCreateSemaphore");
		s->nimages = i + 1;
	}
	return VK_SUCCESS;
}

// staging makes frame slot f's host-visible buffer hold at least size bytes.
static VkResult staging(vkclr_swapchain *s, int f, VkDeviceSize size) {
	FN(vkCreateBuffer);
	FN(vkDestroyBuffer);
	FN(vkGetBufferMemoryRequirements);
	FN(vkGetPhysicalDeviceMemoryProperties);
	FN(vkAllocateMemory);
	FN(vkFreeMemory);
	FN(vkBindBufferMemory);
	FN(vkMapMemory);
	if (s->stagingSize[f] >= size) return VK_SUCCESS;
	if (s->staging[f]) vkDestroyBuffer(s->dev, s->staging[f], NULL);
	if (s->stagingMem[f]) vkFreeMemory(s->dev, s->stagingMem[f], NULL);
	s->staging[f] = VK_NULL_HANDLE;
	s->stagingMem[f] = VK_NULL_HANDLE;
	s->stagingSize[f] = 0;
	VkBufferCreateInfo bi = {VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
	bi.size = size;
	bi.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
	bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
	VkResult r = vkCreateBuffer(s->dev, &bi, NULL, &s->staging[f]);
	if (r != VK_SUCCESS) return fail(s, r, "vkCreateBuffer");
	VkMemoryRequirements req;
	vkGetBufferMemoryRequirements(s->dev, s->staging[f], &req);
	VkPhysicalDeviceMemoryProperties mp;
	vkGetPhysicalDeviceMemoryProperties(s->pd, &mp);
	const VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
	uint32_t type = UINT32_MAX;
	for (uint32_t i = 0; i < mp.memoryTypeCount && type == UINT32_MAX; i++)
		if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want) type = i;
	if (type == UINT32_MAX) return fail(s, VK_ERROR_OUT_OF_DEVICE_MEMORY, "no host-visible coherent memory type for the staging buffer");
	VkMemoryAllocateInfo ai = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
	ai.allocationSize = req.size;
	ai.memoryTypeIndex = type;
	if ((r = vkAllocateMemory(s->dev, &ai, NULL, &s->stagingMem[f])) != VK_SUCCESS) return fail(s, r, "vkAllocateMemory");
	if ((r = vkBindBufferMemory(s->dev, s->staging[f], s->stagingMem[f], 0)) != VK_SUCCESS) return fail(s, r, "vkBindBufferMemory");
	if ((r = vkMapMemory(s->dev, s->stagingMem[f], 0, VK_WHOLE_SIZE, 0, &s->mapped[f])) != VK_SUCCESS) return fail(s, r, "vkMapMemory");
	s->stagingSize[f] = size;
	return VK_SUCCESS;
}

static void barrier(vkclr_swapchain *s, VkCommandBuffer cb, VkImage img, VkImageLayout from, VkImageLayout to,
                    VkAccessFlags srcAccess, VkAccessFlags dstAccess, VkPipelineStageFlags srcStage, VkPipelineStageFlags dstStage) {
	FN(vkCmdPipelineBarrier);
	VkImageMemoryBarrier b = {VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
	b.srcAccessMask = srcAccess;
	b.dstAccessMask = dstAccess;
	b.oldLayout = from;
	b.newLayout = to;
	b.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
	b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
	b.image = img;
	b.subresourceRange.aspectMask = VK_IMAGE_ASPECT_COLOR_BIT;
	b.subresourceRange.levelCount = 1;
	b.subresourceRange.layerCount = 1;
	vkCmdPipelineBarrier(cb, srcStage, dstStage, 0, 0, NULL, 0, NULL, 1, &b);
}

// vkclr_sc_present shows one w x h RGBA frame (stride bytes per row); what falls outside the
// swapchain's extent is cut, what the frame does not cover is black. VK_ERROR_OUT_OF_DATE_KHR
// and VK_SUBOPTIMAL_KHR ask the caller to rebuild.
VkResult vkclr_sc_present(vkclr_swapchain *s, const uint8_t *rgba, uint32_t w, uint32_t h, uint32_t stride) {
	FN(vkWaitForFences);
	FN(vkResetFences);
	FN(vkAcquireNextImageKHR);
	FN(vkResetCommandBuffer);
	FN(vkBeginCommandBuffer);
	FN(vkEndCommandBuffer);
	FN(vkCmdCopyBufferToImage);
	FN(vkQueueSubmit);
	FN(vkQueuePresentKHR);
	if (!s->sc) return VK_ERROR_OUT_OF_DATE_KHR;
	int f = s->frame % VKCLR_FRAMES;
	VkResult r = vkWaitForFences(s->dev, 1, &s->fence[f], VK_TRUE, UINT64_MAX);
	if (r != VK_SUCCESS) return fail(s, r, "vkWaitForFences");
	uint32_t W = s->width, H = s->height;
	if ((r = staging(s, f, (VkDeviceSize)W * H * 4)) != VK_SUCCESS) return r;
	uint32_t idx;
	r = vkAcquireNextImageKHR(s->dev, s->sc, UINT64_MAX, s->acquired[f], VK_NULL_HANDLE, &idx);
	if (r == VK_ERROR_OUT_OF_DATE_KHR) return r;
	if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR) return fail(s, r, "vkAcquireNextImageKHR");
	int suboptimal = r == VK_SUBOPTIMAL_KHR;
	if (idx >= s->nimages) return fail(s, VK_ERROR_UNKNOWN, "vkAcquireNextImageKHR: image index out of range");

	uint8_t *dst = (uint8_t *)s->mapped[f];
	for (uint32_t y = 0; y < H; y++) {
		uint8_t *d = dst + (size_t)y * W * 4;
		uint32_t n = 0;
		if (y < h) {
			n = w < W ? w : W;
			const uint8_t *src = rgba + (size_t)y * stride;
			if (s->bgr)
				for (uint32_t x = 0; x < n; x++) {
					d[4 * x] = src[4 * x + 2];
					d[4 * x + 1] = src[4 * x + 1];
					d[4 * x + 2] = src[4 * x];
					d[4 * x + 3] = 255;
				}
			else
				memcpy(d, src, (size_t)n * 4);
		}
		for (uint32_t x = n; x < W; x++) {
			d[4 * x] = d[4 * x + 1] = d[4 * x + 2] = 0;
			d[4 * x + 3] = 255;
		}
	}

	VkCommandBuffer cb = s->cb[f];
	vkResetCommandBuffer(cb, 0);
	VkCommandBufferBeginInfo bi = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
	bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
	if ((r = vkBeginCommandBuffer(cb, &bi)) != VK_SUCCESS) return fail(s, r, "vkBeginCommandBuffer");
	// The semaphore wait below is at the transfer stage, so this barrier's source stage chains to it.
	barrier(s, cb, s->images[idx], VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0, VK_ACCESS_TRANSFER_WRITE_BIT,
	        VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT);
	VkBufferImageCopy reg = {0};
	reg.imageSubresource.aspectMask = VK_IMAGE_ASPECT_COLOR_BIT;
	reg.imageSubresource.layerCount = 1;
	reg.imageExtent.width = W;
	reg.imageExtent.height = H;
	reg.imageExtent.depth = 1;
	vkCmdCopyBufferToImage(cb, s->staging[f], s->images[idx], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &reg);
	barrier(s, cb, s->images[idx], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_ACCESS_TRANSFER_WRITE_BIT, 0,
	        VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT);
	if ((r = vkEndCommandBuffer(cb)) != VK_SUCCESS) return fail(s, r, "vkEndCommandBuffer");

	if ((r = vkResetFences(s->dev, 1, &s->fence[f])) != VK_SUCCESS) return fail(s, r, "vkResetFences");
	VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
	VkSubmitInfo si = {VK_STRUCTURE_TYPE_SUBMIT_INFO};
	si.waitSemaphoreCount = 1;
	si.pWaitSemaphores = &s->acquired[f];
	si.pWaitDstStageMask = &stage;
	si.commandBufferCount = 1;
	si.pCommandBuffers = &cb;
	si.signalSemaphoreCount = 1;
	si.pSignalSemaphores = &s->done[idx];
	if ((r = vkQueueSubmit(s->queue, 1, &si, s->fence[f])) != VK_SUCCESS) return fail(s, r, "vkQueueSubmit");
	s->frame++;

	VkPresentInfoKHR pi = {VK_STRUCTURE_TYPE_PRESENT_INFO_KHR};
	pi.waitSemaphoreCount = 1;
	pi.pWaitSemaphores = &s->done[idx];
	pi.swapchainCount = 1;
	pi.pSwapchains = &s->sc;
	pi.pImageIndices = &idx;
	r = vkQueuePresentKHR(s->queue, &pi);
	if (r == VK_SUCCESS && suboptimal) return VK_SUBOPTIMAL_KHR;
	if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR && r != VK_ERROR_OUT_OF_DATE_KHR) return fail(s, r, "vkQueuePresentKHR");
	return r;
}

// vkclr_sc_destroy waits for the device and frees everything, the surface included.
void vkclr_sc_destroy(vkclr_swapchain *s) {
	FN(vkDeviceWaitIdle);
	FN(vkDestroySemaphore);
	FN(vkDestroyFence);
	FN(vkDestroyCommandPool);
	FN(vkDestroyBuffer);
	FN(vkFreeMemory);
	FN(vkDestroySwapchainKHR);
	FN(vkDestroySurfaceKHR);
	vkDeviceWaitIdle(s->dev);
	for (uint32_t i = 0; i < s->nimages; i++)
		if (s->done[i]) vkDestroySemaphore(s->dev, s->done[i], NULL);
	for (int i = 0; i < VKCLR_FRAMES; i++) {
		if (s->acquired[i]) vkDestroySemaphore(s->dev, s->acquired[i], NULL);
		if (s->fence[i]) vkDestroyFence(s->dev, s->fence[i], NULL);
		if (s->staging[i]) vkDestroyBuffer(s->dev, s->staging[i], NULL);
		if (s->stagingMem[i]) vkFreeMemory(s->dev, s->stagingMem[i], NULL);
	}
	if (s->pool) vkDestroyCommandPool(s->dev, s->pool, NULL); // frees the command buffers
	if (s->sc) vkDestroySwapchainKHR(s->dev, s->sc, NULL);
	if (s->surface) vkDestroySurfaceKHR(s->inst, s->surface, NULL);
	memset(s, 0, sizeof *s);
}
