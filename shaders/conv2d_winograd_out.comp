// conv2d_winograd_out.comp: the Winograd domain back to pixels, for ops/winograd.go: tile t = (n, th, tw)
// of m[xi][t][k] (ALPHA*ALPHA frequencies, Kp channels a row, in blocks of 2^blkShift tiles: WINO_ROW in
// common.glsl) becomes y = A^T m A, the MT x MT output pixels from (th*MT, tw*MT) of y (N, P, Q, K), or
// are added to y's (ACCUM); pixels past P or Q are not stored. One invocation: one tile, four channels (X8: eight, K and Kp multiples of 8 and y's
// offset of 8, stored eight floats at a time; see common.glsl).
//
// C1 (the _c1 variants): one invocation, one tile, one channel, the grid (tile columns x channels, tile
// rows, images) with K = Kp a power of 2, so a subgroup's lanes hold consecutive channels of one tile
// and each of its loads and stores covers one contiguous stretch (conv2d_winograd_in.comp says why).
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
//!variant f4_add -DMT=4 -DACCUM=1
//!variant f4_s_add -DMT=4 -DSCALAR=1 -DACCUM=1
//!variant f2_add -DMT=2 -DACCUM=1
//!variant f2_s_add -DMT=2 -DSCALAR=1 -DACCUM=1
//!variant f4_x8 -DMT=4 -DX8=1
//!variant f2_x8 -DMT=2 -DX8=1
//!variant f4_x8_add -DMT=4 -DX8=1 -DACCUM=1
//!variant f2_x8_add -DMT=2 -DX8=1 -DACCUM=1
// The _c1 variants compile with -O0, as conv2d_winograd_in.comp's do (that file says why).
//!variant f4_c1 -O0 -DMT=4 -DC1=1
//!variant f4_c1_add -O0 -DMT=4 -DC1=1 -DACCUM=1

layout(push_constant) uniform Push {
	uint N, P, Q, K;
	uint TH, TW;   // tiles per image along P and Q
	uint Kp;       // channels per tile row in m
	uint xiStride; // floats between frequencies in m
	uint inOff, outOff;
	uint yTexOff;  // ACCUM without SCALAR: y's first float in the texel view YT
	uint blkShift, blkFloats; // m's tile blocks (WINO_ROW)
} p;

layout(set = 0, binding = 0) uniform textureBuffer Mw; // RGBA32F (ALPHA*ALPHA, T, Kp / 4); C1: R32F
// ACCUM (the _add variants): y is added to what the buffer holds (backward data's second gradient
// contribution); a variant of its own so the plain kernel stays write-only (see conv2d_bwd_data_cpu.comp).
// The vec4 _add variants read what y holds through a texel view of it (binding 2): lavapipe loads a
// storage buffer lane by lane, a texel buffer with one gather. Each element is read, then written, by
// one invocation only.
#if defined(ACCUM) && defined(SCALAR) && !defined(C1)
#define YACCESS
#else
#define YACCESS writeonly
#endif
#if defined(ACCUM) && !defined(SCALAR)
layout(set = 0, binding = 2) uniform textureBuffer YT; // RGBA32F view of y, read-only (C1: R32F)
#endif
// SCALAR and C1: any K and offset; else K % 4 == 0 and outOff % 4 == 0.
#if defined(SCALAR) || defined(C1)
layout(std430, set = 0, binding = 1) YACCESS buffer Y { float y[]; };
#else
layout(std430, set = 0, binding = 1) YACCESS buffer Y { vec4 y[]; };
#endif
#ifdef X8
layout(std430, set = 0, binding = 1) writeonly buffer Y8 { u64vec4 y8[]; };
#endif

// The MT x MT output pixels of tile t for the four channels from k on (C1: channel k): res[a*MT + b] is
// pixel (a, b).
void outTile(uint t, uint k, out WT res[MT * MT]) {
#ifdef C1
	uint base = p.inOff + WINO_ROW(t, p.blkShift, p.blkFloats, p.Kp) + k, xs = p.xiStride;
#else
	uint base = (p.inOff + WINO_ROW(t, p.blkShift, p.blkFloats, p.Kp) + k) / 4, xs = p.xiStride / 4;
#endif
	WT o[MT][ALPHA];
	[[unroll]] for (uint b = 0; b < ALPHA; b++) {
		WT col[ALPHA], r[MT];
#ifdef C1
		[[unroll]] for (uint a = 0; a < ALPHA; a++) col[a] = texelFetch(Mw, int(base + (a * ALPHA + b) * xs)).x;
#else
		[[unroll]] for (uint a = 0; a < ALPHA; a++) col[a] = texelFetch(Mw, int(base + (a * ALPHA + b) * xs));
#endif
		wino_out(col, r);
		[[unroll]] for (uint a = 0; a < MT; a++) o[a][b] = r[a];
	}
	[[unroll]] for (uint a = 0; a < MT; a++) {
		WT row[ALPHA], r[MT];
		[[unroll]] for (uint b = 0; b < ALPHA; b++) row[b] = o[a][b];
		wino_out(row, r);
		[[unroll]] for (uint b = 0; b < MT; b++) res[a * MT + b] = r[b];
	}
}

void main() {
#ifdef C1
	uint x = gl_GlobalInvocationID.x;
	if (x >= p.TW * p.Kp) return;
	uint k = x & (p.Kp - 1u), tw = x >> findLSB(p.Kp), th = gl_WorkGroupID.y, n = gl_WorkGroupID.z;
	float r[MT * MT];
	outTile((n * p.TH + th) * p.TW + tw, k, r);
#else
	uint T = p.N * p.TH * p.TW, i = flat_id();
#endif
#if defined(C1)
#elif defined(X8)
	uint k8s = p.Kp / 8;
	if (i >= T * k8s) return;
	uint k = 8 * (i % k8s), t = i / k8s;
	vec4 lo[MT * MT], hi[MT * MT];
	outTile(t, k, lo);
	outTile(t, k + 4, hi);
#else
	uint k4s = p.Kp / 4;
	if (i >= T * k4s) return;
	uint k = 4 * (i % k4s), t = i / k4s;
	vec4 r[MT * MT];
	outTile(t, k, r);
#endif
#ifndef C1
	uint tw = t % p.TW, th = (t / p.TW) % p.TH, n = t / (p.TW * p.TH);
#endif
	[[unroll]] for (uint a = 0; a < MT; a++) {
		uint h = th * MT + a;
		if (h >= p.P) break;
		[[unroll]] for (uint b = 0; b < MT; b++) {
			uint w = tw * MT + b;
			if (w >= p.Q) break;
			uint e = p.outOff + ((n * p.P + h) * p.Q + w) * p.K + k;
#if defined(C1) && defined(ACCUM)
			y[e] = texelFetch(YT, int(e - p.outOff + p.yTexOff)).x + r[a * MT + b];
#elif defined(C1)
			y[e] = r[a * MT + b];
#elif defined(X8) && defined(ACCUM)
			uint yt = (e - p.outOff + p.yTexOff) / 4;
			y8[e / 8] = pack8(texelFetch(YT, int(yt)) + lo[a * MT + b], texelFetch(YT, int(yt + 1)) + hi[a * MT + b]);
#elif defined(X8)
			y8[e / 8] = pack8(lo[a * MT + b], hi[a * MT + b]);
#elif defined(SCALAR)
			[[unroll]] for (uint cc = 0; cc < 4; cc++)
				if (k + cc < p.K) {
#ifdef ACCUM
					y[e + cc] += r[a * MT + b][cc];
#else
					y[e + cc] = r[a * MT + b][cc];
#endif
				}
#elif defined(ACCUM)
			y[e / 4] = texelFetch(YT, int((e - p.outOff + p.yTexOff) / 4)) + r[a * MT + b];
#else
			y[e / 4] = r[a * MT + b];
#endif
		}
	}
}
