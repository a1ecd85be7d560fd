// colsum.comp: out[i] = the sum over rows z of in[z, i] of a (rows, n) matrix, z in ascending
// order, so results are bit-identical from run to run (no float atomics). It adds conv2d backward
// weight's per-chunk partials, and sums a linear layer's dy over the batch for its bias gradient.
#version 450
#include "common.glsl"

layout(push_constant) uniform Push { uint n, rows, inoff, outoff; } p;
layout(std430, set = 0, binding = 0) readonly buffer In { float in_[]; };   // (rows, n)
layout(std430, set = 0, binding = 1) writeonly buffer Out { float out_[]; }; // (n)

void main() {
	uint i = flat_id();
	if (i >= p.n) return;
	float s = 0.0;
	for (uint z = 0; z < p.rows; z++) s += in_[p.inoff + z * p.n + i];
	out_[p.outoff + i] = s;
}
