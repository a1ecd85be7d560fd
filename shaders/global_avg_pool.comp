// global_avg_pool.comp: y[n,c] = mean over the H*W pixels of x[n,h,w,c]
// and with -DBACKWARD dx[n,h,w,c] = dy[n,c] / (H*W), one invocation per
// image and channel group either way.
// N batch, HW = H*W pixels, CG channel groups (C, or C/4 with -DVEC4).
#version 450
#include "common.glsl"
#include "load.glsl"
//!variant vec4 -DVEC4=1
//!variant texel -DVEC4=1 -DTEXEL=1
//!variant bwd -DBACKWARD=1
//!variant bwd_vec4 -DBACKWARD=1 -DVEC4=1

#ifdef VEC4
#define T vec4
#else
#define T float
#endif

layout(push_constant) uniform Push { uint N, HW, CG; } p;
#ifndef BACKWARD
INPUT(0, x, T)                                                      // (N, HW, C)
layout(std430, set = 0, binding = 1) writeonly buffer Y { T y[]; }; // (N, C)
#else
layout(std430, set = 0, binding = 0) readonly buffer DY { T dy[]; };  // (N, C)
layout(std430, set = 0, binding = 1) writeonly buffer DX { T dx[]; }; // (N, HW, C)
#endif

void main() {
	uint i = flat_id();
#ifndef BACKWARD
	if (i >= p.N * p.CG) return;
	uint n = i / p.CG, c = i - n * p.CG;
	T acc = T(0.0);
	for (uint hw = 0; hw < p.HW; hw++) acc += LOAD(x, (n * p.HW + hw) * p.CG + c);
	y[i] = acc / float(p.HW);
#else
	if (i >= p.N * p.CG) return;
	uint n = i / p.CG, c = i - n * p.CG;
	T g = dy[i] / float(p.HW);
	for (uint hw = 0; hw < p.HW; hw++) dx[(n * p.HW + hw) * p.CG + c] = g;
#endif
}
