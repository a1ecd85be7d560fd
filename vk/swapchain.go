package vk

/*
#include <stdlib.h>
#include "wsi.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// ErrNoPresent: the device or the loader cannot show images in a window.
var ErrNoPresent = errors.New("no presentation support")

// ErrOutOfDate: the window changed size; call Swapchain.Resize and draw again.
var ErrOutOfDate = errors.New("swapchain out of date")

// Swapchain shows host-composed RGBA frames in a window through a Vulkan
// swapchain: each frame is copied from a staging buffer into the acquired
// image (transfer usage only, no graphics pipeline) and presented.
// The window system's surface comes in as a raw handle (glfw creates it from
// InstanceHandle), so the window library stays out of this package.
type Swapchain struct {
	ctx *Context
	s   *C.vkclr_swapchain // C memory: the binding would keep Go pointers in it
}

// InstanceHandle is the VkInstance, for a window library to create a surface with.
func (c *Context) InstanceHandle() uintptr { return uintptr(unsafe.Pointer(c.inst.h)) }

// NewSwapchain takes ownership of surface (a VkSurfaceKHR of this context's
// instance) and builds a swapchain of width x height where the surface lets
// the application choose. The context must have been opened with Present.
func (c *Context) NewSwapchain(surface uintptr, width, height int) (*Swapchain, error) {
	s := (*C.vkclr_swapchain)(C.calloc(1, C.sizeof_vkclr_swapchain))
	s.inst = c.inst.h
	s.pd = C.VkPhysicalDevice(unsafe.Pointer(c.pd))
	s.dev = C.VkDevice(unsafe.Pointer(c.dev))
	s.queue = C.VkQueue(unsafe.Pointer(c.queue))
	s.qfam = C.uint32_t(c.qfam)
	s.surface = *(*C.VkSurfaceKHR)(unsafe.Pointer(&surface)) // a non-dispatchable handle: 64 bits, pointer-typed in C
	sc := &Swapchain{ctx: c, s: s}
	if err := sc.err("vkclr_sc_init", C.vkclr_sc_init(s)); err != nil {
		sc.Close()
		return nil, err
	}
	if err := sc.Resize(width, height); err != nil {
		sc.Close()
		return nil, err
	}
	return sc, nil
}

// err turns a failed C call into an error; "cannot present" failures wrap ErrNoPresent.
func (sc *Swapchain) err(fn string, r C.VkResult) error {
	if r == C.VK_SUCCESS {
		return nil
	}
	why := C.GoString(&sc.s.err[0])
	if why == "" {
		why = fn
	}
	e := &Error{Func: why, Result: vk.Result(r)}
	switch vk.Result(r) {
	case vk.ErrorFeatureNotPresent, vk.ErrorFormatNotSupported:
		return fmt.Errorf("%w: device %q: %s", ErrNoPresent, sc.ctx.Caps.Name, why)
	case vk.ErrorOutOfDate:
		return fmt.Errorf("%w (%w)", ErrOutOfDate, e)
	}
	return sc.ctx.markLost(e)
}

// Resize rebuilds the swapchain for a window of width x height (the surface's
// own extent wins where it has one). A zero size (minimized) leaves no images;
// Present then returns ErrOutOfDate until the next Resize.
func (sc *Swapchain) Resize(width, height int) error {
	sc.ctx.queueMu.Lock()
	defer sc.ctx.queueMu.Unlock()
	return sc.err("vkclr_sc_build", C.vkclr_sc_build(sc.s, C.uint32_t(max(width, 0)), C.uint32_t(max(height, 0))))
}

// Extent is the size of the swapchain's images (0, 0 while minimized).
func (sc *Swapchain) Extent() (width, height int) { return int(sc.s.width), int(sc.s.height) }

// Format names the images' pixel format (VkFormat).
func (sc *Swapchain) Format() int { return int(sc.s.format) }

// Present shows img, placed at the top-left corner and cut to the extent.
// ErrOutOfDate (the window changed) asks for Resize; the frame may or may
// not have been shown.
func (sc *Swapchain) Present(img *image.RGBA) error {
	b := img.Rect
	if b.Empty() {
		return fmt.Errorf("vk: Present: empty image")
	}
	sc.ctx.queueMu.Lock()
	r := C.vkclr_sc_present(sc.s, (*C.uint8_t)(unsafe.Pointer(&img.Pix[img.PixOffset(b.Min.X, b.Min.Y)])),
		C.uint32_t(b.Dx()), C.uint32_t(b.Dy()), C.uint32_t(img.Stride))
	sc.ctx.queueMu.Unlock()
	if r == C.VK_SUBOPTIMAL_KHR {
		r = C.VK_ERROR_OUT_OF_DATE_KHR
	}
	return sc.err("vkclr_sc_present", r)
}

// Close waits for the device and frees the swapchain and the surface.
func (sc *Swapchain) Close() {
	if sc == nil || sc.s == nil {
		return
	}
	if sc.s.dev != nil {
		C.vkclr_sc_destroy(sc.s)
	}
	C.free(unsafe.Pointer(sc.s))
	sc.s = nil
}
