// batchnorm_apply.comp: y = gamma*(x-mean)*istd + beta over x (M, C), with
// the batch statistics (training) or, with -DEVAL, the running ones:
// y = (x-runMean) * gamma/sqrt(runVar+eps) + beta. p.relu != 0 applies ReLU
// in the same pass. -DRESIDUAL (the _res variants) adds a residual r (M, C)
// before the ReLU, y = relu(bn(x) + r): a residual block's last batchnorm and
// its add + ReLU in one pass, the bn output never stored. Same (chunk, channel
// group) grid as the statistics, so each invocation loads its channel's
// parameters once.
#version 450
#include "common.glsl"
#include "batchnorm.glsl"
//!variant vec4 -DVEC4=1
//!variant texel -DVEC4=1 -DTEXEL=1
//!variant eval -DEVAL=1
//!variant eval_vec4 -DEVAL=1 -DVEC4=1
//!variant eval_texel -DEVAL=1 -DVEC4=1 -DTEXEL=1
//!variant res -DRESIDUAL=1
//!variant res_vec4 -DRESIDUAL=1 -DVEC4=1
//!variant res_texel -DRESIDUAL=1 -DVEC4=1 -DTEXEL=1
//!variant eval_res -DEVAL=1 -DRESIDUAL=1
//!variant eval_res_vec4 -DEVAL=1 -DRESIDUAL=1 -DVEC4=1
//!variant eval_res_texel -DEVAL=1 -DRESIDUAL=1 -DVEC4=1 -DTEXEL=1
//!variant texel_x8 -DVEC4=1 -DTEXEL=1 -DX8=1
//!variant eval_texel_x8 -DEVAL=1 -DVEC4=1 -DTEXEL=1 -DX8=1
//!variant res_texel_x8 -DRESIDUAL=1 -DVEC4=1 -DTEXEL=1 -DX8=1
//!variant eval_res_texel_x8 -DEVAL=1 -DRESIDUAL=1 -DVEC4=1 -DTEXEL=1 -DX8=1

layout(push_constant) uniform Push { uint M, CG, R, relu; float eps; } p;
INPUT(0, x, T)                                                             // (M, C)
layout(std430, set = 0, binding = 1) readonly buffer Gamma { T gamma[]; }; // (C)
layout(std430, set = 0, binding = 2) readonly buffer Beta { T beta[]; };   // (C)
layout(std430, set = 0, binding = 3) readonly buffer Mean { T mean[]; };   // (C) batch mean or running mean
layout(std430, set = 0, binding = 4) readonly buffer Istd { T istd[]; };   // (C) batch istd or running var
layout(std430, set = 0, binding = 5) writeonly buffer Y { T y[]; };        // (M, C)
#ifdef X8
// X8 (the _texel_x8 variants): two channel groups an invocation, groups c and c+1 of a row stored
// eight floats at a time (common.glsl); CG even.
layout(std430, set = 0, binding = 5) writeonly buffer Y8 { u64vec4 y8[]; };
#endif
#ifdef RESIDUAL
INPUT(6, res, T) // (M, C)
// The bn value rounded to float first, then the residual added: the same two
// roundings as a batchnorm pass followed by an add pass.
#define BN_AT(i, mu, sc, b) (((LOAD(x, i) - mu) * sc + b) + LOAD(res, i))
#else
#define BN_AT(i, mu, sc, b) ((LOAD(x, i) - mu) * sc + b)
#endif
#define BN_OUT(r) BN_AT((r) * p.CG + c, mu, sc, b)
#ifdef EVAL
#define SCALE(c) (gamma[c] / sqrt(istd[c] + p.eps))
#else
#define SCALE(c) (gamma[c] * istd[c])
#endif

void main() {
	uint chunk, c, r0, r1;
#ifdef X8
	if (!bn_chunk(flat_id(), p.M, p.CG / 2, p.R, chunk, c, r0, r1)) return;
	c *= 2;
	T mu = mean[c], b = beta[c], sc = SCALE(c);
	T mu2 = mean[c + 1], b2 = beta[c + 1], sc2 = SCALE(c + 1);
	if (p.relu != 0) {
#define STEP(r) { uint i = (r) * p.CG + c; y8[i / 2] = pack8(relu_fwd(BN_AT(i, mu, sc, b)), relu_fwd(BN_AT(i + 1, mu2, sc2, b2))); }
		FOR_ROWS(r0, r1)
#undef STEP
	} else {
#define STEP(r) { uint i = (r) * p.CG + c; y8[i / 2] = pack8(BN_AT(i, mu, sc, b), BN_AT(i + 1, mu2, sc2, b2)); }
		FOR_ROWS(r0, r1)
#undef STEP
	}
#else
	if (!bn_chunk(flat_id(), p.M, p.CG, p.R, chunk, c, r0, r1)) return;
	T mu = mean[c], b = beta[c], sc = SCALE(c);
	if (p.relu != 0) {
#define STEP(r) y[(r) * p.CG + c] = relu_fwd(BN_OUT(r));
		FOR_ROWS(r0, r1)
#undef STEP
	} else {
#define STEP(r) y[(r) * p.CG + c] = BN_OUT(r);
		FOR_ROWS(r0, r1)
#undef STEP
	}
#endif
}
