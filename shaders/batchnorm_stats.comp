// batchnorm_stats.comp: per-chunk statistics of x (M, C) for batchnorm training.
// Each chunk's mean and M2 (sum of squared deviations) come from Welford's
// update; batchnorm_final.comp merges the chunks in order (Chan et al.).
#version 450
#include "common.glsl"
#include "batchnorm.glsl"
//!variant vec4 -DVEC4=1
//!variant texel -DVEC4=1 -DTEXEL=1

layout(push_constant) uniform Push { uint M, CG, R; } p;
INPUT(0, x, T)                                                            // (M, C)
layout(std430, set = 0, binding = 1) writeonly buffer Part { T part[]; }; // (chunks, 2, C)

void main() {
	uint chunk, c, r0, r1;
	if (!bn_chunk(flat_id(), p.M, p.CG, p.R, chunk, c, r0, r1)) return;
	T mean = T(0.0), m2 = T(0.0);
#define STEP(r) { \
		T v = LOAD(x, (r) * p.CG + c); \
		T d = v - mean; \
		mean += d / float((r) - r0 + 1); \
		m2 += d * (v - mean); \
	}
	FOR_ROWS(r0, r1)
#undef STEP
	part[2 * chunk * p.CG + c] = mean;
	part[(2 * chunk + 1) * p.CG + c] = m2;
}
