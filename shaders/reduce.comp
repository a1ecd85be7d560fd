// reduce.comp: whole-buffer reductions in a fixed order.
//
// Default (sum, pass 1): invocation j sums x[j*CH, (j+1)*CH) (vec4s, then
//   the scalar tail) into part[j].
// -DSUM_FINAL: one invocation adds the partials in order into out[out_off].
// -DNONFINITE: invocation j checks K vec4s like add.comp and, if any element
//   is NaN or infinite, ORs the bits of 1.0 into flag[out_off] (an integer
//   OR, so the result does not depend on scheduling); the caller zeroes it.
#version 450
#include "common.glsl"
#include "load.glsl"
//!variant final -DSUM_FINAL=1
//!variant nonfinite -DNONFINITE=1
//!variant texel -DTEXEL=1
//!variant nonfinite_texel -DNONFINITE=1 -DTEXEL=1

const uint CH = 2048; // elements per partial; ops.sumChunk
layout(constant_id = 3) const uint K = 4;
layout(push_constant) uniform Push { uint n, out_off; } p;
#ifdef SUM_FINAL
layout(std430, set = 0, binding = 0) readonly buffer Part { float part[]; };
#else
INPUT4(0, x)
#endif
layout(std430, set = 0, binding = 1) buffer Out { float out_[]; };
layout(std430, set = 0, binding = 1) buffer Flag { uint flag[]; };

bool bad(float v) { return (floatBitsToUint(v) & 0x7f800000u) == 0x7f800000u; }

void main() {
#if defined(SUM_FINAL)
	if (flat_id() != 0) return;
	float s = 0.0;
	uint parts = (p.n + CH - 1) / CH;
	for (uint j = 0; j < parts; j++) s += part[j];
	out_[p.out_off] = s;
#elif defined(NONFINITE)
	uint n4 = p.n / 4;
	uint base = flat_group() * gl_WorkGroupSize.x * K + gl_LocalInvocationID.x;
	bool any = false;
	[[unroll]] for (uint k = 0; k < K; k++) {
		uint q = base + k * gl_WorkGroupSize.x;
		if (q < n4) {
			uvec4 e = floatBitsToUint(LOAD(x, q)) & 0x7f800000u;
			any = any || e.x == 0x7f800000u || e.y == 0x7f800000u || e.z == 0x7f800000u || e.w == 0x7f800000u;
		}
	}
	if (TAIL_OWNER(base, n4, K))
		for (uint i = 4 * n4; i < p.n; i++) any = any || bad(LOAD1(x, i));
	if (any) atomicOr(flag[p.out_off], floatBitsToUint(1.0));
#else
	uint j = flat_id();
	uint a = j * CH;
	if (a >= p.n) return;
	uint b = min(a + CH, p.n), b4 = b & ~3u;
	vec4 acc = vec4(0.0);
	for (uint q = a / 4; q < b4 / 4; q++) acc += LOAD(x, q);
	float s = (acc.x + acc.y) + (acc.z + acc.w);
	for (uint e = b4; e < b; e++) s += LOAD1(x, e);
	out_[j] = s;
#endif
}
