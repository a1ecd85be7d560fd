// conv2d_bwd_data_cpu.comp: dx (N, H, W, C) from dy (N, P, Q, K) and w (R, S, C, K) as an implicit GEMM
// for CPU drivers, one dispatch per phase (h % st, w % st): within a phase the taps (r, s) with an integer
// p = (h + pad - r) / st are the same for every pixel, so the others are skipped, not multiplied by zero.
// Rows are the phase's N*Hp*Wp input pixels, columns the C channels, the reduction (r, s, k). For a fixed
// (r, s), w[r][s] viewed as (C x K) is a transposed B with k contiguous, so both operands load as vec4
// along k (needs K % 4 == 0; SCALAR takes any K). Each invocation computes TM pixels x TN channels (8 x 8;
// the vec4 variants 16 x 16, and 32 x 16 for 16 channels or fewer: ops/conv2d.go's cpuTiles).
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#include "common.glsl"
#include "cpu_tile.glsl"
#include "conv2d_common.glsl"
//!novariant-base
//!variant v4 -DTM=16 -DTN=16
//!variant v4t -DTM=32 -DTN=16
//!variant s -DSCALAR=1
//!variant v4_add -DTM=16 -DTN=16 -DACCUM=1
//!variant v4t_add -DTM=32 -DTN=16 -DACCUM=1
//!variant s_add -DSCALAR=1 -DACCUM=1
//!variant v4_s4 -DTM=16 -DTN=16 -DSHARE_SN=4
//!variant v4_add_s4 -DTM=16 -DTN=16 -DACCUM=1 -DSHARE_SN=4
//!variant v4_x8 -DTM=16 -DTN=16 -DX8=1
//!variant v4t_x8 -DTM=32 -DTN=16 -DX8=1
//!variant v4_add_x8 -DTM=16 -DTN=16 -DACCUM=1 -DX8=1
//!variant v4t_add_x8 -DTM=32 -DTN=16 -DACCUM=1 -DX8=1
//!variant v4_s4_x8 -DTM=16 -DTN=16 -DSHARE_SN=4 -DX8=1
//!variant v4_add_s4_x8 -DTM=16 -DTN=16 -DACCUM=1 -DSHARE_SN=4 -DX8=1
// _s variants: B's TN vec4s a step (one a column) split among the 8 / SHARE_SN lanes of a column tile.
#define SHARE_BR (TN * SHARE_SN / 8)

layout(set = 0, binding = 0) uniform textureBuffer DY; // (N, P, Q, K)
layout(set = 0, binding = 1) uniform textureBuffer Wt; // (R, S, C, K)
// ACCUM (the _add variants): dx is added to what the buffer holds, a second gradient contribution. A
// variant of its own, not a branch on the push constant: with both paths in one kernel lavapipe ran
// the plain one 1.06-1.2x slower (BENCHMARKS.md).
#ifdef SCALAR
#ifdef ACCUM
layout(std430, set = 0, binding = 2) buffer DX { float dx[]; }; // (N, H, W, C)
#else
layout(std430, set = 0, binding = 2) writeonly buffer DX { float dx[]; };
#endif
#else
// The vec4 variants need C % 4 == 0 and an output offset that is a multiple of 4: vec4 stores, as
// the forward's (lavapipe stores lane by lane, so fewer stores are faster).
layout(std430, set = 0, binding = 2) writeonly buffer DX { vec4 dx4[]; }; // (N, H, W, C / 4)
#ifdef ACCUM
// The vec4 _add variants read what dx holds through a texel view of it (binding 3, from p.off3):
// lavapipe loads a storage buffer lane by lane, a loop that is much dearer on some CPUs (the width-16
// step's v4t_add took twice v4t's time on a Zen 3 EPYC), a texel buffer with one gather. Each element
// is read, then written, by one invocation only; the dispatcher keeps a barrier between the phases of
// a strided convolution, whose texel views cover the same pixels' range.
layout(set = 0, binding = 3) uniform textureBuffer DXT;
#endif
#endif
#ifdef X8
// X8 (the _x8 variants): eight floats a store (common.glsl); C and the output offset multiples of 8.
layout(std430, set = 0, binding = 2) writeonly buffer DX8 { u64vec4 dx8[]; };
#endif

void main() {
	uint M = p.N * p.Hp * p.Wp;
#ifdef SHARE_SN
	bool live;
	uvec2 t = tile_coords_s(M, p.C, p.wgn, flat_group(), live);
	uint sl = gl_SubgroupInvocationID;
#else
	uvec2 t = tile_coords(M, p.C, p.wgn, flat_group());
	if (t.x == ~0u) return;
#endif
	uint m0 = t.x * TM, n0 = t.y * TN;
	int ib[TM], jb[TM]; // pixel (h, w) = (ph + ib*st, pw + jb*st)
	uint nb[TM];
	[[unroll]] for (uint i = 0; i < TM; i++) {
		uint m = min(m0 + i, M - 1);
		uint nij = m / p.Wp;
		jb[i] = int(m % p.Wp);
		ib[i] = int(nij % p.Hp);
		nb[i] = (nij / p.Hp) * p.P;
	}
#ifdef SHARE_SN
	int lib[SHARE_AR], ljb[SHARE_AR];
	uint lnb[SHARE_AR];
	[[unroll]] for (uint e = 0; e < SHARE_AR; e++) {
		uint m = min(m0 + (sl % SHARE_SN) * SHARE_AR + e, M - 1);
		uint nij = m / p.Wp;
		ljb[e] = int(m % p.Wp);
		lib[e] = int(nij % p.Hp);
		lnb[e] = (nij / p.Hp) * p.P;
	}
#endif
#ifdef SHARE_SN
	uint lwc[SHARE_BR]; // this lane's share of B: channels n0 + q for q from (sl / SHARE_SN) * SHARE_BR on
	[[unroll]] for (uint e = 0; e < SHARE_BR; e++) lwc[e] = min(n0 + (sl / SHARE_SN) * SHARE_BR + e, p.C - 1) * p.K;
#endif
	uint wc[TN];
	[[unroll]] for (uint j = 0; j < TN; j++) wc[j] = min(n0 + j, p.C - 1) * p.K;
	float acc[TM][TN];
	[[unroll]] for (uint i = 0; i < TM; i++)
		[[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;

	for (uint r = (p.ph + p.pad) % p.st; r < p.R; r += p.st) {
		int dp = (int(p.ph + p.pad) - int(r)) / int(p.st); // exact: r = ph + pad (mod st)
		for (uint s = (p.pw + p.pad) % p.st; s < p.S; s += p.st) {
			int dq = (int(p.pw + p.pad) - int(s)) / int(p.st);
			uint ab[TM];
			bool ok[TM];
			[[unroll]] for (uint i = 0; i < TM; i++) {
				int pp = ib[i] + dp, qq = jb[i] + dq;
				ok[i] = uint(pp) < p.P && uint(qq) < p.Q;
				ab[i] = p.off0 + (ok[i] ? ((nb[i] + uint(pp)) * p.Q + uint(qq)) * p.K : 0);
			}
#ifdef SHARE_SN
			uint lab[SHARE_AR];
			bool lok[SHARE_AR];
			[[unroll]] for (uint e = 0; e < SHARE_AR; e++) {
				int pp = lib[e] + dp, qq = ljb[e] + dq;
				lok[e] = uint(pp) < p.P && uint(qq) < p.Q;
				lab[e] = p.off0 + (lok[e] ? ((lnb[e] + uint(pp)) * p.Q + uint(qq)) * p.K : 0);
			}
#endif
			uint wrow = p.off1 + (r * p.S + s) * p.C * p.K;
			uint k = 0;
			for (; k + 4 <= p.K; k += 4) {
				vec4 a[TM], b[TN];
#ifdef SHARE_SN
				vec4 ma[SHARE_AR], mb[SHARE_BR];
				[[unroll]] for (uint e = 0; e < SHARE_AR; e++) {
					vec4 v = ld4(DY, lab[e] + k);
					ma[e] = lok[e] ? v : vec4(0.0);
				}
				[[unroll]] for (uint e = 0; e < SHARE_BR; e++) mb[e] = ld4(Wt, wrow + lwc[e] + k);
				[[unroll]] for (uint i = 0; i < TM; i++) {
					a[i] = subgroupShuffle(ma[i % SHARE_AR], share_a_lane(i));
				}
				[[unroll]] for (uint j = 0; j < TN; j++) b[j] = subgroupShuffle(mb[j % SHARE_BR], share_b_lane(j));
#else
				[[unroll]] for (uint i = 0; i < TM; i++) {
					vec4 v = ld4(DY, ab[i] + k);
					a[i] = ok[i] ? v : vec4(0.0);
				}
				[[unroll]] for (uint j = 0; j < TN; j++) b[j] = ld4(Wt, wrow + wc[j] + k);
#endif
				[[unroll]] for (uint i = 0; i < TM; i++)
					[[unroll]] for (uint j = 0; j < TN; j++)
						[[unroll]] for (uint kk = 0; kk < 4; kk++) acc[i][j] = fma(a[i][kk], b[j][kk], acc[i][j]);
			}
#ifdef SCALAR
			for (; k < p.K; k++) {
				float a[TM], b[TN];
				[[unroll]] for (uint i = 0; i < TM; i++) a[i] = ok[i] ? at(DY, ab[i] + k) : 0.0;
				[[unroll]] for (uint j = 0; j < TN; j++) b[j] = at(Wt, wrow + wc[j] + k);
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
		uint m = m0 + i, nij = m / p.Wp;
		uint h = p.ph + (nij % p.Hp) * p.st, w = p.pw + (m % p.Wp) * p.st, n = nij / p.Hp;
		uint row = p.off2 + ((n * p.H + h) * p.W + w) * p.C + n0;
#ifdef SCALAR
		[[unroll]] for (uint j = 0; j < TN; j++) {
			if (n0 + j >= p.C) break;
#ifdef ACCUM
			dx[row + j] += acc[i][j];
#else
			dx[row + j] = acc[i][j];
#endif
		}
#else
		[[unroll]] for (uint j = 0; j < TN; j += VSTEP) {
			if (n0 + j >= p.C) break;
			vec4 v = vec4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
#ifdef X8
			vec4 v2 = vec4(acc[i][j + 4], acc[i][j + 5], acc[i][j + 6], acc[i][j + 7]);
#endif
#ifdef ACCUM
			uint old = (row + j - p.off2 + p.off3) / 4; // dx's vec4 in the texel view
			v += texelFetch(DXT, int(old));
#ifdef X8
			v2 += texelFetch(DXT, int(old + 1));
#endif
#endif
#ifdef X8
			dx8[(row + j) / 8] = pack8(v, v2);
#else
			dx4[(row + j) / 4] = v;
#endif
		}
#endif
	}
}
