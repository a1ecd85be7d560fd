// gemm_cpu.comp: C (M, N) = op(A) op(B), += C or + bias, for CPU drivers (lavapipe): each invocation
// computes a TM x TN register tile from vec4 texel-buffer loads; no shared memory, no barriers.
// SCALAR binds R32F texel buffers and reads element by element: any shape or offset, about half as fast.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#include "common.glsl"
#include "cpu_tile.glsl"
//!novariant-base
//!variant nn
//!variant nt -DTRANS_B=1
//!variant tn -DTRANS_A=1
//!variant tt -DTRANS_A=1 -DTRANS_B=1
//!variant nn_s -DSCALAR=1
//!variant nt_s -DSCALAR=1 -DTRANS_B=1
//!variant tn_s -DSCALAR=1 -DTRANS_A=1
//!variant tt_s -DSCALAR=1 -DTRANS_A=1 -DTRANS_B=1

// A is stored (M, K) or (K, M) with TRANS_A, B (K, N) or (N, K) with TRANS_B; ld* are the stored row
// strides and *off the element offsets of each matrix in its binding.
layout(push_constant) uniform Push {
	uint M, N, K;
	uint lda, ldb, ldc;
	uint aoff, boff, coff, biasoff;
	uint mode; // 0: C = AB, 1: C += AB, 2: C = AB + bias (one value per column)
	uint wgn;  // tiles per workgroup along N
} p;

layout(set = 0, binding = 0) uniform textureBuffer A;
layout(set = 0, binding = 1) uniform textureBuffer B;
layout(std430, set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 3) buffer Out { float c[]; };

void main() {
	uvec2 t = tile_coords(p.M, p.N, p.wgn, flat_group());
	if (t.x == ~0u) return;
	uint m0 = t.x * TM, n0 = t.y * TN;
	// Rows and columns past the edge are clamped: they load valid data and are never stored.
	uint ar[TM], bc[TN];
	[[unroll]] for (uint i = 0; i < TM; i++) {
#ifndef TRANS_A
		ar[i] = p.aoff + min(m0 + i, p.M - 1) * p.lda;
#else
		ar[i] = p.aoff + min(m0 + i, p.M - 1);
#endif
	}
	[[unroll]] for (uint j = 0; j < TN; j++) {
#ifndef TRANS_B
		bc[j] = p.boff + min(n0 + j, p.N - 1);
#else
		bc[j] = p.boff + min(n0 + j, p.N - 1) * p.ldb;
#endif
	}
#if defined(TRANS_A) && !defined(SCALAR)
	uint ag[TM / 4];
	[[unroll]] for (uint g = 0; g < TM / 4; g++) ag[g] = p.aoff + min(m0 + 4 * g, p.M - 4);
#endif
#if !defined(TRANS_B) && !defined(SCALAR)
	uint bg[TN / 4];
	[[unroll]] for (uint g = 0; g < TN / 4; g++) bg[g] = p.boff + min(n0 + 4 * g, p.N - 4);
#endif

	float acc[TM][TN];
	[[unroll]] for (uint i = 0; i < TM; i++)
		[[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;

	uint k = 0;
	for (; k + 4 <= p.K; k += 4) {
		vec4 a[TM]; // a[i][kk] = op(A)(m0+i, k+kk)
#ifndef TRANS_A
		[[unroll]] for (uint i = 0; i < TM; i++) a[i] = ld4(A, ar[i] + k);
#elif defined(SCALAR)
		[[unroll]] for (uint i = 0; i < TM; i++)
			a[i] = vec4(at(A, ar[i] + k * p.lda), at(A, ar[i] + (k + 1) * p.lda), at(A, ar[i] + (k + 2) * p.lda), at(A, ar[i] + (k + 3) * p.lda));
#else
		[[unroll]] for (uint kk = 0; kk < 4; kk++)
			[[unroll]] for (uint g = 0; g < TM / 4; g++) {
				vec4 v = ld4(A, ag[g] + (k + kk) * p.lda);
				a[4 * g][kk] = v.x; a[4 * g + 1][kk] = v.y; a[4 * g + 2][kk] = v.z; a[4 * g + 3][kk] = v.w;
			}
#endif
		vec4 b[TN]; // b[j][kk] = op(B)(k+kk, n0+j)
#ifdef TRANS_B
		[[unroll]] for (uint j = 0; j < TN; j++) b[j] = ld4(B, bc[j] + k);
#elif defined(SCALAR)
		[[unroll]] for (uint j = 0; j < TN; j++)
			b[j] = vec4(at(B, bc[j] + k * p.ldb), at(B, bc[j] + (k + 1) * p.ldb), at(B, bc[j] + (k + 2) * p.ldb), at(B, bc[j] + (k + 3) * p.ldb));
#else
		[[unroll]] for (uint kk = 0; kk < 4; kk++)
			[[unroll]] for (uint g = 0; g < TN / 4; g++) {
				vec4 v = ld4(B, bg[g] + (k + kk) * p.ldb);
				b[4 * g][kk] = v.x; b[4 * g + 1][kk] = v.y; b[4 * g + 2][kk] = v.z; b[4 * g + 3][kk] = v.w;
			}
#endif
		[[unroll]] for (uint i = 0; i < TM; i++)
			[[unroll]] for (uint j = 0; j < TN; j++)
				[[unroll]] for (uint kk = 0; kk < 4; kk++) acc[i][j] = fma(a[i][kk], b[j][kk], acc[i][j]);
	}
	for (; k < p.K; k++) { // tail of a K that is not a multiple of 4 (never in the vec4 layouts that need K % 4 == 0)
		float a[TM], b[TN];
#ifndef TRANS_A
		[[unroll]] for (uint i = 0; i < TM; i++) a[i] = at(A, ar[i] + k);
#else
		[[unroll]] for (uint i = 0; i < TM; i++) a[i] = at(A, ar[i] + k * p.lda);
#endif
#ifdef TRANS_B
		[[unroll]] for (uint j = 0; j < TN; j++) b[j] = at(B, bc[j] + k);
#else
		[[unroll]] for (uint j = 0; j < TN; j++) b[j] = at(B, bc[j] + k * p.ldb);
#endif
		[[unroll]] for (uint i = 0; i < TM; i++)
			[[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
	}

	[[unroll]] for (uint i = 0; i < TM; i++) {
		if (m0 + i >= p.M) break;
		uint row = p.coff + (m0 + i) * p.ldc + n0;
		[[unroll]] for (uint j = 0; j < TN; j++) {
			if (n0 + j >= p.N) break;
			float v = acc[i][j];
			if (p.mode == 1) v += c[row + j];
			else if (p.mode == 2) v += bias[p.biasoff + n0 + j];
			c[row + j] = v;
		}
	}
}
