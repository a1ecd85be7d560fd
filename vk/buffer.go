package vk

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Buffer is a VkBuffer bound to a piece of a memory block. Device buffers
// live in device-local memory; host buffers are mapped and serve as staging.
type Buffer struct {
	ctx   *Context
	h     vk.Buffer
	size  uint64
	host  bool
	blk   *block
	off   uint64 // offset in blk
	rsize uint64 // bytes reserved in blk
	views map[viewKey]vk.BufferView
}

type viewKey struct {
	off, size uint64
	kind      DescKind
}

// Binding is a range of a buffer as a shader sees it.
type Binding struct {
	Buf       *Buffer
	Off, Size uint64
}

const bufferUsage = vk.BufferUsageStorageBufferBit | vk.BufferUsageUniformTexelBufferBit |
	vk.BufferUsageTransferSrcBit | vk.BufferUsageTransferDstBit

// NewBuffer allocates a device buffer of size bytes (contents undefined).
func (c *Context) NewBuffer(size uint64) (*Buffer, error) { return c.newBuffer(size, false) }

// NewHostBuffer allocates a mapped host-visible buffer, for staging and
// for data the host writes every step.
func (c *Context) NewHostBuffer(size uint64) (*Buffer, error) { return c.newBuffer(size, true) }

func (c *Context) newBuffer(size uint64, host bool) (*Buffer, error) {
	if c.lost.Load() {
		return nil, &Error{Func: "vkCreateBuffer", Result: vk.ErrorDeviceLost}
	}
	if size == 0 {
		size = 4
	}
	var h vk.Buffer
	if err := check("vkCreateBuffer", vk.CreateBuffer(c.dev, &vk.BufferCreateInfo{
		SType:       vk.StructureTypeBufferCreateInfo,
		Size:        vk.DeviceSize(size),
		Usage:       vk.BufferUsageFlags(bufferUsage),
		SharingMode: vk.SharingModeExclusive,
	}, nil, &h)); err != nil {
		return nil, err
	}
	var req vk.MemoryRequirements
	vk.GetBufferMemoryRequirements(c.dev, h, &req)
	req.Deref()
	c.mu.Lock()
	blk, off, err := c.alloc.alloc(req, host)
	c.mu.Unlock()
	if err != nil {
		vk.DestroyBuffer(c.dev, h, nil)
		return nil, err
	}
	if err := check("vkBindBufferMemory", vk.BindBufferMemory(c.dev, h, blk.mem, vk.DeviceSize(off))); err != nil {
		c.mu.Lock()
		c.alloc.release(blk, off, uint64(req.Size))
		c.mu.Unlock()
		vk.DestroyBuffer(c.dev, h, nil)
		return nil, err
	}
	b := &Buffer{ctx: c, h: h, size: size, host: host, blk: blk, off: off, rsize: uint64(req.Size)}
	c.mu.Lock()
	if host {
		c.alloc.hostBytes += b.rsize
	} else {
		c.alloc.deviceBytes += b.rsize
		c.alloc.peakDevice = max(c.alloc.peakDevice, c.alloc.deviceBytes)
	}
	c.mu.Unlock()
	return b, nil
}

// Size is the buffer's size in bytes.
func (b *Buffer) Size() uint64 { return b.size }

// All binds the whole buffer.
func (b *Buffer) All() Binding { return Binding{b, 0, b.size} }

// Slice binds size bytes from off.
func (b *Buffer) Slice(off, size uint64) Binding {
	if off+size > b.size {
		panic(fmt.Sprintf("vk: slice [%d, %d) outside a buffer of %d bytes", off, off+size, b.size))
	}
	return Binding{b, off, size}
}

// Mapped returns the buffer's bytes when its memory is host visible
// (host buffers always; device buffers on unified-memory devices), else nil.
func (b *Buffer) Mapped() []byte {
	if b.blk.mapped == nil {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(b.blk.mapped, b.off)), b.size)
}

// Float32s views a mapped buffer as float32s (nil when not mapped).
func (b *Buffer) Float32s() []float32 {
	m := b.Mapped()
	if m == nil {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&m[0])), len(m)/4)
}

// Release frees the buffer. The caller makes sure no submitted work uses it.
func (b *Buffer) Release() {
	if b == nil || b.h == vk.NullBuffer || b.ctx.hung.Load() {
		return // (a hung device may still use it: leave it to process exit)
	}
	c := b.ctx
	for _, v := range b.views {
		vk.DestroyBufferView(c.dev, v, nil)
	}
	b.views = nil
	vk.DestroyBuffer(c.dev, b.h, nil)
	b.h = vk.NullBuffer
	c.mu.Lock()
	c.alloc.release(b.blk, b.off, b.rsize)
	if b.host {
		c.alloc.hostBytes -= b.rsize
	} else {
		c.alloc.deviceBytes -= b.rsize
	}
	c.mu.Unlock()
}

// MemoryInUse reports bytes held by device buffers now and at the peak.
func (c *Context) MemoryInUse() (now, peak uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.alloc.deviceBytes, c.alloc.peakDevice
}

// ResetPeak sets the peak to the current use.
func (c *Context) ResetPeak() {
	c.mu.Lock()
	c.alloc.peakDevice = c.alloc.deviceBytes
	c.mu.Unlock()
}

// view returns (creating once) a texel-buffer view of a range.
func (b *Buffer) view(off, size uint64, kind DescKind) (vk.BufferView, error) {
	k := viewKey{off, size, kind}
	if v, ok := b.views[k]; ok {
		return v, nil
	}
	format := vk.FormatR32g32b32a32Sfloat
	if kind == TexelFloat {
		format = vk.FormatR32Sfloat
	}
	var v vk.BufferView
	if err := check("vkCreateBufferView", vk.CreateBufferView(b.ctx.dev, &vk.BufferViewCreateInfo{
		SType:  vk.StructureTypeBufferViewCreateInfo,
		Buffer: b.h,
		Format: format,
		Offset: vk.DeviceSize(off),
		Range:  vk.DeviceSize(size),
	}, nil, &v)); err != nil {
		return nil, err
	}
	if b.views == nil {
		b.views = map[viewKey]vk.BufferView{}
	}
	b.views[k] = v
	return v, nil
}

// Upload copies src into dst (len(src) <= dst.Size), directly when the
// memory is mapped, else through a staging buffer and one submit.
func (c *Context) Upload(dst Binding, src []byte) error {
	if uint64(len(src)) > dst.Size {
		return fmt.Errorf("vk: upload of %d bytes into a binding of %d", len(src), dst.Size)
	}
	if len(src) == 0 {
		return nil
	}
	if m := dst.Buf.Mapped(); m != nil && !c.forceStaging {
		copy(m[dst.Off:], src)
		return nil
	}
	st, err := c.NewHostBuffer(uint64(len(src)))
	if err != nil {
		return err
	}
	defer st.Release()
	copy(st.Mapped(), src)
	s := c.NewSeq()
	defer s.Close()
	s.Copy(Binding{dst.Buf, dst.Off, uint64(len(src))}, st.All())
	return s.Run()
}

// Download copies src into dst (len(dst) <= src.Size).
func (c *Context) Download(dst []byte, src Binding) error {
	if uint64(len(dst)) > src.Size {
		return fmt.Errorf("vk: download of %d bytes from a binding of %d", len(dst), src.Size)
	}
	if len(dst) == 0 {
		return nil
	}
	if m := src.Buf.Mapped(); m != nil && !c.forceStaging {
		copy(dst, m[src.Off:])
		return nil
	}
	st, err := c.NewHostBuffer(uint64(len(dst)))
	if err != nil {
		return err
	}
	defer st.Release()
	s := c.NewSeq()
	defer s.Close()
	s.Copy(st.All(), Binding{src.Buf, src.Off, uint64(len(dst))})
	if err := s.Run(); err != nil {
		return err
	}
	copy(dst, st.Mapped())
	return nil
}

// UploadF32 and DownloadF32 move float32 slices.
func (c *Context) UploadF32(dst Binding, src []float32) error {
	if len(src) == 0 {
		return nil
	}
	return c.Upload(dst, unsafe.Slice((*byte)(unsafe.Pointer(&src[0])), 4*len(src)))
}

func (c *Context) DownloadF32(dst []float32, src Binding) error {
	if len(dst) == 0 {
		return nil
	}
	return c.Download(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst)), src)
}
