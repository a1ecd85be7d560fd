// conv2d_winograd_in.comp: tiles of an image tensor into the Winograd domain, for the convolutions in
// ops/winograd.go. Input x (N, H, W, C); tile t = (n, th, tw) covers input rows th*MT-pad .. +ALPHA-1
// (zeros outside the image) and becomes v[xi][t][c] = (B^T d B)[xi] for the ALPHA*ALPHA frequencies xi.
// With DY the source is an output gradient dy (N, P, Q, K) and its MT x MT tiles become A dy A^T
// (backward weight). v lies in blocks of 2^blkShift tiles (WINO_ROW in common.glsl; xiStride is then the
// floats between frequencies within a block). One invocation: one tile, four channels (X8: eight, Cp a
// multiple of 8 and v's offset of 8, stored eight floats at a time; see common.glsl). Channels are
// padded to Cp (a multiple of 4) with zeros, so the GEMMs in the Winograd domain always run on vec4s.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
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

layout(push_constant) uniform Push {
	uint N, H, W, C; // the source tensor (for DY: N, P, Q, K)
	uint pad;        // rows and columns of zeros before the first pixel (0 with DY)
	uint TH, TW;     // tiles per image along H and W
	uint Cp;         // channels per tile row in v
	uint xiStride;   // floats between frequencies in v
	uint inOff, outOff;
	uint blkShift, blkFloats; // v's tile blocks (WINO_ROW)
} p;

// SCALAR: R32F texels, any C and offset; else RGBA32F texels, C % 4 == 0 and inOff % 4 == 0.
layout(set = 0, binding = 0) uniform textureBuffer X;
layout(std430, set = 0, binding = 1) writeonly buffer V { vec4 v[]; }; // (ALPHA*ALPHA, T, Cp / 4)
#ifdef X8
layout(std430, set = 0, binding = 1) writeonly buffer V8 { u64vec4 v8[]; }; // (ALPHA*ALPHA, T, Cp / 8)
#endif

#ifdef DY
#define SIDE MT
#else
#define SIDE ALPHA
#endif

// The transform of tile t's four channels from c on: res[a*ALPHA + b] is frequency (a, b).
void tile(uint t, uint c, out vec4 res[ALPHA * ALPHA]) {
	uint tw = t % p.TW, th = (t / p.TW) % p.TH, n = t / (p.TW * p.TH);
	int h0 = int(th * MT) - int(p.pad), w0 = int(tw * MT) - int(p.pad);
	vec4 d[ALPHA][ALPHA];
	[[unroll]] for (uint a = 0; a < SIDE; a++) {
		[[unroll]] for (uint b = 0; b < SIDE; b++) {
			int h = h0 + int(a), w = w0 + int(b);
			bool ok = uint(h) < p.H && uint(w) < p.W;
			uint e = p.inOff + (ok ? ((n * p.H + uint(h)) * p.W + uint(w)) * p.C + c : 0);
#ifdef SCALAR
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
		vec4 col[ALPHA];
#ifdef DY
		vec4 y[MT];
		[[unroll]] for (uint a = 0; a < MT; a++) y[a] = d[a][b];
		wino_dy(y, col);
#else
		[[unroll]] for (uint a = 0; a < ALPHA; a++) col[a] = d[a][b];
		wino_in(col);
#endif
		[[unroll]] for (uint a = 0; a < ALPHA; a++) d[a][b] = col[a];
	}
	[[unroll]] for (uint a = 0; a < ALPHA; a++) {
		vec4 row[ALPHA];
#ifdef DY
		vec4 y[MT];
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
	uint T = p.N * p.TH * p.TW, i = flat_id();
#ifdef X8
	uint c8s = p.Cp / 8;
	if (i >= T * c8s) return;
	uint c = 8 * (i % c8s), t = i / c8s;
	vec4 lo[ALPHA * ALPHA], hi[ALPHA * ALPHA];
	tile(t, c, lo);
	tile(t, c + 4, hi);
	uint o = (p.outOff + WINO_ROW(t, p.blkShift, p.blkFloats, p.Cp) + c) / 8, xs = p.xiStride / 8;
	[[unroll]] for (uint f = 0; f < ALPHA * ALPHA; f++) v8[o + f * xs] = pack8(lo[f], hi[f]);
#else
	uint c4s = p.Cp / 4;
	if (i >= T * c4s) return;
	uint c = 4 * (i % c4s), t = i / c4s;
	vec4 r[ALPHA * ALPHA];
	tile(t, c, r);
	uint o = (p.outOff + WINO_ROW(t, p.blkShift, p.blkFloats, p.Cp) + c) / 4, xs = p.xiStride / 4;
	[[unroll]] for (uint f = 0; f < ALPHA * ALPHA; f++) v[o + f * xs] = r[f];
#endif
}
