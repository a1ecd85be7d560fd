package vk

import (
	"errors"
	"fmt"
	"time"

	vk "github.com/vulkan-go/vulkan"
)

// Sentinels for the failures a caller handles differently from the rest.
// Match them with errors.Is; the *Error that wraps them names the function.
var (
	// ErrDeviceLost: the driver reset or the GPU hung. The context is unusable;
	// what was saved to disk is intact.
	ErrDeviceLost = errors.New("vulkan device lost")
	// ErrOutOfDeviceMemory: an allocation did not fit in device memory; try a smaller batch.
	ErrOutOfDeviceMemory = errors.New("out of device memory")
	// ErrOutOfHostMemory: the driver could not allocate host memory.
	ErrOutOfHostMemory = errors.New("out of host memory")
	// ErrDeviceHung: the device did not finish work within the watchdog's
	// limit (Options.DeviceTimeout). Such an error also matches ErrDeviceLost.
	ErrDeviceHung = errors.New("vulkan device hung")
	// ErrNoDevice: no Vulkan loader or no physical device.
	ErrNoDevice = errors.New("no Vulkan device")
)

// Error is a failed Vulkan call: the function and the VkResult.
type Error struct {
	Func   string
	Result vk.Result
	// After is the watchdog's limit when it gave up on the device (Result VK_TIMEOUT).
	After time.Duration
}

func (e *Error) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("vk: %s: %s: the device did not finish within %v (a hung device; raise the limit with --device-timeout or VKCLR_DEVICE_TIMEOUT if the work is just slow)",
			e.Func, ResultName(e.Result), e.After)
	}
	return fmt.Sprintf("vk: %s: %s", e.Func, ResultName(e.Result))
}

// Is matches the sentinels above.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrDeviceLost:
		return e.Result == vk.ErrorDeviceLost || e.After > 0
	case ErrDeviceHung:
		return e.After > 0
	case ErrOutOfDeviceMemory:
		return e.Result == vk.ErrorOutOfDeviceMemory
	case ErrOutOfHostMemory:
		return e.Result == vk.ErrorOutOfHostMemory
	case ErrNoDevice:
		return e.Result == vk.ErrorIncompatibleDriver || e.Result == vk.ErrorInitializationFailed
	}
	return false
}

// check turns a VkResult into nil or an *Error naming fn.
func check(fn string, r vk.Result) error {
	if r == vk.Success {
		return nil
	}
	return &Error{Func: fn, Result: r}
}

var resultNames = map[vk.Result]string{
	vk.Success:                     "VK_SUCCESS",
	vk.NotReady:                    "VK_NOT_READY",
	vk.Timeout:                     "VK_TIMEOUT",
	vk.Incomplete:                  "VK_INCOMPLETE",
	vk.ErrorOutOfHostMemory:        "VK_ERROR_OUT_OF_HOST_MEMORY",
	vk.ErrorOutOfDeviceMemory:      "VK_ERROR_OUT_OF_DEVICE_MEMORY",
	vk.ErrorInitializationFailed:   "VK_ERROR_INITIALIZATION_FAILED",
	vk.ErrorDeviceLost:             "VK_ERROR_DEVICE_LOST",
	vk.ErrorMemoryMapFailed:        "VK_ERROR_MEMORY_MAP_FAILED",
	vk.ErrorLayerNotPresent:        "VK_ERROR_LAYER_NOT_PRESENT",
	vk.ErrorExtensionNotPresent:    "VK_ERROR_EXTENSION_NOT_PRESENT",
	vk.ErrorFeatureNotPresent:      "VK_ERROR_FEATURE_NOT_PRESENT",
	vk.ErrorIncompatibleDriver:     "VK_ERROR_INCOMPATIBLE_DRIVER",
	vk.ErrorTooManyObjects:         "VK_ERROR_TOO_MANY_OBJECTS",
	vk.ErrorFormatNotSupported:     "VK_ERROR_FORMAT_NOT_SUPPORTED",
	vk.ErrorFragmentedPool:         "VK_ERROR_FRAGMENTED_POOL",
	vk.Result(-1000069000):         "VK_ERROR_OUT_OF_POOL_MEMORY",
	vk.Result(-1000072003):         "VK_ERROR_INVALID_EXTERNAL_HANDLE",
	vk.Result(-1000161000):         "VK_ERROR_FRAGMENTATION",
	vk.Result(-13):                 "VK_ERROR_UNKNOWN",
	vk.Result(1000297000):          "VK_PIPELINE_COMPILE_REQUIRED",
	vk.Result(-1000011001):         "VK_ERROR_VALIDATION_FAILED_EXT",
	vk.Result(-1000257000):         "VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS",
	vk.Result(vk.ErrorOutOfDate):   "VK_ERROR_OUT_OF_DATE_KHR",
	vk.Result(vk.ErrorSurfaceLost): "VK_ERROR_SURFACE_LOST_KHR",
}

// ResultName is the VkResult's name as the specification spells it.
func ResultName(r vk.Result) string {
	if n, ok := resultNames[r]; ok {
		return n
	}
	return fmt.Sprintf("VkResult(%d)", int32(r))
}
