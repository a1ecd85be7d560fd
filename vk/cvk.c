// cvk.c: loader, capability queries, instance and device creation through pNext chains.
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include "cvk.h"
#include "_cgo_export.h"

static PFN_vkGetInstanceProcAddr gipa;

// VK_KHR_cooperative_matrix arrived in headers 1.3.255; Debian 12 ships 1.3.239.
typedef struct {
	VkStructureType sType;
	void *pNext;
	VkBool32 cooperativeMatrix;
	VkBool32 cooperativeMatrixRobustBufferAccess;
} coopmat_features_khr;
#define COOPMAT_FEATURES_KHR_STYPE ((VkStructureType)1000506000)
#define COOPMAT_KHR_EXT "VK_KHR_cooperative_matrix"

int vkclr_load(const char *lib, char *err, int errlen) {
	if (gipa) return 0;
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "%s", dlerror());
		return -1;
	}
	gipa = (PFN_vkGetInstanceProcAddr)dlsym(h, "vkGetInstanceProcAddr");
	if (!gipa) {
		snprintf(err, errlen, "vkGetInstanceProcAddr not found in %s", lib);
		return -1;
	}
	return 0;
}

void *vkclr_gipa(void) { return (void *)gipa; }

static VkBool32 VKAPI_PTR debug_cb(VkDebugUtilsMessageSeverityFlagBitsEXT sev, VkDebugUtilsMessageTypeFlagsEXT types,
                                   const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
	goDebugMessage((int)sev, (int)types, (char *)(data && data->pMessage ? data->pMessage : ""));
	return VK_FALSE;
}

static int has_layer(const char *name) {
	PFN_vkEnumerateInstanceLayerProperties f = (PFN_vkEnumerateInstanceLayerProperties)gipa(NULL, "vkEnumerateInstanceLayerProperties");
	uint32_t n = 0;
	if (f(&n, NULL) != VK_SUCCESS || n == 0) return 0;
	VkLayerProperties props[n];
	f(&n, props);
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(props[i].layerName, name) == 0) return 1;
	return 0;
}

// has_instance_ext looks in the loader's and drivers' extensions, or in layer's when not NULL.
static int has_instance_ext(const char *layer, const char *name) {
	PFN_vkEnumerateInstanceExtensionProperties f = (PFN_vkEnumerateInstanceExtensionProperties)gipa(NULL, "vkEnumerateInstanceExtensionProperties");
	uint32_t n = 0;
	if (f(layer, &n, NULL) != VK_SUCCESS || n == 0) return 0;
	VkExtensionProperties props[n];
	f(layer, &n, props);
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(props[i].extensionName, name) == 0) return 1;
	return 0;
}

// vkclr_create_instance returns VK_ERROR_LAYER_NOT_PRESENT when validation is asked for and missing.
// extra are more instance extensions (a window system's surface extensions).
VkResult vkclr_create_instance(int validate, const char **extra, uint32_t nextra, VkInstance *out, VkDebugUtilsMessengerEXT *msg) {
	const char *layers[1] = {"VK_LAYER_KHRONOS_validation"};
	const char *exts[3 + nextra];
	uint32_t next = 0;
	for (uint32_t i = 0; i < nextra; i++) exts[next++] = extra[i];
	VkInstanceCreateFlags flags = 0;
	// Synchronization validation: a missing or wrong barrier between two
	// dispatches is reported as a hazard instead of showing only as a wrong number.
	VkValidationFeatureEnableEXT enables[1] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
	VkValidationFeaturesEXT vf = {VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
	vf.enabledValidationFeatureCount = 1;
	vf.pEnabledValidationFeatures = enables;
	int sync = 0;
	if (validate) {
		if (!has_layer(layers[0])) return VK_ERROR_LAYER_NOT_PRESENT;
		exts[next++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
		if (has_instance_ext(layers[0], VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME)) {
			exts[next++] = VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME;
			sync = 1;
		}
	}
	if (has_instance_ext(NULL, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
		exts[next++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
		flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
	}
	uint32_t api = VK_API_VERSION_1_1;
	PFN_vkEnumerateInstanceVersion ev = (PFN_vkEnumerateInstanceVersion)gipa(NULL, "vkEnumerateInstanceVersion");
	if (ev) {
		uint32_t v = 0;
		if (ev(&v) == VK_SUCCESS && v >= VK_API_VERSION_1_3) api = VK_API_VERSION_1_3;
		else if (v >= VK_API_VERSION_1_2) api = VK_API_VERSION_1_2;
	}
	VkApplicationInfo app = {VK_STRUCTURE_TYPE_APPLICATION_INFO, NULL, "vkclr", 1, "vkclr", 1, api};
	VkDebugUtilsMessengerCreateInfoEXT dci = {0};
	dci.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
	dci.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
	dci.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
	                  VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
	dci.pfnUserCallback = debug_cb;
	VkInstanceCreateInfo ci = {VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
	ci.pNext = validate ? &dci : NULL; // also catches messages from instance creation and destruction
	if (sync) {
		vf.pNext = ci.pNext;
		ci.pNext = &vf;
	}
	ci.flags = flags;
	ci.pApplicationInfo = &app;
	ci.enabledLayerCount = validate ? 1 : 0;
	ci.ppEnabledLayerNames = layers;
	ci.enabledExtensionCount = next;
	ci.ppEnabledExtensionNames = exts;
	PFN_vkCreateInstance create = (PFN_vkCreateInstance)gipa(NULL, "vkCreateInstance");
	VkResult r = create(&ci, NULL, out);
	if (r != VK_SUCCESS) return r;
	*msg = VK_NULL_HANDLE;
	if (validate) {
		PFN_vkCreateDebugUtilsMessengerEXT cm = (PFN_vkCreateDebugUtilsMessengerEXT)gipa(*out, "vkCreateDebugUtilsMessengerEXT");
		if (cm) cm(*out, &dci, NULL, msg);
	}
	return VK_SUCCESS;
}

void vkclr_destroy_instance(VkInstance inst, VkDebugUtilsMessengerEXT msg) {
	if (msg != VK_NULL_HANDLE) {
		PFN_vkDestroyDebugUtilsMessengerEXT dm = (PFN_vkDestroyDebugUtilsMessengerEXT)gipa(inst, "vkDestroyDebugUtilsMessengerEXT");
		if (dm) dm(inst, msg, NULL);
	}
	PFN_vkDestroyInstance d = (PFN_vkDestroyInstance)gipa(inst, "vkDestroyInstance");
	d(inst, NULL);
}

static int has_device_ext(VkInstance inst, VkPhysicalDevice pd, const char *name) {
	PFN_vkEnumerateDeviceExtensionProperties f = (PFN_vkEnumerateDeviceExtensionProperties)gipa(inst, "vkEnumerateDeviceExtensionProperties");
	uint32_t n = 0;
	if (f(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0) return 0;
	VkExtensionProperties props[n];
	f(pd, NULL, &n, props);
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(props[i].extensionName, name) == 0) return 1;
	return 0;
}

void vkclr_query(VkInstance inst, VkPhysicalDevice pd, vkclr_caps *c) {
	memset(c, 0, sizeof *c);
	PFN_vkGetPhysicalDeviceProperties gp = (PFN_vkGetPhysicalDeviceProperties)gipa(inst, "vkGetPhysicalDeviceProperties");
	VkPhysicalDeviceProperties p;
	gp(pd, &p);
	c->apiVersion = p.apiVersion;
	c->driverVersion = p.driverVersion;
	c->vendorID = p.vendorID;
	c->deviceID = p.deviceID;
	c->deviceType = p.deviceType;
	memcpy(c->deviceName, p.deviceName, sizeof c->deviceName);
	memcpy(c->uuid, p.pipelineCacheUUID, 16);
	VkPhysicalDeviceLimits *l = &p.limits;
	c->maxSharedMemory = l->maxComputeSharedMemorySize;
	c->maxWGInvocations = l->maxComputeWorkGroupInvocations;
	for (int i = 0; i < 3; i++) {
		c->maxWGSize[i] = l->maxComputeWorkGroupSize[i];
		c->maxWGCount[i] = l->maxComputeWorkGroupCount[i];
	}
	c->maxStorageBufferRange = l->maxStorageBufferRange;
	c->maxPushConstants = l->maxPushConstantsSize;
	c->maxTexelBufferElements = l->maxTexelBufferElements;
	c->maxMemAllocCount = l->maxMemoryAllocationCount;
	c->minStorageBufferOffsetAlignment = l->minStorageBufferOffsetAlignment;
	c->minTexelBufferOffsetAlignment = l->minTexelBufferOffsetAlignment;
	c->nonCoherentAtomSize = l->nonCoherentAtomSize;
	c->timestampPeriod = l->timestampPeriod;

	PFN_vkGetPhysicalDeviceMemoryProperties gm = (PFN_vkGetPhysicalDeviceMemoryProperties)gipa(inst, "vkGetPhysicalDeviceMemoryProperties");
	VkPhysicalDeviceMemoryProperties mp;
	gm(pd, &mp);
	c->heapCount = mp.memoryHeapCount;
	for (uint32_t i = 0; i < mp.memoryHeapCount && i < 16; i++) {
		c->heapSize[i] = mp.memoryHeaps[i].size;
		c->heapFlags[i] = mp.memoryHeaps[i].flags;
	}

	if (p.apiVersion < VK_API_VERSION_1_1) return;
	PFN_vkGetPhysicalDeviceProperties2 gp2 = (PFN_vkGetPhysicalDeviceProperties2)gipa(inst, "vkGetPhysicalDeviceProperties2");
	PFN_vkGetPhysicalDeviceFeatures2 gf2 = (PFN_vkGetPhysicalDeviceFeatures2)gipa(inst, "vkGetPhysicalDeviceFeatures2");
	if (!gp2 || !gf2) return;
	VkPhysicalDeviceSubgroupProperties sg = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
	VkPhysicalDeviceDriverProperties drv = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
	VkPhysicalDeviceSubgroupSizeControlProperties sgc = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES};
	VkPhysicalDeviceProperties2 p2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
	p2.pNext = &sg;
	int v12 = p.apiVersion >= VK_API_VERSION_1_2 || has_device_ext(inst, pd, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME);
	int v13 = p.apiVersion >= VK_API_VERSION_1_3;
	if (v12) sg.pNext = &drv;
	if (v13) drv.pNext = &sgc;
	gp2(pd, &p2);
	c->subgroupSize = sg.subgroupSize;
	c->subgroupStages = sg.supportedStages;
	c->subgroupOps = sg.supportedOperations;
	if (v12) {
		memcpy(c->driverName, drv.driverName, sizeof drv.driverName);
		memcpy(c->driverInfo, drv.driverInfo, sizeof drv.driverInfo);
	}
	if (v13) {
		c->minSubgroupSize = sgc.minSubgroupSize;
		c->maxSubgroupSize = sgc.maxSubgroupSize;
	} else {
		c->minSubgroupSize = c->maxSubgroupSize = sg.subgroupSize;
	}

	VkPhysicalDevice16BitStorageFeatures s16 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
	VkPhysicalDeviceVulkan12Features f12 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
	VkPhysicalDeviceVulkan13Features f13 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
	coopmat_features_khr cm = {COOPMAT_FEATURES_KHR_STYPE};
	VkPhysicalDeviceFeatures2 f2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
	f2.pNext = &s16;
	void **tail = &s16.pNext;
	if (p.apiVersion >= VK_API_VERSION_1_2) { *tail = &f12; tail = &f12.pNext; }
	if (v13) { *tail = &f13; tail = &f13.pNext; }
	c->hasCoopMatExt = has_device_ext(inst, pd, COOPMAT_KHR_EXT);
	if (c->hasCoopMatExt) { *tail = &cm; tail = &cm.pNext; }
	gf2(pd, &f2);
	c->shaderInt64 = f2.features.shaderInt64;
	c->storage16 = s16.storageBuffer16BitAccess;
	if (p.apiVersion >= VK_API_VERSION_1_2) {
		c->shaderFloat16 = f12.shaderFloat16;
		c->shaderInt8 = f12.shaderInt8;
		c->storage8 = f12.storageBuffer8BitAccess;
		c->bufferDeviceAddress = f12.bufferDeviceAddress;
	}
	if (v13) c->subgroupSizeControl = f13.subgroupSizeControl && f13.computeFullSubgroups;
	c->cooperativeMatrix = c->hasCoopMatExt && cm.cooperativeMatrix;
}

// present enables VK_KHR_swapchain (for a window); without it on the device this fails with VK_ERROR_EXTENSION_NOT_PRESENT.
VkResult vkclr_create_device(VkInstance inst, VkPhysicalDevice pd, uint32_t qfam, const vkclr_caps *c, int present, VkDevice *out) {
	float prio = 1.0f;
	VkDeviceQueueCreateInfo q = {VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
	q.queueFamilyIndex = qfam;
	q.queueCount = 1;
	q.pQueuePriorities = &prio;
	VkDeviceCreateInfo ci = {VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
	ci.queueCreateInfoCount = 1;
	ci.pQueueCreateInfos = &q;
	const char *exts[2];
	uint32_t next = 0;
	if (has_device_ext(inst, pd, "VK_KHR_portability_subset")) exts[next++] = "VK_KHR_portability_subset";
	if (present) {
		if (!has_device_ext(inst, pd, VK_KHR_SWAPCHAIN_EXTENSION_NAME)) return VK_ERROR_EXTENSION_NOT_PRESENT;
		exts[next++] = VK_KHR_SWAPCHAIN_EXTENSION_NAME;
	}
	ci.enabledExtensionCount = next;
	ci.ppEnabledExtensionNames = exts;

	// Enable only what the capability report found, so creation never fails on a feature.
	VkPhysicalDevice16BitStorageFeatures s16 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
	VkPhysicalDeviceVulkan12Features f12 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
	VkPhysicalDeviceVulkan13Features f13 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
	VkPhysicalDeviceFeatures2 f2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
	f2.features.shaderInt64 = c->shaderInt64;
	if (c->apiVersion >= VK_API_VERSION_1_1) {
		s16.storageBuffer16BitAccess = c->storage16;
		f2.pNext = &s16;
		void **tail = &s16.pNext;
		if (c->apiVersion >= VK_API_VERSION_1_2) {
			f12.shaderFloat16 = c->shaderFloat16;
			f12.shaderInt8 = c->shaderInt8;
			f12.storageBuffer8BitAccess = c->storage8;
			*tail = &f12;
			tail = &f12.pNext;
		}
		if (c->apiVersion >= VK_API_VERSION_1_3) {
			f13.subgroupSizeControl = c->subgroupSizeControl;
			f13.computeFullSubgroups = c->subgroupSizeControl;
			*tail = &f13;
			tail = &f13.pNext;
		}
		ci.pNext = &f2;
	} else {
		ci.pEnabledFeatures = &f2.features;
	}
	PFN_vkCreateDevice cd = (PFN_vkCreateDevice)gipa(inst, "vkCreateDevice");
	return cd(pd, &ci, NULL, out);
}
