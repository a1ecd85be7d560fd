// conv2d_winograd_gemm_row.comp: the forward and backward-data GEMM of ops/winograd.go for 16 and 32
// input channels (K = KK) on CPU drivers, C_xi (M, N) = A_xi (M, K) B_xi (K, N), one output row per
// invocation and 16 columns per workgroup.
//
// Why a row per invocation: lavapipe runs an invocation per SIMD lane, so a register tile per lane
// (conv2d_winograd_gemm.comp's 16x16) holds 256 accumulators a lane, far past the CPU's 16-32 vector
// registers: every multiply-add reloads and stores its accumulator, and each A and B element comes
// through a texel fetch per lane. Here a lane's 16 accumulators stay in registers; B's K x 16 block of
// this frequency is loaded once per workgroup into shared memory, and every read of it is at an offset
// fixed at compile time (the reduction is unrolled), which lavapipe makes one scalar load broadcast to
// all lanes, folded into the multiply-add (vfmadd231ps with a {1to8} operand on AVX-512). A lane's A row
// is K / 4 vec4 texel fetches. At K = 16 and 32 that beat the 16x16 / 32x8 tiles (BENCHMARKS.md,
// "a row per lane"); at 64 and above the A row, fetched again for every 16 columns, costs more than it
// saves, and ops keeps the tiles there.
//
// The workgroups are (column block, frequency, row group), the column block fastest and then the
// frequency, so neighbouring workgroups read the same tiles' frequencies, which the blocked layout
// (WINO_ROW) keeps together. Every accumulator takes the products k = 0 .. K-1 in order by fma(), as
// the tiled kernels do, so the results are bit-identical to theirs (TestRowFormsMatchPlain). Rows past
// M load row M-1 and store nothing; N is a multiple of 16 (ops checks), so no column is past the edge.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#include "common.glsl"
#include "cpu_tile.glsl"
#ifndef X8
#error the row GEMM stores eight floats at a time (X8)
#endif
//!novariant-base
//!variant k16_x8 -DKK=16 -DX8=1
//!variant k32_x8 -DKK=32 -DX8=1

// The push constants of conv2d_winograd_gemm.comp (ops records both alike); this kernel reads M, lda,
// ldb, ldc, the strides and offsets, and the row blocks.
layout(push_constant) uniform Push {
	uint M, N, K;
	uint lda, ldb, ldc;
	uint aStride, bStride, cStride;
	uint aoff, boff, coff;
	uint wgn, groupsPerXi, xis, chunks, chunkRows, chunkStride, accumulate;
	uint aShift, aBlk, bShift, bBlk, cShift, cBlk;
} p;

layout(set = 0, binding = 0) uniform textureBuffer A; // RGBA32F
layout(set = 0, binding = 1) uniform textureBuffer B; // RGBA32F
// Rows of C stored eight floats at a time (X8, common.glsl: ops takes this kernel only where the _x8
// forms run); ldc and every offset into C multiples of 8.
layout(std430, set = 0, binding = 2) buffer Out8 { u64vec4 c8[]; };

shared vec4 sb[KK * 4]; // sb[k * 4 + q] = B(k, n0 + 4q .. n0 + 4q + 3)

void main() {
	uint n0 = gl_WorkGroupID.x * 16, xi = gl_WorkGroupID.y;
	uint lane = gl_LocalInvocationIndex;
	uint bbase = p.boff + xi * p.bStride + n0;
	for (uint e = lane; e < KK * 4; e += gl_WorkGroupSize.x) sb[e] = ld4(B, bbase + (e / 4) * p.ldb + (e % 4) * 4);
	barrier();
	// Nothing below is under a branch until the stores: lavapipe takes the scalar path for a shared
	// load only outside divergent control flow.
	uint row = gl_WorkGroupID.z * gl_WorkGroupSize.x + lane;
	uint a0 = p.aoff + xi * p.aStride + WINO_ROW(min(row, p.M - 1), p.aShift, p.aBlk, p.lda);
	vec4 acc[4];
	[[unroll]] for (uint q = 0; q < 4; q++) acc[q] = vec4(0.0);
	[[unroll]] for (uint k4 = 0; k4 < KK / 4; k4++) {
		vec4 a = ld4(A, a0 + 4 * k4);
		[[unroll]] for (uint kk = 0; kk < 4; kk++)
			[[unroll]] for (uint q = 0; q < 4; q++) acc[q] = fma(vec4(a[kk]), sb[(4 * k4 + kk) * 4 + q], acc[q]);
	}
	if (row >= p.M) return;
	uint crow = (p.coff + xi * p.cStride + WINO_ROW(row, p.cShift, p.cBlk, p.ldc) + n0) / 4;
	c8[crow / 2] = pack8(acc[0], acc[1]);
	c8[crow / 2 + 1] = pack8(acc[2], acc[3]);
}
