package vk

// #include "ccall.h"
import "C"

import (
	"fmt"
	"time"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Seq is a recorded sequence of dispatches and copies: built into one
// command buffer at the first Submit, then submittable again and again (a
// training step is one Seq replayed every step, with its inputs rewritten in
// place). Each command waits for the previous one with a global memory
// barrier unless NoBarrier marks it independent. With timing on, a
// timestamp after every command gives a per-command device time.
type Seq struct {
	ctx   *Context
	cmds  []cmd
	label string
	free  bool // next command needs no barrier
	timed bool
	built bool
	busy  bool
	// submitted is when the work in flight was submitted (the watchdog's start).
	submitted time.Time
	cb        vk.CommandBuffer
	pool      vk.DescriptorPool
	fence     vk.Fence
	query     vk.QueryPool
	nquery    uint32
}

type cmdKind int

const (
	cmdDispatch cmdKind = iota
	cmdCopy
	cmdFill
)

type cmd struct {
	kind     cmdKind
	label    string
	barrier  bool
	pipe     *Pipeline
	groups   [3]uint32
	push     []byte
	binds    []Binding
	dst, src Binding
	value    uint32
}

// NewSeq starts an empty sequence.
func (c *Context) NewSeq() *Seq { return &Seq{ctx: c} }

// SetTiming turns per-command timestamps on (before the first Submit);
// it is a no-op on devices without timestamps on the compute queue.
func (s *Seq) SetTiming(on bool) {
	s.mustBeOpen()
	s.timed = on && s.ctx.Caps.TimestampBits > 0
}

// Label names the following commands in the timing table.
func (s *Seq) Label(name string) { s.label = name }

// NoBarrier lets the next command run without waiting for the previous one;
// use it only where the two touch disjoint memory.
func (s *Seq) NoBarrier() { s.free = true }

// Len is the number of recorded commands.
func (s *Seq) Len() int { return len(s.cmds) }

func (s *Seq) mustBeOpen() {
	if s.built {
		panic("vk: Seq modified after its first Submit")
	}
}

func (s *Seq) add(c cmd) {
	s.mustBeOpen()
	c.label = s.label
	c.barrier = len(s.cmds) > 0 && !s.free
	s.free = false
	s.cmds = append(s.cmds, c)
}

// Dispatch records a dispatch of groups workgroups. The bindings match the
// pipeline's, in order; push is the push-constant block (see Push).
func (s *Seq) Dispatch(p *Pipeline, gx, gy, gz uint32, push []byte, binds ...Binding) {
	if len(binds) != len(p.bindings) {
		panic(fmt.Sprintf("vk: %s takes %d bindings, got %d", p.Name, len(p.bindings), len(binds)))
	}
	if uint32(len(push)) > p.push {
		panic(fmt.Sprintf("vk: %s push constants: %d bytes, block holds %d", p.Name, len(push), p.push))
	}
	caps := &s.ctx.Caps
	for i, b := range binds {
		if b.Buf == nil || b.Size == 0 {
			panic(fmt.Sprintf("vk: %s binding %d is empty", p.Name, i))
		}
		switch p.bindings[i] {
		case Storage:
			if b.Size > caps.MaxStorageBufferRange {
				panic(fmt.Sprintf("vk: %s binding %d: %d bytes exceed maxStorageBufferRange %d; split the work", p.Name, i, b.Size, caps.MaxStorageBufferRange))
			}
			if b.Off%caps.StorageAlign != 0 {
				panic(fmt.Sprintf("vk: %s binding %d: offset %d not aligned to %d", p.Name, i, b.Off, caps.StorageAlign))
			}
		default:
			if b.Off%caps.TexelAlign != 0 {
				panic(fmt.Sprintf("vk: %s binding %d: texel offset %d not aligned to %d", p.Name, i, b.Off, caps.TexelAlign))
			}
		}
	}
	for i, g := range [3]uint32{gx, gy, gz} {
		if g == 0 || g > caps.MaxWorkgroupCount[i] {
			panic(fmt.Sprintf("vk: %s: %d workgroups in dimension %d (limit %d)", p.Name, g, i, caps.MaxWorkgroupCount[i]))
		}
	}
	s.add(cmd{kind: cmdDispatch, pipe: p, groups: [3]uint32{gx, gy, gz}, push: append([]byte(nil), push...), binds: append([]Binding(nil), binds...)})
}

// Copy records a buffer-to-buffer copy of src.Size bytes.
func (s *Seq) Copy(dst, src Binding) {
	if src.Size > dst.Size {
		panic(fmt.Sprintf("vk: copy of %d bytes into %d", src.Size, dst.Size))
	}
	s.add(cmd{kind: cmdCopy, dst: dst, src: src})
}

// Fill records filling dst (size a multiple of 4) with a 32-bit pattern.
func (s *Seq) Fill(dst Binding, value uint32) {
	if dst.Size%4 != 0 || dst.Off%4 != 0 {
		panic("vk: Fill needs 4-byte aligned offset and size")
	}
	s.add(cmd{kind: cmdFill, dst: dst, value: value})
}

// Run submits and waits.
func (s *Seq) Run() error {
	if err := s.Submit(); err != nil {
		return err
	}
	return s.Wait()
}

// Submit builds the command buffer on first use and submits it. Host
// writes to mapped memory made before Submit are visible to the device.
func (s *Seq) Submit() error {
	c := s.ctx
	if c.lost.Load() {
		return &Error{Func: "vkQueueSubmit", Result: vk.ErrorDeviceLost}
	}
	if s.busy {
		return fmt.Errorf("vk: Seq submitted while still running; Wait first")
	}
	if !s.built {
		if err := s.build(); err != nil {
			return err
		}
	}
	if err := check("vkResetFences", vk.ResetFences(c.dev, 1, []vk.Fence{s.fence})); err != nil {
		return c.markLost(err)
	}
	c.queueMu.Lock()
	r := vk.Result(C.vkclr_submit(&c.fns, C.VkQueue(unsafe.Pointer(c.queue)), C.VkCommandBuffer(unsafe.Pointer(s.cb)), C.VkFence(unsafe.Pointer(s.fence))))
	c.queueMu.Unlock()
	if err := check("vkQueueSubmit", r); err != nil {
		return c.markLost(err)
	}
	s.busy, s.submitted = true, time.Now()
	return nil
}

// Wait blocks until the submitted work is done; afterwards the device's
// writes are visible to the host.
func (s *Seq) Wait() error {
	if !s.busy {
		return nil
	}
	c := s.ctx
	// The watchdog: a device that does not finish within the limit is hung,
	// and reported as lost (a driver would reset it sooner or later).
	deadline := s.submitted.Add(c.timeout)
	for {
		wait := min(time.Until(deadline), time.Second)
		r := vk.Timeout
		if wait > 0 {
			r = vk.WaitForFences(c.dev, 1, []vk.Fence{s.fence}, vk.True, uint64(wait))
		}
		if r == vk.Timeout {
			if time.Now().Before(deadline) {
				continue
			}
			c.hung.Store(true)
			c.lost.Store(true)
			return &Error{Func: "vkWaitForFences", Result: vk.Timeout, After: c.timeout}
		}
		s.busy = false
		return c.markLost(check("vkWaitForFences", r))
	}
}

// Timing is one command's device time: its Seq label, and what ran (a pipeline's name, "copy" or
// "fill").
type Timing struct {
	Label, Kernel string
	Nanos         float64
}

// Timings returns the device time of each command of the last run, in
// order (nil unless SetTiming was on). Times are differences of
// consecutive timestamps, so they add up to the whole sequence.
func (s *Seq) Timings() ([]Timing, error) {
	if !s.timed || !s.built || s.busy {
		return nil, nil
	}
	c := s.ctx
	raw := make([]uint64, s.nquery)
	r := vk.GetQueryPoolResults(c.dev, s.query, 0, s.nquery, uint(8*s.nquery), unsafe.Pointer(&raw[0]), 8,
		vk.QueryResultFlags(vk.QueryResult64Bit|vk.QueryResultWaitBit))
	if err := check("vkGetQueryPoolResults", r); err != nil {
		return nil, c.markLost(err)
	}
	mask := ^uint64(0)
	if c.Caps.TimestampBits < 64 {
		mask = (uint64(1) << c.Caps.TimestampBits) - 1
	}
	out := make([]Timing, len(s.cmds))
	for i := range s.cmds {
		d := (raw[i+1] - raw[i]) & mask
		var kernel string
		switch m := s.cmds[i]; m.kind {
		case cmdDispatch:
			kernel = m.pipe.Name
		case cmdCopy:
			kernel = "copy"
		case cmdFill:
			kernel = "fill"
		}
		out[i] = Timing{Label: s.cmds[i].label, Kernel: kernel, Nanos: float64(d) * c.Caps.TimestampPeriodNs}
	}
	return out, nil
}

// Close waits for the sequence and frees its command buffer, descriptors and queries.
func (s *Seq) Close() {
	if s == nil || s.ctx == nil {
		return
	}
	c := s.ctx
	if c.hung.Load() {
		return // the device may still use it: leave it to process exit
	}
	if s.busy {
		_ = s.Wait()
	}
	if s.cb != nil {
		vk.FreeCommandBuffers(c.dev, c.cmdPool, 1, []vk.CommandBuffer{s.cb})
		s.cb = nil
	}
	if s.pool != vk.NullDescriptorPool {
		vk.DestroyDescriptorPool(c.dev, s.pool, nil)
		s.pool = vk.NullDescriptorPool
	}
	if s.fence != vk.NullFence {
		vk.DestroyFence(c.dev, s.fence, nil)
		s.fence = vk.NullFence
	}
	if s.query != vk.NullQueryPool {
		vk.DestroyQueryPool(c.dev, s.query, nil)
		s.query = vk.NullQueryPool
	}
	s.ctx = nil
}

// build allocates descriptors for every dispatch and records the command buffer.
func (s *Seq) build() error {
	c := s.ctx
	for _, m := range s.cmds {
		if m.kind == cmdDispatch {
			if err := c.Compile(m.pipe); err != nil {
				return err
			}
		}
	}
	s.built = true
	var fence vk.Fence
	if err := check("vkCreateFence", vk.CreateFence(c.dev, &vk.FenceCreateInfo{SType: vk.StructureTypeFenceCreateInfo}, nil, &fence)); err != nil {
		return err
	}
	s.fence = fence
	cbs := make([]vk.CommandBuffer, 1)
	if err := check("vkAllocateCommandBuffers", vk.AllocateCommandBuffers(c.dev, &vk.CommandBufferAllocateInfo{
		SType:              vk.StructureTypeCommandBufferAllocateInfo,
		CommandPool:        c.cmdPool,
		Level:              vk.CommandBufferLevelPrimary,
		CommandBufferCount: 1,
	}, cbs)); err != nil {
		return err
	}
	s.cb = cbs[0]

	var nsets, nstorage, ntexel uint32
	for _, m := range s.cmds {
		if m.kind != cmdDispatch {
			continue
		}
		nsets++
		for _, k := range m.pipe.bindings {
			if k == Storage {
				nstorage++
			} else {
				ntexel++
			}
		}
	}
	sets := make([]vk.DescriptorSet, 0, nsets)
	if nsets > 0 {
		var pool C.VkDescriptorPool
		if err := check("vkCreateDescriptorPool", vk.Result(C.vkclr_descriptor_pool(&c.fns, c.cdev(), C.uint32_t(nsets), C.uint32_t(nstorage), C.uint32_t(ntexel), &pool))); err != nil {
			return err
		}
		s.pool = vk.DescriptorPool(unsafe.Pointer(pool))
		for _, m := range s.cmds {
			if m.kind != cmdDispatch {
				continue
			}
			var cset C.VkDescriptorSet
			if err := check("vkAllocateDescriptorSets", vk.Result(C.vkclr_alloc_set(&c.fns, c.cdev(), pool, C.VkDescriptorSetLayout(unsafe.Pointer(m.pipe.dsl)), &cset))); err != nil {
				return err
			}
			set := vk.DescriptorSet(unsafe.Pointer(cset))
			n := len(m.binds) // the arrays get one more, so &x[0] is valid when n is 0
			types := make([]C.uint32_t, n+1)
			bufs := make([]C.VkBuffer, n+1)
			offs := make([]C.uint64_t, n+1)
			ranges := make([]C.uint64_t, n+1)
			views := make([]C.VkBufferView, n+1)
			for i, b := range m.binds {
				k := m.pipe.bindings[i]
				types[i] = C.uint32_t(k.descriptorType())
				if k == Storage {
					bufs[i] = C.VkBuffer(unsafe.Pointer(b.Buf.h))
					offs[i], ranges[i] = C.uint64_t(b.Off), C.uint64_t(b.Size)
				} else {
					v, err := b.Buf.view(b.Off, b.Size, k)
					if err != nil {
						return err
					}
					views[i] = C.VkBufferView(unsafe.Pointer(v))
				}
			}
			C.vkclr_write_set(&c.fns, c.cdev(), cset, C.uint32_t(n), &types[0], &bufs[0], &offs[0], &ranges[0], &views[0])
			sets = append(sets, set)
		}
	}
	if s.timed {
		s.nquery = uint32(len(s.cmds)) + 1
		var qp vk.QueryPool
		if err := check("vkCreateQueryPool", vk.CreateQueryPool(c.dev, &vk.QueryPoolCreateInfo{
			SType:      vk.StructureTypeQueryPoolCreateInfo,
			QueryType:  vk.QueryTypeTimestamp,
			QueryCount: s.nquery,
		}, nil, &qp)); err != nil {
			return err
		}
		s.query = qp
	}

	cb := s.cb
	ccb := C.VkCommandBuffer(unsafe.Pointer(cb))
	if err := check("vkBeginCommandBuffer", vk.Result(C.vkclr_begin(&c.fns, ccb))); err != nil {
		return err
	}
	if s.timed {
		vk.CmdResetQueryPool(cb, s.query, 0, s.nquery)
		vk.CmdWriteTimestamp(cb, vk.PipelineStageBottomOfPipeBit, s.query, 0)
	}
	const stages = C.uint32_t(vk.PipelineStageComputeShaderBit | vk.PipelineStageTransferBit)
	const access = C.uint32_t(vk.AccessShaderReadBit | vk.AccessShaderWriteBit | vk.AccessTransferReadBit | vk.AccessTransferWriteBit)
	si := 0
	var bound *Pipeline
	for qi, m := range s.cmds {
		if m.barrier {
			C.vkclr_barrier(&c.fns, ccb, stages, stages, access, access)
		}
		switch m.kind {
		case cmdDispatch:
			if bound != m.pipe {
				vk.CmdBindPipeline(cb, vk.PipelineBindPointCompute, m.pipe.h)
				bound = m.pipe
			}
			vk.CmdBindDescriptorSets(cb, vk.PipelineBindPointCompute, m.pipe.layout, 0, 1, []vk.DescriptorSet{sets[si]}, 0, nil)
			si++
			if len(m.push) > 0 {
				vk.CmdPushConstants(cb, m.pipe.layout, vk.ShaderStageFlags(vk.ShaderStageComputeBit), 0, uint32(len(m.push)), unsafe.Pointer(&m.push[0]))
			}
			vk.CmdDispatch(cb, m.groups[0], m.groups[1], m.groups[2])
		case cmdCopy:
			C.vkclr_copy(&c.fns, ccb, C.VkBuffer(unsafe.Pointer(m.src.Buf.h)), C.VkBuffer(unsafe.Pointer(m.dst.Buf.h)), C.uint64_t(m.src.Off), C.uint64_t(m.dst.Off), C.uint64_t(m.src.Size))
		case cmdFill:
			vk.CmdFillBuffer(cb, m.dst.Buf.h, vk.DeviceSize(m.dst.Off), vk.DeviceSize(m.dst.Size), m.value)
		}
		if s.timed {
			vk.CmdWriteTimestamp(cb, vk.PipelineStageBottomOfPipeBit, s.query, uint32(qi+1))
		}
	}
	// Make the device's writes visible to the host after the fence.
	C.vkclr_barrier(&c.fns, ccb, stages, C.uint32_t(vk.PipelineStageHostBit), access, C.uint32_t(vk.AccessHostReadBit))
	return check("vkEndCommandBuffer", vk.EndCommandBuffer(cb))
}

// Run records with fn, submits, waits and frees: for one-off work.
func (c *Context) Run(fn func(s *Seq)) error {
	s := c.NewSeq()
	defer s.Close()
	fn(s)
	if len(s.cmds) == 0 {
		return nil
	}
	return s.Run()
}

// Grid1D folds n invocations of workgroups of size local into a grid that
// respects maxComputeWorkGroupCount; shaders unfold it with flat_id().
func Grid1D(c *Context, n, local int) (x, y, z uint32) {
	groups := (n + local - 1) / local
	if groups < 1 {
		groups = 1
	}
	lim := int(c.Caps.MaxWorkgroupCount[0])
	if groups <= lim {
		return uint32(groups), 1, 1
	}
	gy := (groups + lim - 1) / lim
	if gy <= int(c.Caps.MaxWorkgroupCount[1]) {
		return uint32(lim), uint32(gy), 1
	}
	gz := (gy + int(c.Caps.MaxWorkgroupCount[1]) - 1) / int(c.Caps.MaxWorkgroupCount[1])
	return uint32(lim), c.Caps.MaxWorkgroupCount[1], uint32(gz)
}
