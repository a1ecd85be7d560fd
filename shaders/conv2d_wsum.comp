// conv2d_wsum.comp: dw[i] = the sum of the chunks' partials part[z, i], z in ascending order, so
// conv2d backward weight is bit-identical from run to run (no float atomics).
#version 450
#include "common.glsl"

layout(push_constant) uniform Push { uint n, chunks, partoff, dwoff; } p;
layout(std430, set = 0, binding = 0) readonly buffer Part { float part[]; }; // (chunks, n)
layout(std430, set = 0, binding = 1) writeonly buffer DW { float dw[]; };   // (n)

void main() {
	uint i = flat_id();
	if (i >= p.n) return;
	float s = 0.0;
	for (uint z = 0; z < p.chunks; z++) s += part[p.partoff + z * p.n + i];
	dw[p.dwoff + i] = s;
}
