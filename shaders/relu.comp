// relu.comp: y = max(x, 0) keeping NaN (forward), dx = dy*[y > 0] (backward,
// -DBACKWARD) or dx += dy*[y > 0] (-DBACKWARD -DACCUMULATE, folding a second
// gradient contribution in place). Each invocation handles K vec4s strided
// by the workgroup size; the one at index n/4 does the scalar tail. Inputs
// are texels with -DTEXEL (see load.glsl).
#version 450
#include "common.glsl"
#include "load.glsl"
//!variant texel -DTEXEL=1
//!variant bwd -DBACKWARD=1
//!variant bwd_texel -DBACKWARD=1 -DTEXEL=1
//!variant bwd_acc -DBACKWARD=1 -DACCUMULATE=1
//!variant bwd_acc_texel -DBACKWARD=1 -DACCUMULATE=1 -DTEXEL=1

layout(constant_id = 3) const uint K = 4;
layout(push_constant) uniform Push { uint n; } p;
#ifndef BACKWARD
INPUT4(0, x)
layout(std430, set = 0, binding = 1) writeonly buffer Y { float y1[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Y4 { vec4 y4[]; };
#else
INPUT4(0, y)
INPUT4(1, dy)
#ifdef ACCUMULATE
layout(std430, set = 0, binding = 2) buffer DX { float dx1[]; };
layout(std430, set = 0, binding = 2) buffer DX4 { vec4 dx4[]; };
#else
layout(std430, set = 0, binding = 2) writeonly buffer DX { float dx1[]; };
layout(std430, set = 0, binding = 2) writeonly buffer DX4 { vec4 dx4[]; };
#endif
#endif

float relu(float v) { return (v > 0.0 || isnan(v)) ? v : 0.0; }
vec4 relu(vec4 v) { return vec4(relu(v.x), relu(v.y), relu(v.z), relu(v.w)); }
float mask(float y, float d) { return y > 0.0 ? d : 0.0; }
vec4 mask(vec4 y, vec4 d) { return mix(vec4(0.0), d, greaterThan(y, vec4(0.0))); }

void main() {
	uint n4 = p.n / 4;
	uint base = flat_group() * gl_WorkGroupSize.x * K + gl_LocalInvocationID.x;
	[[unroll]] for (uint k = 0; k < K; k++) {
		uint q = base + k * gl_WorkGroupSize.x;
		if (q < n4) {
#ifndef BACKWARD
			y4[q] = relu(LOAD(x, q));
#elif defined(ACCUMULATE)
			dx4[q] += mask(LOAD(y, q), LOAD(dy, q));
#else
			dx4[q] = mask(LOAD(y, q), LOAD(dy, q));
#endif
		}
	}
	if (TAIL_OWNER(base, n4, K))
		for (uint i = 4 * n4; i < p.n; i++) {
#ifndef BACKWARD
			y1[i] = relu(LOAD1(x, i));
#elif defined(ACCUMULATE)
			dx1[i] += mask(LOAD1(y, i), LOAD1(dy, i));
#else
			dx1[i] = mask(LOAD1(y, i), LOAD1(dy, i));
#endif
		}
}
