// linear_bias_grad.comp: db[o] = sum over rows n of dy[n, o], summed in row order (deterministic).
#version 450
#include "common.glsl"

layout(push_constant) uniform Push { uint N, O, dyoff, dboff; } p;
layout(std430, set = 0, binding = 0) readonly buffer DY { float dy[]; }; // (N, O)
layout(std430, set = 0, binding = 1) writeonly buffer DB { float db[]; }; // (O)

void main() {
	uint o = flat_id();
	if (o >= p.O) return;
	float s = 0.0;
	for (uint n = 0; n < p.N; n++) s += dy[p.dyoff + n * p.O + o];
	db[p.dboff + o] = s;
}
