// Package vk is vkclr's Vulkan runtime: device selection, memory, pipelines
// and command recording. It is the only package that imports the binding.
//
// Design: a Context owns an instance, one device and its compute queue. Buffers
// are sub-allocated from large memory blocks. Work is recorded into a Seq (a
// list of dispatches and copies built into one command buffer, with a barrier
// between dependent commands), submitted once and waited on with one fence;
// a Seq can be submitted again, which is how a training step is replayed.
package vk

/*
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "cvk.h"
#include "ccall.h"
*/
import "C"

import (
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// loaderNames are tried in order; the runtime package (libvulkan1) ships the first.
var loaderNames = []string{"libvulkan.so.1", "libvulkan.so"}

var (
	loadOnce sync.Once
	loadErr  error
)

// load opens the Vulkan loader and hands vkGetInstanceProcAddr to the binding.
func load() error {
	loadOnce.Do(func() {
		setLavapipeThreads() // before lavapipe can read it (lpthreads.go)
		var errs []string
		buf := (*C.char)(C.malloc(512))
		defer C.free(unsafe.Pointer(buf))
		for _, name := range loaderNames {
			cname := C.CString(name)
			rc := C.vkclr_load(cname, buf, 512)
			C.free(unsafe.Pointer(cname))
			if rc == 0 {
				vk.SetGetInstanceProcAddr(C.vkclr_gipa())
				if err := vk.Init(); err != nil {
					loadErr = fmt.Errorf("vk: binding init: %w", err)
				}
				return
			}
			errs = append(errs, C.GoString(buf))
		}
		loadErr = fmt.Errorf("%w: cannot open the Vulkan loader (%s); install it with 'apt-get install libvulkan1 mesa-vulkan-drivers' (or your GPU vendor's driver)",
			ErrNoDevice, strings.Join(errs, "; "))
	})
	return loadErr
}

// Options select the device and debugging aids.
type Options struct {
	// Device picks a physical device: "" for the best, an index ("1"), or a
	// case-insensitive substring of its name ("llvmpipe").
	Device string
	// Validate enables VK_LAYER_KHRONOS_validation, synchronization validation
	// included (a missing barrier is a message); messages go to Logger and
	// are counted (ValidationMessages). Also on with VKCLR_VALIDATE=1.
	Validate bool
	// Logger receives validation messages; nil means log.Default().
	Logger *log.Logger
	// NoPipelineCache disables the on-disk pipeline cache.
	NoPipelineCache bool
	// InstanceExtensions are enabled besides vkclr's own: a window system's
	// surface extensions (glfw.GetRequiredInstanceExtensions), for a Swapchain.
	InstanceExtensions []string
	// Present enables VK_KHR_swapchain on the device, for a Swapchain.
	Present bool
	// DeviceTimeout bounds every wait for the device: work not done within
	// it is reported as a hung device (ErrDeviceHung, also ErrDeviceLost).
	// 0 means VKCLR_DEVICE_TIMEOUT (a Go duration such as "90s") if set,
	// else DefaultDeviceTimeout (DefaultCPUDeviceTimeout on a CPU driver).
	DeviceTimeout time.Duration
}

// Default watchdog limits, generous: a GPU finishes a training step in
// seconds, while one step of the paper's batch (2x512 views) on lavapipe
// took over 10 minutes on two heavily loaded cores.
const (
	DefaultDeviceTimeout    = 10 * time.Minute
	DefaultCPUDeviceTimeout = 2 * time.Hour
)

// deviceTimeout resolves Options.DeviceTimeout for a device (cpu: a CPU driver).
func (o Options) deviceTimeout(cpu bool) (time.Duration, error) {
	if o.DeviceTimeout > 0 {
		return o.DeviceTimeout, nil
	}
	env := os.Getenv("VKCLR_DEVICE_TIMEOUT")
	if env == "" {
		if cpu {
			return DefaultCPUDeviceTimeout, nil
		}
		return DefaultDeviceTimeout, nil
	}
	d, err := time.ParseDuration(env)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("VKCLR_DEVICE_TIMEOUT=%q: want a positive duration such as 10m or 90s", env)
	}
	return d, nil
}

// ValidationFromEnv reports whether VKCLR_VALIDATE asks for validation.
func ValidationFromEnv() bool {
	v := os.Getenv("VKCLR_VALIDATE")
	return v != "" && v != "0" && v != "false"
}

// instance is a VkInstance with its debug messenger.
type instance struct {
	h   C.VkInstance
	msg C.VkDebugUtilsMessengerEXT
}

// The debug callback has no context pointer of ours; messages are routed to
// the logger of the validating instance (only one validates at a time in
// practice) and counted globally.
var (
	debugMu     sync.Mutex
	debugLogger *log.Logger
	debugCount  atomic.Int64
)

//export goDebugMessage
func goDebugMessage(sev C.int, types C.int, msg *C.char) {
	debugCount.Add(1)
	debugMu.Lock()
	l := debugLogger
	debugMu.Unlock()
	if l == nil {
		l = log.Default()
	}
	kind := "warning"
	if sev >= 0x1000 {
		kind = "error"
	}
	l.Printf("vulkan validation %s: %s", kind, C.GoString(msg))
}

// ValidationMessages is the number of validation-layer messages seen by this
// process so far; tests assert it does not grow.
func ValidationMessages() int64 { return debugCount.Load() }

func newInstance(validate bool, logger *log.Logger, exts []string) (*instance, error) {
	if err := load(); err != nil {
		return nil, err
	}
	if validate {
		debugMu.Lock()
		debugLogger = logger
		debugMu.Unlock()
	}
	v := C.int(0)
	if validate {
		v = 1
	}
	in := &instance{}
	cexts := make([]*C.char, len(exts)+1) // +1: never a zero-length array to index
	for i, e := range exts {
		cexts[i] = C.CString(e)
		defer C.free(unsafe.Pointer(cexts[i]))
	}
	r := C.vkclr_create_instance(v, &cexts[0], C.uint32_t(len(exts)), &in.h, &in.msg)
	if r == C.VK_ERROR_LAYER_NOT_PRESENT && validate {
		return nil, fmt.Errorf("vk: validation requested but VK_LAYER_KHRONOS_validation is not installed: apt-get install vulkan-validationlayers")
	}
	if err := check("vkCreateInstance", vk.Result(r)); err != nil {
		if len(exts) > 0 && vk.Result(r) == vk.ErrorExtensionNotPresent {
			return nil, fmt.Errorf("%w: the Vulkan loader lacks the window-system extensions %v (%w)", ErrNoPresent, exts, err)
		}
		if vk.Result(r) == vk.ErrorIncompatibleDriver {
			return nil, fmt.Errorf("%w: %w; install a Vulkan driver (mesa-vulkan-drivers for the CPU)", ErrNoDevice, err)
		}
		return nil, err
	}
	if err := vk.InitInstance(vk.Instance(unsafe.Pointer(in.h))); err != nil {
		in.destroy()
		return nil, fmt.Errorf("vk: binding instance init: %w", err)
	}
	return in, nil
}

func (in *instance) vk() vk.Instance { return vk.Instance(unsafe.Pointer(in.h)) }

func (in *instance) destroy() {
	if in.h != nil {
		C.vkclr_destroy_instance(in.h, in.msg)
		in.h = nil
	}
}

func (in *instance) physicalDevices() ([]vk.PhysicalDevice, error) {
	var n uint32
	if err := check("vkEnumeratePhysicalDevices", vk.EnumeratePhysicalDevices(in.vk(), &n, nil)); err != nil {
		return nil, err
	}
	pds := make([]vk.PhysicalDevice, n)
	if n > 0 {
		if err := check("vkEnumeratePhysicalDevices", vk.EnumeratePhysicalDevices(in.vk(), &n, pds)); err != nil {
			return nil, err
		}
	}
	return pds[:n], nil
}

// Devices lists every Vulkan device with its capability report.
func Devices() ([]Caps, error) {
	in, err := newInstance(false, nil, nil)
	if err != nil {
		return nil, err
	}
	defer in.destroy()
	pds, err := in.physicalDevices()
	if err != nil {
		return nil, err
	}
	out := make([]Caps, len(pds))
	for i, pd := range pds {
		out[i] = queryCaps(in, pd, i)
	}
	return out, nil
}

// pick chooses a device by Options.Device.
func pick(all []Caps, sel string) (int, error) {
	if len(all) == 0 {
		return 0, fmt.Errorf("%w: the Vulkan loader found no physical device; install a driver (mesa-vulkan-drivers gives lavapipe on the CPU)", ErrNoDevice)
	}
	if sel == "" {
		best := 0
		for i, c := range all {
			if c.rank() > all[best].rank() {
				best = i
			}
		}
		return best, nil
	}
	var idx int
	if _, err := fmt.Sscanf(sel, "%d", &idx); err == nil && fmt.Sprint(idx) == sel {
		if idx < 0 || idx >= len(all) {
			return 0, fmt.Errorf("vk: device %d does not exist; 'vkclr devices' lists %d device(s)", idx, len(all))
		}
		return idx, nil
	}
	for i, c := range all {
		if strings.Contains(strings.ToLower(c.Name), strings.ToLower(sel)) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("vk: no device name contains %q; 'vkclr devices' lists them", sel)
}

// Context is one open device with its compute queue.
type Context struct {
	Caps Caps

	inst     *instance
	pd       vk.PhysicalDevice
	dev      vk.Device
	queue    vk.Queue
	qfam     uint32
	cmdPool  vk.CommandPool
	fns      C.vkclr_fns // the calls made from C (ccall.h)
	memProps vk.PhysicalDeviceMemoryProperties
	alloc    *allocator
	cache    vk.PipelineCache
	cacheFn  string
	queueMu  sync.Mutex

	mu        sync.Mutex
	pipelines map[string]*Pipeline
	closers   []func() // released in reverse order by Close
	lost      atomic.Bool
	hung      atomic.Bool   // the watchdog gave up on the device: Close must not wait for it
	timeout   time.Duration // the watchdog's limit (Options.DeviceTimeout)
	validate  bool
	// forceStaging makes Upload and Download use a staging copy even where
	// memory is mapped, so tests cover the path discrete GPUs take.
	forceStaging bool
}

// Open opens a device.
func Open(opt Options) (*Context, error) {
	validate := opt.Validate || ValidationFromEnv()
	if _, err := opt.deviceTimeout(false); err != nil {
		return nil, err
	}
	in, err := newInstance(validate, opt.Logger, opt.InstanceExtensions)
	if err != nil {
		return nil, err
	}
	c := &Context{inst: in, pipelines: map[string]*Pipeline{}, validate: validate}
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()
	pds, err := in.physicalDevices()
	if err != nil {
		return nil, err
	}
	all := make([]Caps, len(pds))
	for i, pd := range pds {
		all[i] = queryCaps(in, pd, i)
	}
	idx, err := pick(all, opt.Device)
	if err != nil {
		return nil, err
	}
	c.Caps, c.pd = all[idx], pds[idx]
	c.timeout, _ = opt.deviceTimeout(c.Caps.IsCPU())
	c.qfam = c.Caps.computeQueueFamily
	if c.qfam == noQueue {
		return nil, fmt.Errorf("vk: device %q has no compute queue", c.Caps.Name)
	}
	var cdev C.VkDevice
	present := C.int(0)
	if opt.Present {
		present = 1
	}
	if err := check("vkCreateDevice", vk.Result(C.vkclr_create_device(in.h, C.VkPhysicalDevice(unsafe.Pointer(c.pd)), C.uint32_t(c.qfam), &c.Caps.raw, present, &cdev))); err != nil {
		if opt.Present && err.(*Error).Result == vk.ErrorExtensionNotPresent {
			return nil, fmt.Errorf("%w: device %q cannot present to windows (no VK_KHR_swapchain); choose another with --device", ErrNoPresent, c.Caps.Name)
		}
		return nil, err
	}
	c.dev = vk.Device(unsafe.Pointer(cdev))
	if name := C.vkclr_fns_load(in.h, cdev, &c.fns); name != nil {
		return nil, fmt.Errorf("vk: device %q gives no %s; update its driver", c.Caps.Name, C.GoString(name))
	}
	var q vk.Queue
	vk.GetDeviceQueue(c.dev, c.qfam, 0, &q)
	c.queue = q

	var pool vk.CommandPool
	if err := check("vkCreateCommandPool", vk.CreateCommandPool(c.dev, &vk.CommandPoolCreateInfo{
		SType:            vk.StructureTypeCommandPoolCreateInfo,
		Flags:            vk.CommandPoolCreateFlags(vk.CommandPoolCreateResetCommandBufferBit),
		QueueFamilyIndex: c.qfam,
	}, nil, &pool)); err != nil {
		return nil, err
	}
	c.cmdPool = pool
	var mp vk.PhysicalDeviceMemoryProperties
	vk.GetPhysicalDeviceMemoryProperties(c.pd, &mp)
	mp.Deref()
	for i := range mp.MemoryTypes {
		mp.MemoryTypes[i].Deref()
	}
	c.memProps = mp
	c.alloc = newAllocator(c)
	if !opt.NoPipelineCache {
		c.openPipelineCache()
	}
	if err := c.createPipelineCacheIfNone(); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// cdev is the device handle as cgo sees it.
func (c *Context) cdev() C.VkDevice { return C.VkDevice(unsafe.Pointer(c.dev)) }

// Validating reports whether the validation layer is on.
func (c *Context) Validating() bool { return c.validate }

// Close waits for the device and releases everything in reverse order of creation.
func (c *Context) Close() {
	if c == nil || c.hung.Load() {
		return // a hung device would block the teardown; process exit frees it
	}
	if c.dev != nil {
		vk.DeviceWaitIdle(c.dev)
		c.mu.Lock()
		for _, p := range c.pipelines {
			p.destroy(c)
		}
		c.pipelines = map[string]*Pipeline{}
		c.mu.Unlock()
		for i := len(c.closers) - 1; i >= 0; i-- {
			c.closers[i]()
		}
		c.closers = nil
		if c.alloc != nil {
			c.alloc.destroy()
		}
		c.savePipelineCache()
		if c.cache != vk.NullPipelineCache {
			vk.DestroyPipelineCache(c.dev, c.cache, nil)
		}
		if c.cmdPool != vk.NullCommandPool {
			vk.DestroyCommandPool(c.dev, c.cmdPool, nil)
		}
		vk.DestroyDevice(c.dev, nil)
		c.dev = nil
	}
	if c.inst != nil {
		c.inst.destroy()
		c.inst = nil
	}
}

// markLost records a lost device so later calls fail fast with ErrDeviceLost.
func (c *Context) markLost(err error) error {
	if err != nil && errIsLost(err) {
		c.lost.Store(true)
	}
	return err
}

func errIsLost(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Result == vk.ErrorDeviceLost
}

// Lost reports whether the device was lost.
func (c *Context) Lost() bool { return c.lost.Load() }
