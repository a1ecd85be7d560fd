// colsum.comp: out[i] = the sum over rows z of in[z, i] of a (rows, n) matrix, z in ascending
// order, so results are bit-identical from run to run (no float atomics). It adds conv2d backward
// weight's per-chunk partials, and sums a linear layer's dy over the batch for its bias gradient.
// EXPAND (colsum_expand): the rows of im2col's _u variant back into a (R, S, C, K) gradient: element
// i = ((r*S + s)*C + c)*K + k sums the partials' row (r*S + s)*used + c (rows of srcN floats), and is
// zero for c >= used.
#version 450
#include "common.glsl"
//!variant expand -DEXPAND=1

layout(push_constant) uniform Push { uint n, rows, inoff, outoff, K, C, used, srcN; } p;
layout(std430, set = 0, binding = 0) readonly buffer In { float in_[]; };   // (rows, n)
layout(std430, set = 0, binding = 1) writeonly buffer Out { float out_[]; }; // (n)

void main() {
	uint i = flat_id();
	if (i >= p.n) return;
	float s = 0.0;
#ifdef EXPAND
	uint k = i % p.K, rc = i / p.K, c = rc % p.C;
	if (c < p.used) {
		uint src = p.inoff + ((rc / p.C) * p.used + c) * p.K + k;
		for (uint z = 0; z < p.rows; z++) s += in_[src + z * p.srcN];
	}
#else
	for (uint z = 0; z < p.rows; z++) s += in_[p.inoff + z * p.n + i];
#endif
	out_[p.outoff + i] = s;
}
