// batchnorm_bwd.comp: the two row passes of batchnorm's backward.
//
// Statistics (default): per chunk, sum d and sum d*xhat with xhat =
// (x-mean)*istd and d = dy, or with -DRELU (the _relu variants) d = dy*[y > 0]
// (y is the post-ReLU output of the fused forward), into part (chunks, 2, C).
// RELU is a variant, not a push constant: lavapipe runs both sides of an if,
// a uniform one too, under a lane mask, so the y load would be paid on every
// row of a batchnorm without ReLU.
// Apply (-DAPPLY): dx = gamma*istd * (d - dbeta/M - (x-mean)*istd*dgamma/M),
// the coefficients read from the four rows batchnorm_final_bwd left in part.
#version 450
#include "common.glsl"
#include "batchnorm.glsl"
//!variant vec4 -DVEC4=1
//!variant texel -DVEC4=1 -DTEXEL=1
//!variant relu -DRELU=1
//!variant relu_vec4 -DRELU=1 -DVEC4=1
//!variant relu_texel -DRELU=1 -DVEC4=1 -DTEXEL=1
//!variant apply -DAPPLY=1
//!variant apply_vec4 -DAPPLY=1 -DVEC4=1
//!variant apply_texel -DAPPLY=1 -DVEC4=1 -DTEXEL=1
//!variant apply_relu -DAPPLY=1 -DRELU=1
//!variant apply_relu_vec4 -DAPPLY=1 -DRELU=1 -DVEC4=1
//!variant apply_relu_texel -DAPPLY=1 -DRELU=1 -DVEC4=1 -DTEXEL=1
//!variant apply_texel_x8 -DAPPLY=1 -DVEC4=1 -DTEXEL=1 -DX8=1
//!variant apply_relu_texel_x8 -DAPPLY=1 -DRELU=1 -DVEC4=1 -DTEXEL=1 -DX8=1

layout(push_constant) uniform Push { uint M, CG, R; } p;
INPUT(0, x, T)  // (M, C)
INPUT(1, y, T)  // (M, C) read only with RELU
INPUT(2, dy, T) // (M, C)
#ifndef APPLY
layout(std430, set = 0, binding = 3) readonly buffer Mean { T mean[]; };  // (C)
layout(std430, set = 0, binding = 4) readonly buffer Istd { T istd[]; };  // (C)
layout(std430, set = 0, binding = 5) writeonly buffer Part { T part[]; }; // (chunks, 2, C)
#else
layout(std430, set = 0, binding = 3) readonly buffer Coef { T coef[]; }; // (4, C)
layout(std430, set = 0, binding = 4) writeonly buffer DX { T dx[]; };    // (M, C)
#ifdef X8
// X8 (the apply_texel_x8 variants): channel groups c and c+1 of a row an invocation, stored eight
// floats at a time (common.glsl); CG even.
layout(std430, set = 0, binding = 4) writeonly buffer DX8 { u64vec4 dx8[]; };
#endif
#endif

#ifdef RELU
#define D_RELU(d, i) d = relu_mask(LOAD(y, i), d);
#else
#define D_RELU(d, i)
#endif

void main() {
	uint chunk, c, r0, r1;
#ifdef X8
	if (!bn_chunk(flat_id(), p.M, p.CG / 2, p.R, chunk, c, r0, r1)) return;
	c *= 2;
#else
	if (!bn_chunk(flat_id(), p.M, p.CG, p.R, chunk, c, r0, r1)) return;
#endif
#ifndef APPLY
	T mu = mean[c], is = istd[c];
	T s1 = T(0.0), s2 = T(0.0);
#define STEP(r) { \
		uint i = (r) * p.CG + c; \
		T d = LOAD(dy, i); \
		D_RELU(d, i) \
		s1 += d; \
		s2 += d * ((LOAD(x, i) - mu) * is); \
	}
	FOR_ROWS(r0, r1)
#undef STEP
	part[2 * chunk * p.CG + c] = s1;
	part[(2 * chunk + 1) * p.CG + c] = s2;
#elif defined(X8)
	T mu = coef[c], a = coef[p.CG + c], kb = coef[2 * p.CG + c], kx = coef[3 * p.CG + c];
	T mu2 = coef[c + 1], a2 = coef[p.CG + c + 1], kb2 = coef[2 * p.CG + c + 1], kx2 = coef[3 * p.CG + c + 1];
#define STEP(r) { \
		uint i = (r) * p.CG + c; \
		T d = LOAD(dy, i), d2 = LOAD(dy, i + 1); \
		D_RELU(d, i) \
		D_RELU(d2, i + 1) \
		dx8[i / 2] = pack8(a * (d - kb - (LOAD(x, i) - mu) * kx), a2 * (d2 - kb2 - (LOAD(x, i + 1) - mu2) * kx2)); \
	}
	FOR_ROWS(r0, r1)
#undef STEP
#else
	T mu = coef[c], a = coef[p.CG + c], kb = coef[2 * p.CG + c], kx = coef[3 * p.CG + c];
#define STEP(r) { \
		uint i = (r) * p.CG + c; \
		T d = LOAD(dy, i); \
		D_RELU(d, i) \
		dx[i] = a * (d - kb - (LOAD(x, i) - mu) * kx); \
	}
	FOR_ROWS(r0, r1)
#undef STEP
#endif
}
