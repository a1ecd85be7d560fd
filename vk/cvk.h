// cvk.h: the parts of Vulkan 1.1-1.3 that github.com/vulkan-go/vulkan (1.0 only) lacks.
#ifndef VKCLR_CVK_H
#define VKCLR_CVK_H
#include <stdint.h>
#include <vulkan/vulkan.h>

int vkclr_load(const char *lib, char *err, int errlen);
void *vkclr_gipa(void);

typedef struct {
	uint32_t apiVersion, driverVersion, vendorID, deviceID, deviceType;
	char deviceName[256], driverName[256], driverInfo[256];
	uint8_t uuid[16];
	uint32_t subgroupSize, subgroupStages, subgroupOps, minSubgroupSize, maxSubgroupSize, subgroupSizeControl;
	uint32_t maxSharedMemory, maxWGInvocations, maxWGSize[3], maxWGCount[3];
	uint32_t maxStorageBufferRange, maxPushConstants, maxTexelBufferElements, maxMemAllocCount;
	uint64_t minStorageBufferOffsetAlignment, minTexelBufferOffsetAlignment, nonCoherentAtomSize;
	float timestampPeriod;
	uint32_t shaderFloat16, shaderInt8, storage8, storage16, shaderInt64, bufferDeviceAddress;
	uint32_t cooperativeMatrix, hasCoopMatExt;
	uint32_t heapCount;
	uint64_t heapSize[16];
	uint32_t heapFlags[16];
} vkclr_caps;

VkResult vkclr_create_instance(int validate, const char **extra, uint32_t nextra, VkInstance *out, VkDebugUtilsMessengerEXT *msg);
void vkclr_destroy_instance(VkInstance inst, VkDebugUtilsMessengerEXT msg);
void vkclr_query(VkInstance inst, VkPhysicalDevice pd, vkclr_caps *c);
VkResult vkclr_create_device(VkInstance inst, VkPhysicalDevice pd, uint32_t qfam, const vkclr_caps *c, int present, VkDevice *out);
#endif
