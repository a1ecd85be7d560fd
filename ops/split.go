// Splitting ops over storage bindings that fit: a tensor may be larger than
// the device's maxStorageBufferRange (lavapipe: 128 MiB; a ResNet-18 layer1
// activation at the paper's 2x512 views is 256 MiB), so the streaming ops
// (batchnorm, elementwise, pools) run over consecutive pieces of whole units
// (vec4s, batchnorm chunks, images), each bound on its own. Pieces keep
// their starts aligned for storage, texel and vec4 access, and a tensor that
// fits is recorded exactly as before, in one piece.
package ops

import (
	"fmt"

	"github.com/vkclr/vkclr/vk"
)

// pieceUnits is how many of n units fit one piece: units of unitFloats
// floats in the largest tensor, and of alsoFloats in the others bound
// alongside, every piece start aligned in all of them. It is n when the
// whole tensor fits one binding.
func (k *Kernels) pieceUnits(n, unitFloats int, alsoFloats ...int) int {
	limit := k.storageLimit()
	if uint64(4*n*unitFloats) <= limit {
		return n
	}
	caps := &k.Ctx.Caps
	align := max(caps.StorageAlign, caps.TexelAlign, 16)
	q := 1 // units per aligned step
	for {
		ok := uint64(4*q*unitFloats)%align == 0
		for _, f := range alsoFloats {
			ok = ok && uint64(4*q*f)%align == 0
		}
		if ok {
			break
		}
		q++
	}
	step := int(limit/uint64(4*unitFloats)) / q * q
	if step < 1 {
		// Only a range lowered for tests gets here: take the smallest aligned
		// step, which the device's own range must hold.
		step = q
		if uint64(4*q*unitFloats) > caps.MaxStorageBufferRange {
			panic(fmt.Sprintf("ops: %d units of %d floats (the smallest aligned piece) exceed the storage range %d", q, unitFloats, caps.MaxStorageBufferRange))
		}
	}
	return step
}

// piece binds n floats of b from element first; whole keeps b as it is
// (the tensor fits in one piece).
func piece(b vk.Binding, first, n int, whole bool) vk.Binding {
	if whole || b.Buf == nil {
		return b
	}
	return vk.Binding{Buf: b.Buf, Off: b.Off + uint64(4*first), Size: uint64(4 * n)}
}

// elementwise records kernel name (and its _texel variant, which reads the
// first nTex bindings as texels) over n floats of every binding, piece by
// piece; pieces write disjoint ranges, so they need no barrier between them.
func (k *Kernels) elementwise(s *vk.Seq, name string, n, nTex int, binds ...vk.Binding) {
	step := k.pieceUnits(n, 1)
	for i0 := 0; i0 < n; i0 += step {
		m := min(step, n-i0)
		bs := make([]vk.Binding, len(binds))
		ptrs := make([]*vk.Binding, nTex)
		for i, b := range binds {
			bs[i] = piece(b, i0, m, step >= n)
			if i < nTex {
				ptrs[i] = &bs[i]
			}
		}
		v := name
		if t, ok := k.texels(m, ptrs...); ok {
			copy(bs, t)
			v += "_texel"
		}
		if i0 > 0 {
			s.NoBarrier()
		}
		k.dispatchWide(s, v, m/4, vk.Push(m), bs...)
	}
}

// byImage calls f for consecutive image ranges [n0, n0+nn) of a batch of N
// whose per-image tensors (perImage floats each) fit one binding; whole is
// set when the batch is one piece.
func (k *Kernels) byImage(N int, perImage []int, f func(n0, nn int, whole bool)) {
	unit := 0
	for _, p := range perImage {
		unit = max(unit, p)
	}
	step := k.pieceUnits(N, unit, perImage...)
	for n0 := 0; n0 < N; n0 += step {
		f(n0, min(step, N-n0), step >= N)
	}
}
