// relu.comp: y = max(x, 0) (forward) and dx = dy * [y > 0] (backward, -DBACKWARD).
#version 450
#include "common.glsl"
//!variant bwd -DBACKWARD=1

layout(push_constant) uniform Push { uint n; } p;
#ifndef BACKWARD
layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Y { float y[]; };
#else
layout(std430, set = 0, binding = 0) readonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, set = 0, binding = 2) writeonly buffer DX { float dx[]; };
#endif

void main() {
	uint i = flat_id();
	if (i >= p.n) return;
#ifndef BACKWARD
	y[i] = max(x[i], 0.0);
#else
	dx[i] = y[i] > 0.0 ? dy[i] : 0.0;
#endif
}
