// add.comp: out = a + b (the residual connection), or relu(a + b) with
// -DRELU. out may alias a or b. Each invocation handles K vec4s strided by
// the workgroup size; the one at index n/4 adds the scalar tail.
#version 450
#include "common.glsl"
#include "load.glsl"
//!variant relu -DRELU=1
//!variant texel -DTEXEL=1
//!variant relu_texel -DRELU=1 -DTEXEL=1

layout(constant_id = 3) const uint K = 4;
layout(push_constant) uniform Push { uint n; } p;
INPUT4(0, a)
INPUT4(1, b)
layout(std430, set = 0, binding = 2) writeonly buffer O { float o[]; };
layout(std430, set = 0, binding = 2) writeonly buffer O4 { vec4 o4[]; };

#ifdef RELU
float f(float v) { return (v > 0.0 || isnan(v)) ? v : 0.0; }
vec4 f(vec4 v) { return vec4(f(v.x), f(v.y), f(v.z), f(v.w)); }
#else
#define f(v) (v)
#endif

void main() {
	uint n4 = p.n / 4;
	uint base = flat_group() * gl_WorkGroupSize.x * K + gl_LocalInvocationID.x;
	[[unroll]] for (uint k = 0; k < K; k++) {
		uint q = base + k * gl_WorkGroupSize.x;
		if (q < n4) o4[q] = f(LOAD(a, q) + LOAD(b, q));
	}
	if (TAIL_OWNER(base, n4, K))
		for (uint i = 4 * n4; i < p.n; i++) o[i] = f(LOAD1(a, i) + LOAD1(b, i));
}
