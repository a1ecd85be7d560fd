// wsi.h: a swapchain that shows host-composed RGBA frames (vkCmdCopyBufferToImage, no graphics pipeline).
#ifndef VKCLR_WSI_H
#define VKCLR_WSI_H
#include <stdint.h>
#include <vulkan/vulkan.h>

#define VKCLR_MAX_IMAGES 8
#define VKCLR_FRAMES 2 // frames in flight

typedef struct {
	VkInstance inst;
	VkPhysicalDevice pd;
	VkDevice dev;
	VkQueue queue;
	uint32_t qfam;
	VkSurfaceKHR surface;
	VkSwapchainKHR sc;
	VkFormat format;
	int bgr; // the swapchain's bytes are B, G, R, A
	uint32_t width, height;
	uint32_t nimages;
	VkImage images[VKCLR_MAX_IMAGES];
	VkSemaphore done[VKCLR_MAX_IMAGES]; // per image: the copy finished; present waits on it
	VkSemaphore acquired[VKCLR_FRAMES]; // per frame: the image is ours; the copy waits on it
	VkFence fence[VKCLR_FRAMES];        // per frame: its command buffer and staging buffer are free again
	VkCommandPool pool;
	VkCommandBuffer cb[VKCLR_FRAMES];
	VkBuffer staging[VKCLR_FRAMES];
	VkDeviceMemory stagingMem[VKCLR_FRAMES];
	VkDeviceSize stagingSize[VKCLR_FRAMES];
	void *mapped[VKCLR_FRAMES];
	uint32_t frame;
	char err[256]; // why the last call failed, beyond its VkResult
} vkclr_swapchain;

VkResult vkclr_sc_init(vkclr_swapchain *s);
VkResult vkclr_sc_build(vkclr_swapchain *s, uint32_t width, uint32_t height);
VkResult vkclr_sc_present(vkclr_swapchain *s, const uint8_t *rgba, uint32_t w, uint32_t h, uint32_t stride);
void vkclr_sc_destroy(vkclr_swapchain *s);
#endif
