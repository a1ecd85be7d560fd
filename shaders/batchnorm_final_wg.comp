// batchnorm_final_wg.comp: the gpu variant's final batchnorm fold, one workgroup per channel.
//
// batchnorm_final.comp gives each channel one invocation that walks all the chunks in order:
// right for a CPU driver (one thread per workgroup anyway), but on a GPU it left 16-64 threads
// walking 2048-4096 chunks each, about 150-370 us a call and up to 30% of a width-16 training step
// on an H200 (BENCHMARKS.md, "NVIDIA H200"). Here workgroup c folds channel c: invocation t folds
// the contiguous run of chunks [t*per, (t+1)*per) in order, then the workgroup merges the runs
// pairwise in a fixed tree (left run first, so chunk order is kept), and invocation 0 writes what
// batchnorm_final writes. The tree depends only on the workgroup size, fixed per device, so results
// are bit-identical run to run; they differ from the cpu variant's fold by rounding only.
//
// Forward: (mean, M2) pairs merged as Chan et al.; backward (-DBACKWARD): (sum dy, sum dy*xhat)
// summed, then the four coefficient rows batchnorm_bwd_apply reads written over part's first 4*C
// floats. Only workgroup c reads or writes column c of part, and it writes after the barrier that
// follows its last read, so the in-place write is race-free.
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
shared float sh_n[gl_WorkGroupSize.x];
#else
layout(push_constant) uniform Push { uint M, C, R; } p;
layout(std430, set = 0, binding = 0) buffer Part { float part[]; }; // (chunks, 2, C) in, (4, C) out
layout(std430, set = 0, binding = 1) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 2) readonly buffer Mean { float mean_in[]; };
layout(std430, set = 0, binding = 3) readonly buffer Istd { float istd_in[]; };
layout(std430, set = 0, binding = 4) writeonly buffer DGamma { float dgamma[]; };
layout(std430, set = 0, binding = 5) writeonly buffer DBeta { float dbeta[]; };
#endif
shared float sh_a[gl_WorkGroupSize.x]; // forward: mean; backward: sum dy
shared float sh_b[gl_WorkGroupSize.x]; // forward: M2; backward: sum dy*xhat

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
	uint c = flat_group();
	if (c >= p.C) return; // a whole workgroup: no barrier is skipped by part of one
	uint t = gl_LocalInvocationID.x, W = gl_WorkGroupSize.x;
	uint chunks = (p.M + p.R - 1) / p.R;
	uint per = (chunks + W - 1) / W;
	uint b0 = min(t * per, chunks), b1 = min(b0 + per, chunks);
#ifndef BACKWARD
	float n = 0.0, mean = 0.0, m2 = 0.0;
	for (uint b = b0; b < b1; b++) {
		merge(n, mean, m2, float(min(p.R, p.M - b * p.R)), part[2 * b * p.C + c], part[(2 * b + 1) * p.C + c]);
	}
	sh_n[t] = n;
	sh_a[t] = mean;
	sh_b[t] = m2;
#else
	float sdy = 0.0, sdyx = 0.0;
	for (uint b = b0; b < b1; b++) {
		sdy += part[2 * b * p.C + c];
		sdyx += part[(2 * b + 1) * p.C + c];
	}
	sh_a[t] = sdy;
	sh_b[t] = sdyx;
#endif
	barrier();
	// The tree: at stride s, invocation t (a multiple of 2s) takes in run t+s. W need not be a power
	// of two: a right-hand run past W is skipped.
	for (uint s = 1; s < W; s *= 2) {
		if (t % (2 * s) == 0 && t + s < W) {
#ifndef BACKWARD
			float n = sh_n[t], mean = sh_a[t], m2 = sh_b[t];
			merge(n, mean, m2, sh_n[t + s], sh_a[t + s], sh_b[t + s]);
			sh_n[t] = n;
			sh_a[t] = mean;
			sh_b[t] = m2;
#else
			sh_a[t] += sh_a[t + s];
			sh_b[t] += sh_b[t + s];
#endif
		}
		barrier();
	}
	if (t != 0) return;
#ifndef BACKWARD
	float var = max(sh_b[0], 0.0) / float(p.M);
	float mean0 = sh_a[0];
	mean_out[c] = mean0;
	istd_out[c] = 1.0 / sqrt(var + p.eps);
	if (p.running != 0) {
		float unbiased = var * (float(p.M) / float(p.M - 1));
		run_mean[c] = (1.0 - p.momentum) * run_mean[c] + p.momentum * mean0;
		run_var[c] = (1.0 - p.momentum) * run_var[c] + p.momentum * unbiased;
	}
#else
	float sdy0 = sh_a[0], sdyx0 = sh_b[0];
	dbeta[c] = sdy0;
	dgamma[c] = sdyx0;
	float is = istd_in[c], fm = float(p.M);
	part[c] = mean_in[c];
	part[p.C + c] = gamma[c] * is;
	part[2 * p.C + c] = sdy0 / fm;
	part[3 * p.C + c] = is * sdyx0 / fm;
#endif
}
