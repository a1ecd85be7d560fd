// Helpers the non-GEMM kernels share: workgroup sizes, vec4 eligibility,
// binding-size checks and small outputs at unaligned offsets.
package ops

import (
	"fmt"

	"github.com/vkclr/vkclr/vk"
)

// localWide is the workgroup size of the streaming kernels (batchnorm,
// elementwise, optimizers): 256 invocations on every device, a multiple of
// the subgroup size, within the device limit. On lavapipe each workgroup
// costs about a microsecond of scheduling, so wide groups that loop over
// several vec4s beat local1D's 64 there (measured 2-3x on a 64 MiB stream).
func localWide(c *vk.Caps) []uint32 {
	n := uint32(256)
	if sg := c.SubgroupSize; sg > 0 && n%sg != 0 {
		n = (n/sg + 1) * sg
	}
	return []uint32{min(n, c.MaxWorkgroupInvoc), 1, 1}
}

// wideVec4 is how many vec4s each invocation of an elementwise kernel
// handles (spec constant 3).
const wideVec4 = 4

func localWideK(c *vk.Caps) []uint32 { return append(localWide(c), wideVec4) }

// dispatchWide records an elementwise kernel over n4 vec4s (plus the scalar
// tail, which the invocation at index n4 handles).
func (k *Kernels) dispatchWide(s *vk.Seq, name string, n4 int, push []byte, binds ...vk.Binding) {
	k.dispatch1D(s, name, (n4+1+wideVec4-1)/wideVec4, push, binds...)
}

// vec4OK reports whether a kernel may view these bindings as vec4 arrays
// with C channels per row: C a multiple of 4 and every binding 16-byte aligned.
func vec4OK(C int, binds ...vk.Binding) bool {
	if C%4 != 0 {
		return false
	}
	for _, b := range binds {
		if b.Buf != nil && b.Off%16 != 0 {
			return false
		}
	}
	return true
}

// texels rebinds each of bs (n floats each) as whole RGBA32F texels for a
// kernel's -DTEXEL variant: only for the "cpu" kernel style (texel fetches
// are lavapipe's fast load path), and only where the device allows the
// view (offset alignment, whole texels inside the buffer, element limit).
func (k *Kernels) texels(n int, bs ...*vk.Binding) ([]vk.Binding, bool) {
	if k.Variant != "cpu" || n < 1 {
		return nil, false
	}
	caps := &k.Ctx.Caps
	align := max(caps.TexelAlign, 16)
	size := (uint64(4*n) + 15) &^ 15
	out := make([]vk.Binding, len(bs))
	for i, b := range bs {
		if b.Buf == nil || b.Off%align != 0 || b.Off+size > b.Buf.Size() || size/16 > uint64(caps.MaxTexelElements) {
			return nil, false
		}
		out[i] = vk.Binding{Buf: b.Buf, Off: b.Off, Size: size}
	}
	return out, true
}

// need panics unless b holds at least n float32s: a programmer error.
func need(op, name string, b vk.Binding, n int) {
	if b.Buf == nil {
		panic(fmt.Sprintf("ops.%s: %s is not bound", op, name))
	}
	if b.Size < uint64(4*n) {
		panic(fmt.Sprintf("ops.%s: %s holds %d floats, needs %d", op, name, b.Size/4, n))
	}
}

// needHead is need, then b cut to its first n floats: a kernel that binds all of a shared scratch
// buffer would otherwise bind more than it uses, past the device's range when the buffer is sized
// for a larger op.
func needHead(op, name string, b vk.Binding, n int) vk.Binding {
	need(op, name, b, n)
	return vk.Binding{Buf: b.Buf, Off: b.Off, Size: uint64(4 * n)}
}

// small rebinds a small output (a loss, a flag) from the storage-aligned
// offset at or below it, so it may sit anywhere in a buffer; the kernel
// adds the returned element index.
func (k *Kernels) small(b vk.Binding) (vk.Binding, int) {
	a := k.Ctx.Caps.StorageAlign
	if a == 0 {
		a = 1
	}
	d := b.Off % a
	return vk.Binding{Buf: b.Buf, Off: b.Off - d, Size: b.Size + d}, int(d / 4)
}
