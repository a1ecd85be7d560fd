// conv2d_winograd_out.comp: the Winograd domain back to pixels, for ops/winograd.go: tile t = (n, th, tw)
// of m[xi][t][k] (ALPHA*ALPHA frequencies, Kp channels a row) becomes y = A^T m A, the MT x MT output
// pixels from (th*MT, tw*MT) of y (N, P, Q, K), or are added to y's (ACCUM); pixels past P or Q are
// not stored. One invocation: one tile, four channels.
#version 450
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

layout(push_constant) uniform Push {
	uint N, P, Q, K;
	uint TH, TW;   // tiles per image along P and Q
	uint Kp;       // channels per tile row in m
	uint xiStride; // floats between frequencies in m
	uint inOff, outOff;
	uint yTexOff;  // ACCUM without SCALAR: y's first float in the texel view YT
} p;

layout(set = 0, binding = 0) uniform samplerBuffer Mw; // RGBA32F (ALPHA*ALPHA, T, Kp / 4)
// ACCUM (the _add variants): y is added to what the buffer holds (backward data's second gradient
// contribution); a variant of its own so the plain kernel stays write-only (see conv2d_bwd_data_cpu.comp).
// The vec4 _add variants read what y holds through a texel view of it (binding 2): lavapipe loads a
// storage buffer lane by lane, a texel buffer with one gather. Each element is read, then written, by
// one invocation only.
#if defined(ACCUM) && defined(SCALAR)
#define YACCESS
#else
#define YACCESS writeonly
#endif
#if defined(ACCUM) && !defined(SCALAR)
layout(set = 0, binding = 2) uniform samplerBuffer YT; // RGBA32F view of y, read-only
#endif
// SCALAR: any K and offset; else K % 4 == 0 and outOff % 4 == 0.
#ifdef SCALAR
layout(std430, set = 0, binding = 1) YACCESS buffer Y { float y[]; };
#else
layout(std430, set = 0, binding = 1) YACCESS buffer Y { vec4 y[]; };
#endif

void main() {
	uint k4s = p.Kp / 4, T = p.N * p.TH * p.TW;
	uint i = flat_id();
	if (i >= T * k4s) return;
	uint k = 4 * (i % k4s), t = i / k4s;
	uint tw = t % p.TW, th = (t / p.TW) % p.TH, n = t / (p.TW * p.TH);
	uint base = (p.inOff + t * p.Kp + k) / 4, xs = p.xiStride / 4;
	vec4 o[MT][ALPHA];
	[[unroll]] for (uint b = 0; b < ALPHA; b++) {
		vec4 col[ALPHA], r[MT];
		[[unroll]] for (uint a = 0; a < ALPHA; a++) col[a] = texelFetch(Mw, int(base + (a * ALPHA + b) * xs));
		wino_out(col, r);
		[[unroll]] for (uint a = 0; a < MT; a++) o[a][b] = r[a];
	}
	[[unroll]] for (uint a = 0; a < MT; a++) {
		uint h = th * MT + a;
		if (h >= p.P) break;
		vec4 row[ALPHA], r[MT];
		[[unroll]] for (uint b = 0; b < ALPHA; b++) row[b] = o[a][b];
		wino_out(row, r);
		[[unroll]] for (uint b = 0; b < MT; b++) {
			uint w = tw * MT + b;
			if (w >= p.Q) break;
			uint e = p.outOff + ((n * p.P + h) * p.Q + w) * p.K + k;
#ifdef SCALAR
			[[unroll]] for (uint cc = 0; cc < 4; cc++)
				if (k + cc < p.K) {
#ifdef ACCUM
					y[e + cc] += r[b][cc];
#else
					y[e + cc] = r[b][cc];
#endif
				}
#else
#ifdef ACCUM
			y[e / 4] = texelFetch(YT, int((e - p.outOff + p.yTexOff) / 4)) + r[b];
#else
			y[e / 4] = r[b];
#endif
#endif
		}
	}
}
