package vk

import (
	"fmt"
	"sort"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// blockSize is the size of one VkDeviceMemory block that buffers are carved
// from. One allocation per tensor does not scale: maxMemoryAllocationCount
// is 4096 on many drivers. Requests over half a block get their own memory.
const blockSize = 64 << 20

// block is one VkDeviceMemory with a first-fit free list.
type block struct {
	mem     vk.DeviceMemory
	size    uint64
	typ     uint32
	mapped  unsafe.Pointer // non-nil for host-visible memory (mapped once)
	free    []span         // sorted by offset, coalesced
	used    int
	dedicat bool
}

type span struct{ off, size uint64 }

// allocator sub-allocates buffers from blocks, one list per memory type.
type allocator struct {
	ctx    *Context
	blocks map[uint32][]*block
	// Bytes currently allocated to buffers, by host visibility; for reports.
	deviceBytes, hostBytes, peakDevice uint64
}

func newAllocator(c *Context) *allocator { return &allocator{ctx: c, blocks: map[uint32][]*block{}} }

// memoryType picks a type allowed by bits: host buffers need HOST_VISIBLE and
// HOST_COHERENT; device buffers prefer DEVICE_LOCAL without host visibility (a
// real GPU's VRAM), then any DEVICE_LOCAL (unified memory, lavapipe), then anything.
func (a *allocator) memoryType(bits uint32, host bool) (uint32, error) {
	mp := &a.ctx.memProps
	want := func(req, avoid vk.MemoryPropertyFlagBits) (uint32, bool) {
		for i := uint32(0); i < mp.MemoryTypeCount; i++ {
			f := vk.MemoryPropertyFlagBits(mp.MemoryTypes[i].PropertyFlags)
			if bits&(1<<i) != 0 && f&req == req && f&avoid == 0 {
				return i, true
			}
		}
		return 0, false
	}
	if host {
		if t, ok := want(vk.MemoryPropertyHostVisibleBit|vk.MemoryPropertyHostCoherentBit|vk.MemoryPropertyHostCachedBit, 0); ok {
			return t, nil
		}
		if t, ok := want(vk.MemoryPropertyHostVisibleBit|vk.MemoryPropertyHostCoherentBit, 0); ok {
			return t, nil
		}
		return 0, fmt.Errorf("vk: no host-visible coherent memory type")
	}
	if t, ok := want(vk.MemoryPropertyDeviceLocalBit, vk.MemoryPropertyHostVisibleBit); ok {
		return t, nil
	}
	if t, ok := want(vk.MemoryPropertyDeviceLocalBit, 0); ok {
		return t, nil
	}
	if t, ok := want(0, 0); ok {
		return t, nil
	}
	return 0, fmt.Errorf("vk: no memory type for buffer (type bits %#x)", bits)
}

// hostVisible: mapped memory must also be coherent, since nothing flushes it.
func (a *allocator) hostVisible(typ uint32) bool {
	const want = vk.MemoryPropertyHostVisibleBit | vk.MemoryPropertyHostCoherentBit
	return vk.MemoryPropertyFlagBits(a.ctx.memProps.MemoryTypes[typ].PropertyFlags)&want == want
}

func (a *allocator) newBlock(typ uint32, size uint64, dedicated bool) (*block, error) {
	var mem vk.DeviceMemory
	r := vk.AllocateMemory(a.ctx.dev, &vk.MemoryAllocateInfo{
		SType:           vk.StructureTypeMemoryAllocateInfo,
		AllocationSize:  vk.DeviceSize(size),
		MemoryTypeIndex: typ,
	}, nil, &mem)
	if err := check("vkAllocateMemory", r); err != nil {
		return nil, fmt.Errorf("%w (allocating %s)", err, FormatBytes(size))
	}
	b := &block{mem: mem, size: size, typ: typ, free: []span{{0, size}}, dedicat: dedicated}
	if a.hostVisible(typ) {
		var p unsafe.Pointer
		if err := check("vkMapMemory", vk.MapMemory(a.ctx.dev, mem, 0, vk.DeviceSize(size), 0, &p)); err != nil {
			vk.FreeMemory(a.ctx.dev, mem, nil)
			return nil, err
		}
		b.mapped = p
	}
	a.blocks[typ] = append(a.blocks[typ], b)
	return b, nil
}

// take carves size bytes aligned to align from b's free list.
func (b *block) take(size, align uint64) (uint64, bool) {
	for i, s := range b.free {
		off := (s.off + align - 1) / align * align
		if off+size > s.off+s.size {
			continue
		}
		var rest []span
		if off > s.off {
			rest = append(rest, span{s.off, off - s.off})
		}
		if end := s.off + s.size; off+size < end {
			rest = append(rest, span{off + size, end - off - size})
		}
		b.free = append(b.free[:i], append(rest, b.free[i+1:]...)...)
		b.used++
		return off, true
	}
	return 0, false
}

func (b *block) give(off, size uint64) {
	b.free = append(b.free, span{off, size})
	sort.Slice(b.free, func(i, j int) bool { return b.free[i].off < b.free[j].off })
	merged := b.free[:1]
	for _, s := range b.free[1:] {
		last := &merged[len(merged)-1]
		if last.off+last.size == s.off {
			last.size += s.size
		} else {
			merged = append(merged, s)
		}
	}
	b.free = merged
	b.used--
}

func (a *allocator) alloc(req vk.MemoryRequirements, host bool) (*block, uint64, error) {
	typ, err := a.memoryType(req.MemoryTypeBits, host)
	if err != nil {
		return nil, 0, err
	}
	size, align := uint64(req.Size), uint64(req.Alignment)
	if align == 0 {
		align = 1
	}
	if size > blockSize/2 {
		b, err := a.newBlock(typ, size, true)
		if err != nil {
			return nil, 0, err
		}
		off, _ := b.take(size, align)
		return b, off, nil
	}
	for _, b := range a.blocks[typ] {
		if b.dedicat {
			continue
		}
		if off, ok := b.take(size, align); ok {
			return b, off, nil
		}
	}
	b, err := a.newBlock(typ, blockSize, false)
	if err != nil {
		return nil, 0, err
	}
	off, _ := b.take(size, align)
	return b, off, nil
}

func (a *allocator) release(b *block, off, size uint64) {
	b.give(off, size)
	if b.dedicat && b.used == 0 {
		a.freeBlock(b)
	}
}

func (a *allocator) freeBlock(b *block) {
	list := a.blocks[b.typ]
	for i, x := range list {
		if x == b {
			a.blocks[b.typ] = append(list[:i], list[i+1:]...)
			break
		}
	}
	if b.mapped != nil {
		vk.UnmapMemory(a.ctx.dev, b.mem)
	}
	vk.FreeMemory(a.ctx.dev, b.mem, nil)
}

func (a *allocator) destroy() {
	for _, list := range a.blocks {
		for _, b := range append([]*block(nil), list...) {
			a.freeBlock(b)
		}
	}
}

// FormatBytes prints a byte count in binary units.
func FormatBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
