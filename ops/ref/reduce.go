// Reductions used by the trainer's checks and the optimizers: sums, per-segment norms, finiteness.

package ref

import "math"

// Sum returns the sum of x, accumulated in float64 in index order.
func Sum[T Float](x []T) T {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return T(s)
}

// SegmentNorms writes the L2 norm of each segment of x into out (one per segment).
func SegmentNorms[T Float](x []T, segs []Segment, out []T) {
	checkLen("SegmentNorms", "out", out, len(segs)) // (len(segs))
	checkSegments("SegmentNorms", len(x), segs)
	for j, s := range segs {
		var ss float64
		for _, v := range x[s.Offset : s.Offset+s.Len] {
			ss += float64(v) * float64(v)
		}
		out[j] = T(math.Sqrt(ss))
	}
}

// AllFinite reports whether no element of x is NaN or infinite; call it on the loss and gradients to
// stop a run before a bad step reaches the parameters.
func AllFinite[T Float](x []T) bool {
	for _, v := range x {
		if !isFinite(float64(v)) {
			return false
		}
	}
	return true
}
