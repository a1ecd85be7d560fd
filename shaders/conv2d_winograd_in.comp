// conv2d_winograd_in.comp: tiles of an image tensor into the Winograd domain, for the convolutions in
// ops/winograd.go. Input x (N, H, W, C); tile t = (n, th, tw) covers input rows th*MT-pad .. +ALPHA-1
// (zeros outside the image) and becomes v[xi][t][c] = (B^T d B)[xi] for the ALPHA*ALPHA frequencies xi.
// With DY the source is an output gradient dy (N, P, Q, K) and its MT x MT tiles become A dy A^T
// (backward weight). v lies in blocks of 2^blkShift tiles (WINO_ROW in common.glsl; xiStride is then the
// floats between frequencies within a block). One invocation: one tile, four channels (X8: eight, Cp a
// multiple of 8 and v's offset of 8, stored eight floats at a time; see common.glsl). Channels are
// padded to Cp (a multiple of 4) with zeros, so the GEMMs in the Winograd domain always run on vec4s.
//
// C1 (the _c1 variants): one invocation, one tile, one channel (C = Cp, a power of 2 from 8 up:
// ops.Kernels.c1At), so the lanes of a subgroup hold consecutive channels of one tile: their loads and their 36
// stores each cover one contiguous stretch, which make's lavapipe turns into one vector access
// (tools/lavapipe/vkclr.patch), and a lane's 36 values fit the CPU's vector registers where four
// channels' 144 spill. The arithmetic is the same per channel, so the results are the vec4 forms' bits.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#ifdef C1
#define WT float
#endif
#include "common.glsl"
#include "conv2d_winograd.glsl"
//!novariant-base
//!variant f4 -DMT=4
//!variant f4_s -DMT=4 -DSCALAR=1
//!variant f2 -DMT=2
//!variant f2_s -DMT=2 -DSCALAR=1
//!variant dy_f4 -DMT=4 -DDY=1
//!variant dy_f4_s -DMT=4 -DDY=1 -DSCALAR=1
//!variant dy_f2 -DMT=2 -DDY=1
//!variant dy_f2_s -DMT=2 -DDY=1 -DSCALAR=1
//!variant f4_x8 -DMT=4 -DX8=1
//!variant f2_x8 -DMT=2 -DX8=1
//!variant dy_f4_x8 -DMT=4 -DDY=1 -DX8=1
//!variant dy_f2_x8 -DMT=2 -DDY=1 -DX8=1
// The _c1 variants compile without SPIR-V optimization (-O0): spirv-opt 2022.4's simplify-instructions
// fuses a float's written-out a * b + c into one fma even where it is marked precise, and leaves vec4s
// alone, so optimized they would round differently from the vec4 forms. The driver's compiler (NIR)
// optimizes them as it does every shader.
//!variant f4_c1 -O0 -DMT=4 -DC1=1
//!variant dy_f4_c1 -O0 -DMT=4 -DDY=1 -DC1=1

layout(push_constant) uniform Push {
	uint N, H, W, C; // the source tensor (for DY: N, P, Q, K)
	uint pad;        // rows and columns of zeros before the first pixel (0 with DY)
	uint TH, TW;     // tiles per image along H and W
	uint Cp;         // channels per tile row in v
	uint xiStride;   // floats between frequencies in v
	uint inOff, outOff;
	uint blkShift, blkFloats; // v's tile blocks (WINO_ROW)
} p;

// SCALAR and C1: R32F texels, any C and offset; else RGBA32F texels, C % 4 == 0 and inOff % 4 == 0.
layout(set = 0, binding = 0) uniform textureBuffer X;
#ifdef C1
layout(std430, set = 0, binding = 1) writeonly buffer V { float v[]; }; // (ALPHA*ALPHA, T, Cp)
#else
layout(std430, set = 0, binding = 1) writeonly buffer V { vec4 v[]; }; // (ALPHA*ALPHA, T, Cp / 4)
#endif
#ifdef X8
layout(std430, set = 0, binding = 1) writeonly buffer V8 { u64vec4 v8[]; }; // (ALPHA*ALPHA, T, Cp / 8)
#endif

#ifdef DY
#define SIDE MT
#else
#define SIDE ALPHA
#endif

// The transform of tile t's four channels from c on (C1: channel c): res[a*ALPHA + b] is frequency (a, b).
void tile(uint n, uint th, uint tw, uint c, out WT res[ALPHA * ALPHA]) {
	int h0 = int(th * MT) - int(p.pad), w0 = int(tw * MT) - int(p.pad);
	WT d[ALPHA][ALPHA];
#ifdef C1
	// Where each row of taps starts.
	uint rowE[SIDE];
	[[unroll]] for (uint a = 0; a < SIDE; a++)
		rowE[a] = p.inOff + ((n * p.H + uint(h0 + int(a))) * p.W + uint(w0)) * p.C + c;
#endif
	[[unroll]] for (uint a = 0; a < SIDE; a++) {
		[[unroll]] for (uint b = 0; b < SIDE; b++) {
			int h = h0 + int(a), w = w0 + int(b);
			bool ok = uint(h) < p.H && uint(w) < p.W;
			uint e = p.inOff + (ok ? ((n * p.H + uint(h)) * p.W + uint(w)) * p.C + c : 0);
#if defined(C1)
			WT x = texelFetch(X, int(ok ? rowE[a] + b * p.C : 0)).x;
			x = ok ? x : 0.0;
#elif defined(SCALAR)
			vec4 x;
			[[unroll]] for (uint cc = 0; cc < 4; cc++) {
				bool in_c = ok && c + cc < p.C;
				float f = texelFetch(X, int(in_c ? e + cc : p.inOff)).x;
				x[cc] = in_c ? f : 0.0;
			}
#else
			vec4 x = texelFetch(X, int(e >> 2));
			x = ok ? x : vec4(0.0);
#endif
			d[a][b] = x;
		}
	}
	// Columns (along h), then rows (along w).
	[[unroll]] for (uint b = 0; b < SIDE; b++) {
		WT col[ALPHA];
#ifdef DY
		WT y[MT];
		[[unroll]] for (uint a = 0; a < MT; a++) y[a] = d[a][b];
		wino_dy(y, col);
#else
		[[unroll]] for (uint a = 0; a < ALPHA; a++) col[a] = d[a][b];
		wino_in(col);
#endif
		[[unroll]] for (uint a = 0; a < ALPHA; a++) d[a][b] = col[a];
	}
	[[unroll]] for (uint a = 0; a < ALPHA; a++) {
		WT row[ALPHA];
#ifdef DY
		WT y[MT];
		[[unroll]] for (uint b = 0; b < MT; b++) y[b] = d[a][b];
		wino_dy(y, row);
#else
		[[unroll]] for (uint b = 0; b < ALPHA; b++) row[b] = d[a][b];
		wino_in(row);
#endif
		[[unroll]] for (uint b = 0; b < ALPHA; b++) res[a * ALPHA + b] = row[b];
	}
}

void main() {
#if defined(C1)
	// The grid is (tile columns x channels, tile rows, images) of one-dimensional workgroups, Cp a
	// power of 2 (ops checks): no integer division, which x86 has only per lane (8 scalar divisions a
	// subgroup each).
	uint x = gl_GlobalInvocationID.x;
	if (x >= p.TW * p.Cp) return;
	uint c = x & (p.Cp - 1u), tw = x >> findLSB(p.Cp), th = gl_WorkGroupID.y, n = gl_WorkGroupID.z;
	uint t = (n * p.TH + th) * p.TW + tw;
	float r[ALPHA * ALPHA];
	tile(n, th, tw, c, r);
	uint o = p.outOff + WINO_ROW(t, p.blkShift, p.blkFloats, p.Cp) + c;
	[[unroll]] for (uint f = 0; f < ALPHA * ALPHA; f++) v[o + f * p.xiStride] = r[f];
#elif defined(X8)
	uint T = p.N * p.TH * p.TW, i = flat_id();
	uint c8s = p.Cp / 8;
	if (i >= T * c8s) return;
	uint c = 8 * (i % c8s), t = i / c8s;
	uint tw = t % p.TW, th = (t / p.TW) % p.TH, n = t / (p.TW * p.TH);
	vec4 lo[ALPHA * ALPHA], hi[ALPHA * ALPHA];
	tile(n, th, tw, c, lo);
	tile(n, th, tw, c + 4, hi);
	uint o = (p.outOff + WINO_ROW(t, p.blkShift, p.blkFloats, p.Cp) + c) / 8, xs = p.xiStride / 8;
	[[unroll]] for (uint f = 0; f < ALPHA * ALPHA; f++) v8[o + f * xs] = pack8(lo[f], hi[f]);
#else
	uint T = p.N * p.TH * p.TW, i = flat_id();
	uint c4s = p.Cp / 4;
	if (i >= T * c4s) return;
	uint c = 4 * (i % c4s), t = i / c4s;
	uint tw = t % p.TW, th = (t / p.TW) % p.TH, n = t / (p.TW * p.TH);
	vec4 r[ALPHA * ALPHA];
	tile(n, th, tw, c, r);
	uint o = (p.outOff + WINO_ROW(t, p.blkShift, p.blkFloats, p.Cp) + c) / 4, xs = p.xiStride / 4;
	[[unroll]] for (uint f = 0; f < ALPHA * ALPHA; f++) v[o + f * xs] = r[f];
#endif
}
