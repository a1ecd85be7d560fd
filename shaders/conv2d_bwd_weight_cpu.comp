// conv2d_bwd_weight_cpu.comp: partial dw (R, S, C, K) over one chunk of the reduction, for CPU drivers.
// Rows are the R*S*C taps (r, s, c), columns the K channels, the reduction the output pixels (n, p, q):
// dw[r,s,c,k] = sum x[n, p*st-pad+r, q*st-pad+s, c] * dy[n,p,q,k]. Chunk z (a range of rowsPerChunk
// output rows (n, p)) writes its 8x8 register tiles to slice z of the partial buffer (or straight to dw
// when there is one chunk); colsum adds the slices in a fixed order. A chunk is reduced in blocks
// of rows, one dispatch each, the first writing and the others adding to the slice: a block's x and dy
// stay in the cache while every tile passes over them (lavapipe runs a workgroup's subgroups one after
// another, so without blocks each of them would stream the whole chunk from memory). vec4 loads along c (x) and k
// (dy) need C % 4 == 0 and K % 4 == 0; SCALAR takes any C and K. QUAD (vec4 only) takes four pixels of a row
// per trip, so each accumulator gets four products in a row as in the forward kernel.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#include "common.glsl"
#include "cpu_tile.glsl"
#include "conv2d_common.glsl"
//!novariant-base
//!variant v4
//!variant s -DSCALAR=1
//!variant v4q -DQUAD=1 -DTM=16 -DTN=8

layout(set = 0, binding = 0) uniform textureBuffer X;  // (N, H, W, C)
layout(set = 0, binding = 1) uniform textureBuffer DY; // (N, P, Q, K)
#ifdef SCALAR
layout(std430, set = 0, binding = 2) buffer Out { float o[]; }; // (chunks, R, S, C, K)
#else
// The vec4 variants store vec4s (K % 4 == 0 and an output offset that is a multiple of 4): lavapipe
// stores and loads a storage buffer lane by lane, so fewer accesses are faster.
layout(std430, set = 0, binding = 2) buffer Out { vec4 o4[]; }; // (chunks, R, S, C, K / 4)
#endif

#ifdef SCALAR
#define G TM  // rows handled one at a time
#else
#define G (TM / 4) // groups of 4 rows: taps (r, s, c..c+3), one vec4 of x
#endif

void main() {
	uint RSC = p.R * p.S * p.C;
	uint g = flat_group();
	uint chunk = g / p.groupsPerChunk;
	if (chunk * p.rowsPerChunk >= p.N * p.P) return; // folded grid padding
	uvec2 t = tile_coords(RSC, p.K, p.wgn, g % p.groupsPerChunk);
	if (t.x == ~0u) return;
	uint m0 = t.x * TM, n0 = t.y * TN;
	int rr[G], ss[G];
	uint cc[G];
	[[unroll]] for (uint i = 0; i < G; i++) {
#ifdef SCALAR
		uint row = min(m0 + i, RSC - 1);
#else
		uint row = min(m0 + 4 * i, RSC - 4);
#endif
		cc[i] = row % p.C;
		uint rs = row / p.C;
		ss[i] = int(rs % p.S) - int(p.pad);
		rr[i] = int(rs / p.S) - int(p.pad);
	}
#ifdef SCALAR
	uint kc[TN];
	[[unroll]] for (uint j = 0; j < TN; j++) kc[j] = min(n0 + j, p.K - 1);
#else
	uint kc[TN / 4];
	[[unroll]] for (uint j = 0; j < TN / 4; j++) kc[j] = min(n0 + 4 * j, p.K - 4);
#endif
	float acc[TM][TN];
	[[unroll]] for (uint i = 0; i < TM; i++)
		[[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;

	uint rowEnd = min(chunk * p.rowsPerChunk + min(p.blockEnd, p.rowsPerChunk), p.N * p.P);
	uint rowBegin = chunk * p.rowsPerChunk + p.blockBegin;
	if (p.accumulate != 0 && rowBegin >= rowEnd) return; // this chunk is shorter: nothing to add
	for (uint np = rowBegin; np < rowEnd; np++) {
		uint n = np / p.P;
		int hq = int((np % p.P) * p.st);
		uint xr[G];
		bool hok[G];
		[[unroll]] for (uint i = 0; i < G; i++) {
			int h = hq + rr[i];
			hok[i] = uint(h) < p.H;
			xr[i] = p.off0 + (n * p.H + (hok[i] ? uint(h) : 0)) * p.W * p.C + cc[i];
		}
		uint dyr = p.off1 + np * p.Q * p.K;
		uint q = 0;
#ifdef QUAD
		// Four output pixels per trip: each accumulator takes four products in a row (in pixel
		// order, so the sums are those of the one-pixel loop), loaded and stored a quarter as often.
		for (; q + 4 <= p.Q; q += 4) {
			vec4 a4[4][G], b4[4][TN / 4];
			[[unroll]] for (uint u = 0; u < 4; u++) {
				int wq = int((q + u) * p.st);
				[[unroll]] for (uint i = 0; i < G; i++) {
					int w = wq + ss[i];
					bool ok = hok[i] && uint(w) < p.W;
					vec4 v = ld4(X, xr[i] + (ok ? uint(w) : 0) * p.C);
					a4[u][i] = ok ? v : vec4(0.0);
				}
				[[unroll]] for (uint j = 0; j < TN / 4; j++) b4[u][j] = ld4(DY, dyr + (q + u) * p.K + kc[j]);
			}
			[[unroll]] for (uint i = 0; i < TM; i++)
				[[unroll]] for (uint j = 0; j < TN; j++)
					[[unroll]] for (uint u = 0; u < 4; u++)
						acc[i][j] = fma(a4[u][i / 4][i % 4], b4[u][j / 4][j % 4], acc[i][j]);
		}
#endif
		for (; q < p.Q; q++) {
			int wq = int(q * p.st);
#ifdef SCALAR
			float a[TM], b[TN];
			[[unroll]] for (uint i = 0; i < TM; i++) {
				int w = wq + ss[i];
				bool ok = hok[i] && uint(w) < p.W;
				float v = at(X, xr[i] + (ok ? uint(w) : 0) * p.C);
				a[i] = ok ? v : 0.0;
			}
			[[unroll]] for (uint j = 0; j < TN; j++) b[j] = at(DY, dyr + q * p.K + kc[j]);
#else
			vec4 a4[G], b4[TN / 4];
			[[unroll]] for (uint i = 0; i < G; i++) {
				int w = wq + ss[i];
				bool ok = hok[i] && uint(w) < p.W;
				vec4 v = ld4(X, xr[i] + (ok ? uint(w) : 0) * p.C);
				a4[i] = ok ? v : vec4(0.0);
			}
			[[unroll]] for (uint j = 0; j < TN / 4; j++) b4[j] = ld4(DY, dyr + q * p.K + kc[j]);
			float a[TM], b[TN];
			[[unroll]] for (uint i = 0; i < TM; i++) a[i] = a4[i / 4][i % 4];
			[[unroll]] for (uint j = 0; j < TN; j++) b[j] = b4[j / 4][j % 4];
#endif
			[[unroll]] for (uint i = 0; i < TM; i++)
				[[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
		}
	}
	uint base = p.off2 + chunk * RSC * p.K;
	[[unroll]] for (uint i = 0; i < TM; i++) {
		if (m0 + i >= RSC) break;
		uint row = base + (m0 + i) * p.K + n0;
#ifdef SCALAR
		[[unroll]] for (uint j = 0; j < TN; j++) {
			if (n0 + j >= p.K) break;
			o[row + j] = p.accumulate != 0 ? o[row + j] + acc[i][j] : acc[i][j];
		}
#else
		[[unroll]] for (uint j = 0; j < TN; j += 4) {
			if (n0 + j >= p.K) break;
			vec4 v = vec4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
			if (p.accumulate != 0) v = o4[(row + j) / 4] + v; // a branch: the load only when adding
			o4[(row + j) / 4] = v;
		}
#endif
	}
}
