// conv2d_fwd_cpu.comp: y (N, P, Q, K) = conv2d(x, w) as an implicit GEMM for CPU drivers: rows are the
// N*P*Q output pixels, columns the K channels, the reduction (r, s, c); each invocation computes 8 pixels
// x 8 channels in registers from vec4 texel loads along c (x) and k (w) (the vec4 variant: 32 x 16, see
// ops/conv2d.go's cpuTiles). Needs C % 4 == 0 and K % 4 == 0; SCALAR reads R32F texels and takes any C and K.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#include "common.glsl"
#include "cpu_tile.glsl"
#include "conv2d_common.glsl"
//!novariant-base
//!variant v4 -DTM=32 -DTN=16
//!variant v4c1 -DTM=32 -DTN=16 -DUSEDC=1
//!variant v4c3 -DTM=32 -DTN=16 -DUSEDC=3
//!variant v4_s4 -DTM=32 -DTN=16 -DSHARE_SN=4
//!variant v4c1_s4 -DTM=32 -DTN=16 -DUSEDC=1 -DSHARE_SN=4
//!variant v4c3_s4 -DTM=32 -DTN=16 -DUSEDC=3 -DSHARE_SN=4
//!variant s -DSCALAR=1
//!variant v4_x8 -DTM=32 -DTN=16 -DX8=1
//!variant v4c1_x8 -DTM=32 -DTN=16 -DUSEDC=1 -DX8=1
//!variant v4c3_x8 -DTM=32 -DTN=16 -DUSEDC=3 -DX8=1
//!variant v4_s4_x8 -DTM=32 -DTN=16 -DSHARE_SN=4 -DX8=1
//!variant v4c1_s4_x8 -DTM=32 -DTN=16 -DUSEDC=1 -DSHARE_SN=4 -DX8=1
//!variant v4c3_s4_x8 -DTM=32 -DTN=16 -DUSEDC=3 -DSHARE_SN=4 -DX8=1

layout(set = 0, binding = 0) uniform textureBuffer X;  // (N, H, W, C)
layout(set = 0, binding = 1) uniform textureBuffer Wt; // (R, S, C, K)
#ifdef SCALAR
layout(std430, set = 0, binding = 2) writeonly buffer Y { float y[]; }; // (N, P, Q, K)
#else
layout(std430, set = 0, binding = 2) writeonly buffer Y { vec4 y[]; }; // (N, P, Q, K / 4)
#endif
#ifdef X8
// X8 (the _x8 variants): eight floats a store (common.glsl); K and the output offset multiples of 8.
layout(std430, set = 0, binding = 2) writeonly buffer Y8 { u64vec4 y8[]; };
#endif

// USEDC (the c1 and c3 variants, C == 4): only input channels below USEDC may be nonzero (an image's 1
// or 3 channels padded to 4), so the multiplies by the zero channels are skipped.
#ifdef USEDC
#define CUSED USEDC
#else
#define CUSED 4
#endif
// _s variants: B's 4 * CUSED vec4s a step (channel cc, columns 4g..4g+3 as piece 4cc + g) split
// among the 8 / SHARE_SN lanes of a column tile.
#define SHARE_BR (4 * CUSED * SHARE_SN / 8)

void main() {
	uint M = p.N * p.P * p.Q;
#ifdef SHARE_SN
	bool live;
	uvec2 t = tile_coords_s(M, p.K, p.wgn, flat_group(), live);
	uint sl = gl_SubgroupInvocationID;
#else
	uvec2 t = tile_coords(M, p.K, p.wgn, flat_group());
	if (t.x == ~0u) return;
#endif
	uint m0 = t.x * TM, n0 = t.y * TN;
	int hb[TM], wb[TM];
	uint nb[TM];
	[[unroll]] for (uint i = 0; i < TM; i++) {
		uint m = min(m0 + i, M - 1); // past the edge: a real pixel, computed and not stored
		uint q = m % p.Q, np = m / p.Q;
		hb[i] = int((np % p.P) * p.st) - int(p.pad);
		wb[i] = int(q * p.st) - int(p.pad);
		nb[i] = (np / p.P) * p.H;
	}
#ifdef SHARE_SN
	int lhb[SHARE_AR], lwb[SHARE_AR];
	uint lnb[SHARE_AR];
	[[unroll]] for (uint e = 0; e < SHARE_AR; e++) {
		uint m = min(m0 + (sl % SHARE_SN) * SHARE_AR + e, M - 1);
		uint q = m % p.Q, np = m / p.Q;
		lhb[e] = int((np % p.P) * p.st) - int(p.pad);
		lwb[e] = int(q * p.st) - int(p.pad);
		lnb[e] = (np / p.P) * p.H;
	}
#endif
#ifdef SCALAR
	uint wc[TN];
	[[unroll]] for (uint j = 0; j < TN; j++) wc[j] = min(n0 + j, p.K - 1);
#else
	uint wc[TN / 4];
	[[unroll]] for (uint g = 0; g < TN / 4; g++) wc[g] = min(n0 + 4 * g, p.K - 4);
#endif
	float acc[TM][TN];
	[[unroll]] for (uint i = 0; i < TM; i++)
		[[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;

	for (uint r = 0; r < p.R; r++) {
		for (uint s = 0; s < p.S; s++) {
			// Pixels whose tap falls in the padding read pixel 0 and use zeros instead.
			uint xb[TM];
			bool ok[TM];
			[[unroll]] for (uint i = 0; i < TM; i++) {
				int h = hb[i] + int(r), w = wb[i] + int(s);
				ok[i] = uint(h) < p.H && uint(w) < p.W;
				xb[i] = p.off0 + (ok[i] ? ((nb[i] + uint(h)) * p.W + uint(w)) * p.C : 0);
			}
#ifdef SHARE_SN
			uint lxb[SHARE_AR];
			bool lok[SHARE_AR];
			[[unroll]] for (uint e = 0; e < SHARE_AR; e++) {
				int h = lhb[e] + int(r), w = lwb[e] + int(s);
				lok[e] = uint(h) < p.H && uint(w) < p.W;
				lxb[e] = p.off0 + (lok[e] ? ((lnb[e] + uint(h)) * p.W + uint(w)) * p.C : 0);
			}
#endif
			uint wrow = p.off1 + (r * p.S + s) * p.C * p.K;
#ifdef SHARE_SN
			// This lane's share of B: pieces q = (cc, g) = (q / 4, q % 4) from h * SHARE_BR on.
			uint wb[SHARE_BR];
			[[unroll]] for (uint e = 0; e < SHARE_BR; e++) {
				uint q = (sl / SHARE_SN) * SHARE_BR + e;
				wb[e] = wrow + (q / 4) * p.K + min(n0 + 4 * (q % 4), p.K - 4);
			}
#endif
			uint c = 0;
			for (; c + 4 <= p.C; c += 4) {
				vec4 a[TM]; // a[i][cc] = x at pixel i, channel c+cc
				vec4 b[TN]; // b[j][cc] = w[r, s, c+cc, n0+j]
#ifdef SHARE_SN
				vec4 ma[SHARE_AR], mb[SHARE_BR];
				[[unroll]] for (uint e = 0; e < SHARE_AR; e++) {
					// row (sl % SHARE_SN) * SHARE_AR + e of this lane's row tile
					vec4 v = ld4(X, lxb[e] + c);
					ma[e] = lok[e] ? v : vec4(0.0);
				}
				[[unroll]] for (uint e = 0; e < SHARE_BR; e++) mb[e] = ld4(Wt, wb[e] + c * p.K);
				[[unroll]] for (uint i = 0; i < TM; i++) {
					a[i] = subgroupShuffle(ma[i % SHARE_AR], share_a_lane(i));
				}
				[[unroll]] for (uint q = 0; q < 4 * CUSED; q++) {
					vec4 v = subgroupShuffle(mb[q % SHARE_BR], share_b_lane(q));
					uint cc = q / 4, g = q % 4;
					b[4 * g][cc] = v.x; b[4 * g + 1][cc] = v.y; b[4 * g + 2][cc] = v.z; b[4 * g + 3][cc] = v.w;
				}
#else
				[[unroll]] for (uint i = 0; i < TM; i++) {
					vec4 v = ld4(X, xb[i] + c);
					a[i] = ok[i] ? v : vec4(0.0);
				}
#ifdef SCALAR
				[[unroll]] for (uint cc = 0; cc < 4; cc++)
					[[unroll]] for (uint j = 0; j < TN; j++) b[j][cc] = at(Wt, wrow + (c + cc) * p.K + wc[j]);
#else
				[[unroll]] for (uint cc = 0; cc < CUSED; cc++)
					[[unroll]] for (uint g = 0; g < TN / 4; g++) {
						vec4 v = ld4(Wt, wrow + (c + cc) * p.K + wc[g]);
						b[4 * g][cc] = v.x; b[4 * g + 1][cc] = v.y; b[4 * g + 2][cc] = v.z; b[4 * g + 3][cc] = v.w;
					}
#endif
#endif
				[[unroll]] for (uint i = 0; i < TM; i++)
					[[unroll]] for (uint j = 0; j < TN; j++)
						[[unroll]] for (uint cc = 0; cc < CUSED; cc++) acc[i][j] = fma(a[i][cc], b[j][cc], acc[i][j]);
			}
#ifdef SCALAR
			for (; c < p.C; c++) { // C % 4 channels left over
				float a[TM], b[TN];
				[[unroll]] for (uint i = 0; i < TM; i++) a[i] = ok[i] ? at(X, xb[i] + c) : 0.0;
				[[unroll]] for (uint j = 0; j < TN; j++) b[j] = at(Wt, wrow + c * p.K + wc[j]);
				[[unroll]] for (uint i = 0; i < TM; i++)
					[[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
			}
#endif
		}
	}
#ifdef SHARE_SN
	if (!live) return; // past the shuffles now
#endif
	[[unroll]] for (uint i = 0; i < TM; i++) {
		if (m0 + i >= M) break;
		uint row = p.off2 + (m0 + i) * p.K + n0;
#ifdef SCALAR
		[[unroll]] for (uint j = 0; j < TN; j++) {
			if (n0 + j >= p.K) break;
			y[row + j] = acc[i][j];
		}
#else
		// vec4 stores (X8: eight floats a store): lavapipe turns every storage access into a per-lane
		// loop, so fewer is faster.
		[[unroll]] for (uint j = 0; j < TN; j += VSTEP) {
			if (n0 + j >= p.K) break;
			vec4 v = vec4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
#ifdef X8
			y8[(row + j) / 8] = pack8(v, vec4(acc[i][j + 4], acc[i][j + 5], acc[i][j + 6], acc[i][j + 7]));
#else
			y[(row + j) / 4] = v;
#endif
		}
#endif
	}
}
