// peak.comp: the arithmetic ceiling of a device for vkclr's kernels (`vkclr bench ops --op peak`).
// Each invocation runs p.iters rounds of a = fma(a, m, c) on 16 independent accumulators (four vec4s)
// that stay in registers: no memory traffic in the loop, so the rate is the device's multiply-add
// throughput as its compiler emits it. On lavapipe that is a multiply and an add, not one fused
// instruction: gallivm lowers ffma (its NIR options set lower_ffma32), so fma() rounds twice there.
// The sum of the accumulators is stored so the work cannot be dropped. ROLLED takes one round a loop
// trip instead of eight: the difference is what a loop trip costs.
#version 450
#include "common.glsl"
//!variant rolled -DROLLED=1

layout(push_constant) uniform Push {
	uint n, iters;
	float m, c;
} p;

layout(std430, set = 0, binding = 0) writeonly buffer Out { float o[]; };

void main() {
	uint i = flat_id();
	if (i >= p.n) return;
	vec4 a0 = vec4(float(i % 8u) * 0.125, 0.25, 0.5, 0.75);
	vec4 a1 = a0 + 1.0, a2 = a0 + 2.0, a3 = a0 + 3.0;
	vec4 m = vec4(p.m), c = vec4(p.c);
	uint t = 0;
#ifndef ROLLED
	for (; t + 8 <= p.iters; t += 8) { // eight rounds a trip, so the loop's own work is small beside them
		[[unroll]] for (uint u = 0; u < 8; u++) {
			a0 = fma(a0, m, c);
			a1 = fma(a1, m, c);
			a2 = fma(a2, m, c);
			a3 = fma(a3, m, c);
		}
	}
#endif
	for (; t < p.iters; t++) {
		a0 = fma(a0, m, c);
		a1 = fma(a1, m, c);
		a2 = fma(a2, m, c);
		a3 = fma(a3, m, c);
	}
	vec4 s = (a0 + a1) + (a2 + a3);
	o[i] = (s.x + s.y) + (s.z + s.w);
}
