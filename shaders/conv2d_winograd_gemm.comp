// conv2d_winograd_gemm.comp: the batched GEMMs of ops/winograd.go, one per Winograd frequency xi, for
// CPU drivers: TM x TN register tiles from vec4 texel loads (cpu_tile.glsl), no shared memory. Every
// matrix is padded so rows hold a multiple of 4 floats at offsets that are multiples of 4.
//   default: C_xi (M, N) = A_xi (M, K) B_xi (K, N)   (forward and backward data: tiles x channels;
//            32x8 tiles, 16x16 (nn16) from 64 output channels)
//   TN:      C_{z,xi} (M, N) (+)= sum over chunk z's rows k of A_xi (K, M)^T B_xi (K, N)
//            (backward weight: the reduction over tiles in chunks, each to its own partial)
// The matrices whose rows are tiles (default: A and C; TN: A and B) may be laid out in blocks of tiles
// (WINO_ROW in common.glsl, the transforms' layout): row r of operand X starts at
// xoff + xi * xStride + WINO_ROW(r, xShift, xBlk, ldx); shift 31 and blk 0 is the plain layout (ops
// passes blocks to the default form only: TN walks all tiles of one frequency, and ran up to 1.4x
// slower on blocks). In the default form the frequency is the fastest-varying index of the workgroups, so
// neighbouring workgroups read the frequencies of the same tiles, which a block keeps together: each
// block is read from memory once, while cached, instead of once per frequency (on blocks with the
// frequency outermost the GEMM ran up to 1.5x slower).
// The _s variants (SHARE, for subgroups of exactly 8 lanes, chosen from Go) lay each subgroup over
// 2 x 4 neighbouring tiles: the 4 lanes of a row tile load a quarter of its A operands each and the 2
// lanes of a column tile half of its B operands, and subgroupShuffle hands every lane the rest. On
// lavapipe a texel fetch is a per-lane gather (about 20 cycles for 8 lanes' vec4s) and a shuffle a
// register permute (about 3x cheaper), so a 16x16 tile's 32 fetches per four reduction steps become 12
// fetches and 32 shuffles: the GEMMs 1.1-1.2x faster in a width-64 step (BENCHMARKS.md). Every
// accumulator takes the same products in the same order, so the results are bit-identical to the
// plain variants'. A lane past the edge computes a clamped tile and does not store it: every lane
// stays to the end, so the shuffles always read a live lane.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#include "common.glsl"
#ifdef SHARE
#if TM != 16 || TN != 16
#error SHARE is written for 16x16 tiles
#endif
#define SHARE_SN 4 // cpu_tile.glsl's subgroups of 2 x 4 tiles
#endif
#include "cpu_tile.glsl"
//!novariant-base
//!variant nn -DTM=32 -DTN=8
//!variant nn16 -DTM=16 -DTN=16
//!variant nn16_s -DTM=16 -DTN=16 -DSHARE=1
//!variant tn -DTRANS_A=1 -DTM=16 -DTN=16
//!variant tn_s -DTRANS_A=1 -DTM=16 -DTN=16 -DSHARE=1
//!variant nn_x8 -DTM=32 -DTN=8 -DX8=1
//!variant nn16_x8 -DTM=16 -DTN=16 -DX8=1
//!variant nn16_s_x8 -DTM=16 -DTN=16 -DSHARE=1 -DX8=1
//!variant tn_x8 -DTRANS_A=1 -DTM=16 -DTN=16 -DX8=1
//!variant tn_s_x8 -DTRANS_A=1 -DTM=16 -DTN=16 -DSHARE=1 -DX8=1

layout(push_constant) uniform Push {
	uint M, N, K;
	uint lda, ldb, ldc;
	uint aStride, bStride, cStride; // floats between frequencies
	uint aoff, boff, coff;
	uint wgn;            // tiles per workgroup along N
	uint groupsPerXi;    // workgroups per frequency
	uint xis;            // frequencies
	uint chunks;         // TN: partials, each over chunkRows rows of the reduction
	uint chunkRows;
	uint chunkStride;    // TN: floats between chunks in C
	uint accumulate;     // TN: add to C
	uint aShift, aBlk, bShift, bBlk, cShift, cBlk; // blocks of rows (WINO_ROW)
} p;

layout(set = 0, binding = 0) uniform textureBuffer A; // RGBA32F
layout(set = 0, binding = 1) uniform textureBuffer B; // RGBA32F
layout(std430, set = 0, binding = 2) buffer Out { vec4 c[]; };
#ifdef X8
// X8 (the _x8 forms): rows of C stored eight floats at a time (common.glsl); N, ldc and every offset
// into C multiples of 8.
layout(std430, set = 0, binding = 2) buffer Out8 { u64vec4 c8[]; };
#endif

void main() {
#if defined(TRANS_A) && defined(SHARE)
	// One tile per lane over (chunk, frequency, block of 2 x 4 tiles): each subgroup one block.
	uint tilesM = (p.M + TM - 1) / TM, tilesN = (p.N + TN - 1) / TN, bn = (tilesN + 3) / 4;
	uint blocks = ((tilesM + 1) / 2) * bn, sl = gl_SubgroupInvocationID;
	uint sg = flat_group() * gl_NumSubgroups + gl_SubgroupID; // this subgroup's block, over all
	uint xi = (sg / blocks) % p.xis, z = sg / (blocks * p.xis);
	if (z >= p.chunks) return; // whole subgroups
	uint tm = ((sg % blocks) / bn) * 2 + sl / 4, tn = ((sg % blocks) % bn) * 4 + sl % 4;
	bool live = tm < tilesM && tn < tilesN;
	uvec2 t = uvec2(min(tm, tilesM - 1), min(tn, tilesN - 1));
#elif defined(TRANS_A)
	// One tile per invocation over (chunk, frequency, tile): the outputs are few, the reduction long.
	uint tilesN = (p.N + TN - 1) / TN, per = ((p.M + TM - 1) / TM) * tilesN;
	uint id = flat_id();
	uint xi = (id / per) % p.xis, z = id / (per * p.xis);
	if (z >= p.chunks) return;
	uvec2 t = uvec2((id % per) / tilesN, id % tilesN);
#elif defined(SHARE)
	// A workgroup covers (size / wgn) x wgn tiles (wgn 4 or 8), each subgroup 2 x 4 of them.
	uint g = flat_group(), z = 0;
	uint xi = g % p.xis;
	if (g / p.xis >= p.groupsPerXi) return; // whole workgroups
	bool live;
	uvec2 t = tile_coords_s(p.M, p.N, p.wgn, g / p.xis, live);
	uint sl = gl_SubgroupInvocationID;
#else
	uint g = flat_group(), z = 0;
	uint xi = g % p.xis;
	uvec2 t = tile_coords(p.M, p.N, p.wgn, g / p.xis);
	if (t.x == ~0u || g / p.xis >= p.groupsPerXi) return;
#endif
	uint m0 = t.x * TM, n0 = t.y * TN;
	uint abase = p.aoff + xi * p.aStride, bbase = p.boff + xi * p.bStride;
	// Rows and columns past the edge are clamped: they load valid data and are never stored.
	uint bg[TN / 4];
	[[unroll]] for (uint j = 0; j < TN / 4; j++) bg[j] = bbase + min(n0 + 4 * j, p.N - 4);
	float acc[TM][TN];
	[[unroll]] for (uint i = 0; i < TM; i++)
		[[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;
#ifdef TRANS_A
	uint ag[TM / 4];
	[[unroll]] for (uint i = 0; i < TM / 4; i++) ag[i] = abase + min(m0 + 4 * i, p.M - 4);
	// Where reduction row k of A^T and of B starts.
#define ROWA(k) WINO_ROW(k, p.aShift, p.aBlk, p.lda)
#define ROWB(k) WINO_ROW(k, p.bShift, p.bBlk, p.ldb)
	uint k0 = z * p.chunkRows, k1 = min(k0 + p.chunkRows, p.K);
	// One row of the reduction: the outer product of a row of A^T and a row of B.
#define STEP(k) { \
		vec4 a[TM / 4], b[TN / 4]; \
		uint ra = ROWA(k), rb = ROWB(k); \
		[[unroll]] for (uint i = 0; i < TM / 4; i++) a[i] = ld4(A, ag[i] + ra); \
		[[unroll]] for (uint j = 0; j < TN / 4; j++) b[j] = ld4(B, bg[j] + rb); \
		[[unroll]] for (uint i = 0; i < TM; i++) \
			[[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = fma(a[i / 4][i % 4], b[j / 4][j % 4], acc[i][j]); \
	}
	// Eight rows at once: their operands first, then each accumulator takes its eight products in row
	// order, so it is loaded, blended (the loop's lane mask) and stored once per eight rows instead of
	// once per row (a 16x16 tile does not fit lavapipe's registers): four rows a visit were 1.06-1.12x
	// over one, and eight 1.07-1.11x over two visits of four (the grad-weight convolutions, an A/B in
	// one process; BENCHMARKS.md). The order of every sum is unchanged.
	// LOAD4(k, a, b): a[kk][i] and b[kk][j] are row k+kk's vec4s of this tile's A^T and B columns.
#ifdef SHARE
	// Row k+kk of A^T (its 16 columns of this row tile) is loaded by the row tile's lane kk; rows
	// k+2h and k+2h+1 of B (this column tile's 16) by the column tile's lane h (h = 0, 1).
#define LOAD4(k, a, b) { \
		vec4 ma[TM / 4], mb[2][TN / 4]; \
		uint ra = ROWA((k) + sl % 4), rb[2] = { ROWB((k) + 2 * (sl / 4)), ROWB((k) + 2 * (sl / 4) + 1) }; \
		[[unroll]] for (uint i = 0; i < TM / 4; i++) ma[i] = ld4(A, ag[i] + ra); \
		[[unroll]] for (uint h = 0; h < 2; h++) \
			[[unroll]] for (uint j = 0; j < TN / 4; j++) mb[h][j] = ld4(B, bg[j] + rb[h]); \
		[[unroll]] for (uint kk = 0; kk < 4; kk++) { \
			[[unroll]] for (uint i = 0; i < TM / 4; i++) a[kk][i] = subgroupShuffle(ma[i], (sl & ~3u) | kk); \
			[[unroll]] for (uint j = 0; j < TN / 4; j++) b[kk][j] = subgroupShuffle(mb[kk % 2][j], sl % 4 + 4 * (kk / 2)); \
		} \
	}
#else
#define LOAD4(k, a, b) \
		[[unroll]] for (uint kk = 0; kk < 4; kk++) { \
			uint ra = ROWA((k) + kk), rb = ROWB((k) + kk); \
			[[unroll]] for (uint i = 0; i < TM / 4; i++) a[kk][i] = ld4(A, ag[i] + ra); \
			[[unroll]] for (uint j = 0; j < TN / 4; j++) b[kk][j] = ld4(B, bg[j] + rb); \
		}
#endif
#define STEP8(k) { \
		vec4 a[8][TM / 4], b[8][TN / 4]; \
		{ vec4 a4[4][TM / 4], b4[4][TN / 4]; LOAD4(k, a4, b4) [[unroll]] for (uint kk = 0; kk < 4; kk++) { a[kk] = a4[kk]; b[kk] = b4[kk]; } } \
		{ vec4 a4[4][TM / 4], b4[4][TN / 4]; LOAD4((k) + 4, a4, b4) [[unroll]] for (uint kk = 0; kk < 4; kk++) { a[kk + 4] = a4[kk]; b[kk + 4] = b4[kk]; } } \
		[[unroll]] for (uint i = 0; i < TM; i++) \
			[[unroll]] for (uint j = 0; j < TN; j++) \
				[[unroll]] for (uint kk = 0; kk < 8; kk++) \
					acc[i][j] = fma(a[kk][i / 4][i % 4], b[kk][j / 4][j % 4], acc[i][j]); \
	}
	// Eight rows a trip: a loop trip costs about 50 cycles on lavapipe, a large part of one row's 256
	// multiply-adds and 8 texel loads; unrolled, the Winograd grad-weight convolutions ran 1.13-1.3x
	// faster (BENCHMARKS.md). The rest one row a trip.
	uint k = k0;
	for (; k + 8 <= k1; k += 8) STEP8(k)
	for (; k < k1; k++) STEP(k)
#undef STEP8
#undef LOAD4
#undef STEP
#undef ROWA
#undef ROWB
#else
	uint ar[TM];
	[[unroll]] for (uint i = 0; i < TM; i++) ar[i] = abase + WINO_ROW(min(m0 + i, p.M - 1), p.aShift, p.aBlk, p.lda);
#ifdef SHARE
	// Rows 4c .. 4c+3 of the row tile from its lane c; rows k+2h, k+2h+1 of B from the column tile's lane h.
	uint sa[4];
	[[unroll]] for (uint r = 0; r < 4; r++) sa[r] = abase + WINO_ROW(min(m0 + 4 * (sl % 4) + r, p.M - 1), p.aShift, p.aBlk, p.lda);
#endif
	for (uint k = 0; k < p.K; k += 4) {
		vec4 a[TM]; // a[i][kk] = A(m0+i, k+kk)
		vec4 b[TN]; // b[j][kk] = B(k+kk, n0+j)
#ifdef SHARE
		vec4 ma[4], mb[2][TN / 4];
		[[unroll]] for (uint r = 0; r < 4; r++) ma[r] = ld4(A, sa[r] + k);
		[[unroll]] for (uint h = 0; h < 2; h++)
			[[unroll]] for (uint j = 0; j < TN / 4; j++) mb[h][j] = ld4(B, bg[j] + (k + 2 * (sl / 4) + h) * p.ldb);
		[[unroll]] for (uint i = 0; i < TM; i++) a[i] = subgroupShuffle(ma[i % 4], (sl & ~3u) | (i / 4));
		[[unroll]] for (uint kk = 0; kk < 4; kk++)
			[[unroll]] for (uint j = 0; j < TN / 4; j++) {
				vec4 v = subgroupShuffle(mb[kk % 2][j], sl % 4 + 4 * (kk / 2));
				b[4 * j][kk] = v.x; b[4 * j + 1][kk] = v.y; b[4 * j + 2][kk] = v.z; b[4 * j + 3][kk] = v.w;
			}
#else
		[[unroll]] for (uint i = 0; i < TM; i++) a[i] = ld4(A, ar[i] + k);
		[[unroll]] for (uint kk = 0; kk < 4; kk++)
			[[unroll]] for (uint j = 0; j < TN / 4; j++) {
				vec4 v = ld4(B, bg[j] + (k + kk) * p.ldb);
				b[4 * j][kk] = v.x; b[4 * j + 1][kk] = v.y; b[4 * j + 2][kk] = v.z; b[4 * j + 3][kk] = v.w;
			}
#endif
		[[unroll]] for (uint i = 0; i < TM; i++)
			[[unroll]] for (uint j = 0; j < TN; j++)
				[[unroll]] for (uint kk = 0; kk < 4; kk++) acc[i][j] = fma(a[i][kk], b[j][kk], acc[i][j]);
	}
#endif
	uint cbase = p.coff + z * p.chunkStride + xi * p.cStride;
#ifdef SHARE
	if (!live) return; // past the shuffles now
#endif
	[[unroll]] for (uint i = 0; i < TM; i++) {
		if (m0 + i >= p.M) break;
		uint row = (cbase + WINO_ROW(m0 + i, p.cShift, p.cBlk, p.ldc) + n0) / 4;
		// vec4 stores (X8: eight floats a store): lavapipe turns every storage access into a per-lane
		// loop, so fewer is faster.
		[[unroll]] for (uint j = 0; j < TN; j += VSTEP) {
			if (n0 + j >= p.N) break;
			vec4 v = vec4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
#ifdef X8
			vec4 v2 = vec4(acc[i][j + 4], acc[i][j + 5], acc[i][j + 6], acc[i][j + 7]);
#endif
#ifdef TRANS_A
			// Only the grad-weight GEMM adds (its later batch pieces). lavapipe runs both sides of an
			// if, a uniform one too, under a lane mask, so in the forward forms this load would be
			// paid on every store though never used: without it nn16_s ran 1.03-1.08x (BENCHMARKS.md).
			if (p.accumulate != 0) {
				v += c[row + j / 4];
#ifdef X8
				v2 += c[row + j / 4 + 1];
#endif
			}
#endif
#ifdef X8
			c8[(row + j / 4) / 2] = pack8(v, v2);
#else
			c[row + j / 4] = v;
#endif
		}
	}
}
