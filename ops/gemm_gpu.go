// The "gpu" variant's GEMM core (shaders/gemm_gpu.glsl), shared by gemm_gpu and conv2d_*_gpu: its
// tile configuration from the device's limits, and how its operands are bound.
package ops

import "github.com/vkclr/vkclr/vk"

// gpuLocal is the specialization of the shared-memory kernels: the workgroup (WX, WY, 1), BK, TM, TN.
// A workgroup computes a BM x BN = TM*WY x TN*WX block, each thread TM x TN outputs: 16 x 16 threads
// of 8 x 8 (a 128 x 128 block) where the device allows 256 invocations, else 16 x 8 threads (64 x 128,
// within the 128 invocations every device has). BK is the largest of 16 and 8 whose double-buffered
// panels, 2 * 4 * BK * (BM + BN) bytes, fit the device's shared memory (lavapipe's 32 KiB holds
// 128 x 128 at BK 16; the 16 KiB every device has holds it at BK 8).
func gpuLocal(c *vk.Caps) []uint32 {
	wx, wy := uint32(16), uint32(8)
	if c.MaxWorkgroupInvoc >= 256 && c.MaxWorkgroupSize[0] >= 16 && c.MaxWorkgroupSize[1] >= 16 {
		wy = 16
	}
	const tm, tn = 8, 8
	bk := uint32(16)
	if 8*bk*(tm*wy+tn*wx) > c.SharedMemory {
		bk = 8
	}
	return []uint32{wx, wy, 1, bk, tm, tn}
}

// gpuLocalNarrow is gpuLocal for outputs of at most bn columns (32 or 64): a convolution of 16-64
// channels filled 16-64 of the 128 columns of gpuLocal's block, so most of a GPU's lanes multiplied
// zeros (an H200 ran width 16's step at 3.2 TFLOP/s, BENCHMARKS.md "NVIDIA H200"). 256 threads as
// there, 8 x 4 outputs each: 256 x 32 (8 x 32 threads) or 128 x 64 (16 x 16). BK as gpuLocal picks
// it, and 8 where 16 would give a thread more than two A loads a step: 256 x 32 at BK 16 takes four
// (and 36 KiB of shared memory, more than lavapipe's 32, whose limit alone gives BK 8 there), a form
// no test here can run, so it is not built (the H200 timed it, 2026-11-30, but ran no test of it).
// Devices without 256 invocations, or 32 in y, or without the block's shared memory at BK 8 (256 x 32
// takes 18 KiB; Vulkan guarantees 16) get gpuLocal's block.
func gpuLocalNarrow(bn uint32) func(c *vk.Caps) []uint32 {
	return func(c *vk.Caps) []uint32 {
		if !narrowOK(c) {
			return gpuLocal(c)
		}
		const tm, tn = 8, 4
		wx := bn / tn
		wy := 256 / wx
		bk := uint32(16)
		if 8*bk*(tm*wy+tn*wx) > c.SharedMemory || tm*wy*bk/4 > 2*wx*wy {
			bk = 8
		}
		if 8*bk*(tm*wy+tn*wx) > c.SharedMemory {
			return gpuLocal(c) // 256 x 32 at BK 8 takes 18 KiB; a device may have only 16
		}
		return []uint32{wx, wy, 1, bk, tm, tn}
	}
}

// narrowOK reports whether the device takes gpuLocalNarrow's 256-thread workgroups, 32 high.
func narrowOK(c *vk.Caps) bool {
	return c.MaxWorkgroupInvoc >= 256 && c.MaxWorkgroupSize[0] >= 16 && c.MaxWorkgroupSize[1] >= 32
}

// gpuConvPipe is the gpu-variant kernel base + "_gpu" for an output of cols columns: the narrow
// blocks where cols fits one, unless the environment sets VKCLR_GPU_NARROW=0 (the 128 x 128 block
// for every shape, to compare the two). Grad weight's block also sets its split over pixels
// (weightChunks asks this function for it, so the split and the dispatch agree).
func (k *Kernels) gpuConvPipe(base string, cols int) *vk.Pipeline {
	if !k.Square {
		switch {
		case cols <= 32:
			return k.pipe(base + "_gpu_n32")
		case cols <= 64:
			return k.pipe(base + "_gpu_n64")
		}
	}
	return k.pipe(base + "_gpu")
}

// gpuBlock is the block of C one workgroup of a gpu-variant kernel computes.
func gpuBlock(p *vk.Pipeline) (bm, bn, threads int) {
	return int(p.Spec[4] * p.Spec[1]), int(p.Spec[5] * p.Spec[0]), int(p.Spec[0] * p.Spec[1])
}

// gpuOperand binds the float32s [first, first+n) of b for a gpu-variant kernel: as operand does for a
// storage buffer, but from a 16-byte boundary, so the kernel's vec4 alias of the binding lines up with
// its float view (element i is component i%4 of vec4 i/4).
func (k *Kernels) gpuOperand(b vk.Binding, first, n int) (vk.Binding, int, bool) {
	bind, off, ok := k.operand(b, first, n, vk.Storage)
	if d := bind.Off % 16; d != 0 { // the device's alignment is a power of 2 below 16
		bind.Off -= d
		bind.Size += d
		off += int(d / 4)
		ok = ok && bind.Size <= k.storageLimit()
	}
	return bind, off, ok
}
