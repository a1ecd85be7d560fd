// conv2d_im2col.comp: the im2col matrix of a batch piece, for grad weight as one GEMM
// (ops/conv2d_im2col.go): cols[(n, p, q)][(r, s, c)] = x[n, p*st - pad + r, q*st - pad + s, c], zero
// outside the image, rows in output-pixel order, columns in the filter's (R, S, C) order so the GEMM's
// result is dw (R, S, C, K) as it is. One invocation: one output pixel, four channels, every tap; the
// lanes of a subgroup take consecutive channel quads of a pixel (consecutive pixels when C = 4), so
// with C >= 32 their stores are contiguous.
// Needs C % 4 == 0 and offsets that are multiples of 4 (vec4 texels in, vec4 stores out).
// USED (the _u variant, C == 4): only x's first `used` channels can be nonzero (ref.Conv2D.UsedC, a
// stem's padded image), so a row holds just those: column (r*S + s)*used + c, rowLen of them (R*S*used
// rounded up to 4, zeros past the last). One invocation: one output pixel, four columns.
// The _u1_7x7 variant (the 1-channel ImageNet stem) fixes the window and the used channels at compile
// time, so the divisions by them become multiplications (lavapipe divides lane by lane): the demo's
// stem im2col 13.6-16.6 -> 10.2-11.2 ms a step. The same for 3x3 windows (the loops unrolled) measured
// no gain at width 16 (im2col 59-73 ms a step either way) and is not kept.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#include "common.glsl"
//!variant u -DUSED=1
//!variant u1_7x7 -DUSED=1 -DUSED1=1 -DWIN7=1
//!variant x8 -DX8=1

layout(push_constant) uniform Push {
	uint N, H, W, C; // x of the piece (N, H, W, C)
	uint P, Q, R, S, st, pad;
	uint inOff, outOff; // floats
	uint used, rowLen;  // the _u variant
} p;

layout(set = 0, binding = 0) uniform textureBuffer X; // RGBA32F
layout(std430, set = 0, binding = 1) writeonly buffer Cols { vec4 cols[]; }; // (N*P*Q, R*S*C/4)
#ifdef X8
layout(std430, set = 0, binding = 1) writeonly buffer Cols8 { u64vec4 cols8[]; }; // (N*P*Q, R*S*C/8)
#endif

#ifdef WIN7
#define RR 7u
#define SS 7u
#else
#define RR p.R
#define SS p.S
#endif
#ifdef USED1
#define UU 1u
#else
#define UU p.used
#endif

void main() {
#ifdef USED
	uint j4s = p.rowLen / 4;
	uint i = flat_id();
	if (i >= p.N * p.P * p.Q * j4s) return;
	uint j0 = 4 * (i % j4s), row = i / j4s;
	uint q = row % p.Q, np = row / p.Q;
	uint pp = np % p.P, n = np / p.P;
	int h0 = int(pp * p.st) - int(p.pad), w0 = int(q * p.st) - int(p.pad);
	uint img = p.inOff + n * p.H * p.W * p.C;
	vec4 v;
	[[unroll]] for (uint jj = 0; jj < 4; jj++) {
		uint tap = (j0 + jj) / UU, c = (j0 + jj) % UU;
		int h = h0 + int(tap / SS), w = w0 + int(tap % SS);
		bool ok = tap < RR * SS && uint(h) < p.H && uint(w) < p.W;
		vec4 x = texelFetch(X, int((ok ? img + (uint(h) * p.W + uint(w)) * p.C : img) >> 2));
		v[jj] = ok ? x[c] : 0.0;
	}
	cols[(p.outOff + row * p.rowLen + j0) / 4] = v;
#else
	// X8 (the _x8 variant): eight channels an invocation, stored eight floats at a time (common.glsl);
	// C and the output offset multiples of 8.
	uint cw = VSTEP, cws = p.C / cw;
	uint i = flat_id();
	if (i >= p.N * p.P * p.Q * cws) return;
	uint c = cw * (i % cws), row = i / cws;
	uint q = row % p.Q, np = row / p.Q;
	uint pp = np % p.P, n = np / p.P;
	int h0 = int(pp * p.st) - int(p.pad), w0 = int(q * p.st) - int(p.pad);
	uint o = (p.outOff + row * p.R * p.S * p.C + c) / cw;
	uint img = p.inOff + n * p.H * p.W * p.C + c;
	for (uint r = 0; r < p.R; r++) {
		int h = h0 + int(r);
		bool hok = uint(h) < p.H;
		for (uint s = 0; s < p.S; s++) {
			int w = w0 + int(s);
			bool ok = hok && uint(w) < p.W;
			uint e = (ok ? img + (uint(h) * p.W + uint(w)) * p.C : img) >> 2;
			vec4 v = texelFetch(X, int(e));
			v = ok ? v : vec4(0.0);
#ifdef X8
			vec4 v2 = texelFetch(X, int(e + 1));
			cols8[o + (r * p.S + s) * cws] = pack8(v, ok ? v2 : vec4(0.0));
#else
			cols[o + (r * p.S + s) * cws] = v;
#endif
		}
	}
#endif
}
