// conv2d_winograd_filter.comp: 3x3 filters into the Winograd domain, for ops/winograd.go:
// u[xi][c][k] = (G g G^T)[xi] with g = w[., ., c, k] from w (3, 3, C, K), zero for c >= C or k >= K
// up to the padded Cp x Kp. FLIP builds backward data's filter instead, u[xi][k][c] from w rotated by
// 180 degrees, so dx is the forward convolution of dy. One invocation: one row, four columns.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#include "common.glsl"
#include "conv2d_winograd.glsl"
//!novariant-base
//!variant f4 -DMT=4
//!variant f2 -DMT=2
//!variant f4_t -DMT=4 -DTEXEL4=1
//!variant f2_t -DMT=2 -DTEXEL4=1
//!variant f4_t_x8 -DMT=4 -DTEXEL4=1 -DX8=1
//!variant f2_t_x8 -DMT=2 -DTEXEL4=1 -DX8=1

layout(push_constant) uniform Push {
	uint C, K;
	uint rows, cols; // of each frequency's matrix in u: Cp x Kp, or Kp x Cp when flip
	uint flip;
	uint xiStride;   // floats between frequencies in u
	uint inOff, outOff;
} p;

// TEXEL4 (the _t variants): w through an RGBA32F texel view, four k at once (the vectorised load path on
// lavapipe, where a storage-buffer load runs lane by lane); needs K % 4 == 0, an offset that is a
// multiple of 4, and no flip (backward data rotates the filter first, conv2d_winograd_rot).
#ifdef TEXEL4
layout(set = 0, binding = 0) uniform textureBuffer Wt4;                      // (3, 3, C, K / 4)
#else
layout(std430, set = 0, binding = 0) readonly buffer Wt { float w[]; };     // (3, 3, C, K)
#endif
layout(std430, set = 0, binding = 1) writeonly buffer U { vec4 u[]; };      // (ALPHA*ALPHA, rows, cols / 4)
#ifdef X8
// X8 (the _t_x8 variants): eight columns an invocation, stored eight floats at a time (common.glsl);
// cols and the output offset multiples of 8.
layout(std430, set = 0, binding = 1) writeonly buffer U8 { u64vec4 u8[]; };
#endif

// The transform of the four columns from col of matrix row row: res[a*ALPHA + b] is frequency (a, b).
void filterCols(uint row, uint col, out vec4 res[ALPHA * ALPHA]) {
	vec4 g[3][3];
#ifdef TEXEL4
	bool rowOK = row < p.C; // columns: cols = K, a multiple of 4
	[[unroll]] for (uint r = 0; r < 3; r++)
		[[unroll]] for (uint s = 0; s < 3; s++) {
			vec4 v = texelFetch(Wt4, int((p.inOff + (rowOK ? ((r * 3 + s) * p.C + row) * p.K + col : 0)) / 4));
			g[r][s] = rowOK ? v : vec4(0.0);
		}
#else
	[[unroll]] for (uint r = 0; r < 3; r++)
		[[unroll]] for (uint s = 0; s < 3; s++)
			[[unroll]] for (uint cc = 0; cc < 4; cc++) {
				// (c, k) of w for this element: (row, col+cc), or (col+cc, row) of the rotated filter
				uint c = row, k = col + cc, rr = r, ss = s;
				if (p.flip != 0) { c = col + cc; k = row; rr = 2 - r; ss = 2 - s; }
				bool ok = c < p.C && k < p.K;
				float f = w[p.inOff + (ok ? ((rr * 3 + ss) * p.C + c) * p.K + k : 0)];
				g[r][s][cc] = ok ? f : 0.0;
			}
#endif
	vec4 t[ALPHA][3];
	[[unroll]] for (uint s = 0; s < 3; s++) {
		vec4 col3[3] = vec4[3](g[0][s], g[1][s], g[2][s]), o[ALPHA];
		wino_filter(col3, o);
		[[unroll]] for (uint a = 0; a < ALPHA; a++) t[a][s] = o[a];
	}
	[[unroll]] for (uint a = 0; a < ALPHA; a++) {
		vec4 row3[3] = vec4[3](t[a][0], t[a][1], t[a][2]), o[ALPHA];
		wino_filter(row3, o);
		[[unroll]] for (uint b = 0; b < ALPHA; b++) res[a * ALPHA + b] = o[b];
	}
}

void main() {
	uint i = flat_id();
#ifdef X8
	uint c8s = p.cols / 8;
	if (i >= p.rows * c8s) return;
	uint col = 8 * (i % c8s), row = i / c8s;
	vec4 lo[ALPHA * ALPHA], hi[ALPHA * ALPHA];
	filterCols(row, col, lo);
	filterCols(row, col + 4, hi);
	uint base = (p.outOff + row * p.cols + col) / 8, xs = p.xiStride / 8;
	[[unroll]] for (uint f = 0; f < ALPHA * ALPHA; f++) u8[base + f * xs] = pack8(lo[f], hi[f]);
#else
	uint c4s = p.cols / 4;
	if (i >= p.rows * c4s) return;
	uint col = 4 * (i % c4s), row = i / c4s;
	vec4 r[ALPHA * ALPHA];
	filterCols(row, col, r);
	uint base = (p.outOff + row * p.cols + col) / 4, xs = p.xiStride / 4;
	[[unroll]] for (uint f = 0; f < ALPHA * ALPHA; f++) u[base + f * xs] = r[f];
#endif
}
