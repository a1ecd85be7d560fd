package vk

/*
#include "cvk.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

const noQueue = ^uint32(0)

// Caps is a device's capability report: what kernels and the allocator
// choose their shapes from. JSON names are stable for `vkclr devices --json`.
type Caps struct {
	Index         int    `json:"index"`
	Name          string `json:"name"`
	Type          string `json:"type"` // discrete, integrated, virtual, cpu, other
	Vendor        string `json:"vendor"`
	VendorID      uint32 `json:"vendor_id"`
	DeviceID      uint32 `json:"device_id"`
	Driver        string `json:"driver"`
	DriverInfo    string `json:"driver_info"`
	DriverVersion uint32 `json:"driver_version"`
	APIVersion    string `json:"api_version"`

	SubgroupSize      uint32    `json:"subgroup_size"`
	MinSubgroupSize   uint32    `json:"min_subgroup_size"`
	MaxSubgroupSize   uint32    `json:"max_subgroup_size"`
	SubgroupCompute   bool      `json:"subgroup_in_compute"`
	SubgroupArith     bool      `json:"subgroup_arithmetic"`
	SubgroupShuffle   bool      `json:"subgroup_shuffle"`
	SubgroupSizeCtl   bool      `json:"subgroup_size_control"`
	SharedMemory      uint32    `json:"shared_memory_bytes"`
	MaxWorkgroupInvoc uint32    `json:"max_workgroup_invocations"`
	MaxWorkgroupSize  [3]uint32 `json:"max_workgroup_size"`
	MaxWorkgroupCount [3]uint32 `json:"max_workgroup_count"`

	MaxStorageBufferRange uint64 `json:"max_storage_buffer_range"`
	MaxPushConstants      uint32 `json:"max_push_constants"`
	MaxTexelElements      uint32 `json:"max_texel_buffer_elements"`
	MaxAllocations        uint32 `json:"max_memory_allocations"`
	StorageAlign          uint64 `json:"storage_offset_alignment"`
	TexelAlign            uint64 `json:"texel_offset_alignment"`
	Heaps                 []Heap `json:"heaps"`

	Float16           bool    `json:"float16"`
	Int8              bool    `json:"int8"`
	Int64             bool    `json:"int64"`
	Storage8          bool    `json:"storage_8bit"`
	Storage16         bool    `json:"storage_16bit"`
	CooperativeMatrix bool    `json:"cooperative_matrix"`
	TimestampPeriodNs float64 `json:"timestamp_period_ns"`
	TimestampBits     uint32  `json:"timestamp_valid_bits"`
	// CPUThreads is, for lavapipe, the threads its dispatches run on and who chose them
	// (lpthreads.go); empty for other drivers.
	CPUThreads string `json:"cpu_threads,omitempty"`

	raw                C.vkclr_caps
	computeQueueFamily uint32
}

// Heap is one memory heap.
type Heap struct {
	Size        uint64 `json:"size"`
	DeviceLocal bool   `json:"device_local"`
}

// IsCPU reports whether the device is a CPU driver such as lavapipe, whose
// kernels want register tiles and texel-buffer loads rather than shared memory.
func (c *Caps) IsCPU() bool { return c.Type == "cpu" }

// rank orders devices for automatic selection: discrete > integrated > virtual > CPU.
func (c *Caps) rank() int {
	switch c.Type {
	case "discrete":
		return 4
	case "integrated":
		return 3
	case "virtual":
		return 2
	case "cpu":
		return 1
	}
	return 0
}

// DeviceLocalBytes is the size of the largest device-local heap.
func (c *Caps) DeviceLocalBytes() uint64 {
	var m uint64
	for _, h := range c.Heaps {
		if h.DeviceLocal && h.Size > m {
			m = h.Size
		}
	}
	return m
}

func versionString(v uint32) string {
	return fmt.Sprintf("%d.%d.%d", v>>22, (v>>12)&0x3ff, v&0xfff)
}

var vendors = map[uint32]string{
	0x1002: "AMD", 0x10de: "NVIDIA", 0x8086: "Intel", 0x13b5: "ARM", 0x5143: "Qualcomm",
	0x1010: "ImgTec", 0x10005: "Mesa", 0x106b: "Apple",
}

func queryCaps(in *instance, pd vk.PhysicalDevice, index int) Caps {
	var c Caps
	C.vkclr_query(in.h, C.VkPhysicalDevice(unsafe.Pointer(pd)), &c.raw)
	r := &c.raw
	c.Index = index
	c.Name = C.GoString(&r.deviceName[0])
	c.Type = map[uint32]string{1: "integrated", 2: "discrete", 3: "virtual", 4: "cpu"}[uint32(r.deviceType)]
	if c.Type == "" {
		c.Type = "other"
	}
	c.VendorID, c.DeviceID = uint32(r.vendorID), uint32(r.deviceID)
	c.Vendor = vendors[c.VendorID]
	if c.Vendor == "" {
		c.Vendor = fmt.Sprintf("0x%04x", c.VendorID)
	}
	c.Driver = C.GoString(&r.driverName[0])
	c.DriverInfo = C.GoString(&r.driverInfo[0])
	if c.Driver == "llvmpipe" {
		c.CPUThreads = cpuThreads
	}
	c.DriverVersion = uint32(r.driverVersion)
	c.APIVersion = versionString(uint32(r.apiVersion))
	c.SubgroupSize = uint32(r.subgroupSize)
	c.MinSubgroupSize, c.MaxSubgroupSize = uint32(r.minSubgroupSize), uint32(r.maxSubgroupSize)
	c.SubgroupCompute = r.subgroupStages&C.VK_SHADER_STAGE_COMPUTE_BIT != 0
	c.SubgroupArith = r.subgroupOps&C.VK_SUBGROUP_FEATURE_ARITHMETIC_BIT != 0
	c.SubgroupShuffle = r.subgroupOps&C.VK_SUBGROUP_FEATURE_SHUFFLE_BIT != 0
	c.SubgroupSizeCtl = r.subgroupSizeControl != 0
	c.SharedMemory = uint32(r.maxSharedMemory)
	c.MaxWorkgroupInvoc = uint32(r.maxWGInvocations)
	for i := 0; i < 3; i++ {
		c.MaxWorkgroupSize[i] = uint32(r.maxWGSize[i])
		c.MaxWorkgroupCount[i] = uint32(r.maxWGCount[i])
	}
	c.MaxStorageBufferRange = uint64(r.maxStorageBufferRange)
	c.MaxPushConstants = uint32(r.maxPushConstants)
	c.MaxTexelElements = uint32(r.maxTexelBufferElements)
	c.MaxAllocations = uint32(r.maxMemAllocCount)
	c.StorageAlign = uint64(r.minStorageBufferOffsetAlignment)
	c.TexelAlign = uint64(r.minTexelBufferOffsetAlignment)
	for i := 0; i < int(r.heapCount) && i < 16; i++ {
		c.Heaps = append(c.Heaps, Heap{Size: uint64(r.heapSize[i]), DeviceLocal: r.heapFlags[i]&C.VK_MEMORY_HEAP_DEVICE_LOCAL_BIT != 0})
	}
	c.Float16 = r.shaderFloat16 != 0
	c.Int8 = r.shaderInt8 != 0
	c.Int64 = r.shaderInt64 != 0
	c.Storage8 = r.storage8 != 0
	c.Storage16 = r.storage16 != 0
	c.CooperativeMatrix = r.cooperativeMatrix != 0
	c.TimestampPeriodNs = float64(r.timestampPeriod)

	// The first queue family with compute; timestamps come from that family.
	c.computeQueueFamily = noQueue
	var n uint32
	vk.GetPhysicalDeviceQueueFamilyProperties(pd, &n, nil)
	qs := make([]vk.QueueFamilyProperties, n)
	vk.GetPhysicalDeviceQueueFamilyProperties(pd, &n, qs)
	for i := range qs {
		qs[i].Deref()
		if vk.QueueFlagBits(qs[i].QueueFlags)&vk.QueueComputeBit != 0 {
			c.computeQueueFamily = uint32(i)
			c.TimestampBits = qs[i].TimestampValidBits
			break
		}
	}
	return c
}
