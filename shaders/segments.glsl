// segments.glsl: the optimizer segment table and range walking.
//
// The table is int32 triples (offset, len, exclude), one per parameter
// tensor, sorted by offset and not overlapping (ops.SegmentTable checks
// that). Elements outside every segment are left alone. Define SEG_BINDING
// before including.
layout(std430, set = 0, binding = SEG_BINDING) readonly buffer Segs { int segs[]; };

uint seg_off(uint s) { return uint(segs[3 * s]); }
uint seg_len(uint s) { return uint(segs[3 * s + 1]); }
bool seg_excluded(uint s) { return segs[3 * s + 2] != 0; }

// seg_find returns the first of nsegs segments that ends after element e
// (ends are nondecreasing in a sorted table), nsegs if none does.
uint seg_find(uint e, uint nsegs) {
	uint lo = 0, hi = nsegs;
	while (lo < hi) {
		uint mid = (lo + hi) / 2;
		if (seg_off(mid) + seg_len(mid) <= e) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}
