// batchnorm_final.comp: one invocation per channel folds the per-chunk
// partials in chunk order.
//
// Forward: merges (mean, M2) pairs (Chan et al.) in two fixed levels, writes mean and
// istd = 1/sqrt(var + eps) and, when p.running != 0, updates the running
// statistics like PyTorch (unbiased variance M/(M-1)).
// Backward (-DBACKWARD): sums (sum dy, sum dy*xhat) into dbeta and dgamma and
// writes the coefficients batchnorm_bwd_apply needs over the first four rows
// of part: mean, gamma*istd, dbeta/M, istd*dgamma/M. Only this invocation
// touches column c of part, so reading and then overwriting it is race-free.
#version 450
#include "common.glsl"
//!variant bwd -DBACKWARD=1

#ifndef BACKWARD
layout(push_constant) uniform Push { uint M, C, R; float eps, momentum; uint running; } p;
layout(std430, set = 0, binding = 0) readonly buffer Part { float part[]; }; // (chunks, 2, C)
layout(std430, set = 0, binding = 1) writeonly buffer Mean { float mean_out[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Istd { float istd_out[]; };
layout(std430, set = 0, binding = 3) buffer RunMean { float run_mean[]; };
layout(std430, set = 0, binding = 4) buffer RunVar { float run_var[]; };
#else
layout(push_constant) uniform Push { uint M, C, R; } p;
layout(std430, set = 0, binding = 0) buffer Part { float part[]; }; // (chunks, 2, C) in, (4, C) out
layout(std430, set = 0, binding = 1) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 2) readonly buffer Mean { float mean_in[]; };
layout(std430, set = 0, binding = 3) readonly buffer Istd { float istd_in[]; };
layout(std430, set = 0, binding = 4) writeonly buffer DGamma { float dgamma[]; };
layout(std430, set = 0, binding = 5) writeonly buffer DBeta { float dbeta[]; };
#endif

const uint G = 32; // chunks per group of the two-level fold

// merge folds a part of nb values with mean mb and M2 m2b into (n, mean, m2) (Chan et al.).
void merge(inout float n, inout float mean, inout float m2, float nb, float mb, float m2b) {
	if (nb == 0.0) return;
	float nn = n + nb;
	float d = mb - mean;
	mean += d * (nb / nn);
	m2 += m2b + d * d * (n * (nb / nn));
	n = nn;
}

void main() {
	uint c = flat_id();
	if (c >= p.C) return;
	uint chunks = (p.M + p.R - 1) / p.R;
#ifndef BACKWARD
	// Two levels (groups of G chunks, then the groups), so rounding grows
	// with G + chunks/G rather than with chunks.
	float n = 0.0, mean = 0.0, m2 = 0.0;
	for (uint g0 = 0; g0 < chunks; g0 += G) {
		float gn = 0.0, gmean = 0.0, gm2 = 0.0;
		for (uint b = g0; b < min(g0 + G, chunks); b++) {
			merge(gn, gmean, gm2, float(min(p.R, p.M - b * p.R)), part[2 * b * p.C + c], part[(2 * b + 1) * p.C + c]);
		}
		merge(n, mean, m2, gn, gmean, gm2);
	}
	float var = max(m2, 0.0) / float(p.M);
	mean_out[c] = mean;
	istd_out[c] = 1.0 / sqrt(var + p.eps);
	if (p.running != 0) {
		float unbiased = var * (float(p.M) / float(p.M - 1));
		run_mean[c] = (1.0 - p.momentum) * run_mean[c] + p.momentum * mean;
		run_var[c] = (1.0 - p.momentum) * run_var[c] + p.momentum * unbiased;
	}
#else
	float sdy = 0.0, sdyx = 0.0;
	for (uint g0 = 0; g0 < chunks; g0 += G) {
		float gdy = 0.0, gdyx = 0.0;
		for (uint b = g0; b < min(g0 + G, chunks); b++) {
			gdy += part[2 * b * p.C + c];
			gdyx += part[(2 * b + 1) * p.C + c];
		}
		sdy += gdy;
		sdyx += gdyx;
	}
	dbeta[c] = sdy;
	dgamma[c] = sdyx;
	float is = istd_in[c], fm = float(p.M);
	part[c] = mean_in[c];
	part[p.C + c] = gamma[c] * is;
	part[2 * p.C + c] = sdy / fm;
	part[3 * p.C + c] = is * sdyx / fm;
#endif
}
