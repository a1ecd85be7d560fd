// max_pool.comp: max pooling with -inf padding over channels-last x (a NaN
// in the window wins, else the first maximum in (r, s) order), and with
// -DBACKWARD its gradient, scattered without atomics: windows are taken in
// phases (oh mod PH, ow mod PW) with PH = ceil(R/st), PW = ceil(S/st), so
// the windows of one phase never overlap and each adds its dy to its own
// argmax; ops.MaxPoolBackward zeroes dx and records the phases in order.
// N batch, H W input, P Q output, CG channel groups (C, or C/4 with -DVEC4),
// R S window, st stride, pad padding. -DWIN3 fixes the window at 3x3 so
// the scan unrolls: a loop with push-constant bounds costs about 3x more on
// lavapipe. The scan is predicated (clamped loads, a validity mask) rather
// than branching around the padding.
//
// The kept forms, for the ResNet stem's 3x3 stride-2 pad-1 window with vec4
// channel groups: -DKEEP makes the forward also write each window's argmax
// (the pixel h*W + w within the image, as a float: exact below 2^24) to arg,
// and -DGATHER is the backward from it in one pass with no zeroing. Input
// rows 2a and 2a+1 lie in windows a (and a+1 for 2a+1 only), so one
// invocation per window (a, b) reads the argmax and dy of windows (a..a+1,
// b..b+1) and writes the 2x2 input block (2a.., 2b..), each element adding
// the dy of the windows whose argmax it is in the scatter's phase order
// (oh mod 2, then ow mod 2), from 0: every sum is the scatter's, bit for bit.
// The fill and four scatter phases, which recompute every window's maximum
// and add to dx through storage loads, become one dispatch of 8 texel
// fetches and 4 stores an invocation (ops.MaxPoolKeep, MaxPoolBackwardKept).
// A gather over input elements, the windows' ranges computed from push
// constants, took 2x the scatter's time: lavapipe divides lane by lane.
#version 450
#include "common.glsl"
#include "load.glsl"
//!variant vec4 -DVEC4=1
//!variant texel -DVEC4=1 -DTEXEL=1
//!variant vec4_3x3 -DVEC4=1 -DWIN3=1
//!variant texel_3x3 -DVEC4=1 -DTEXEL=1 -DWIN3=1
//!variant bwd -DBACKWARD=1
//!variant bwd_vec4 -DBACKWARD=1 -DVEC4=1
//!variant bwd_texel -DBACKWARD=1 -DVEC4=1 -DTEXEL=1
//!variant bwd_vec4_3x3 -DBACKWARD=1 -DVEC4=1 -DWIN3=1
//!variant bwd_texel_3x3 -DBACKWARD=1 -DVEC4=1 -DTEXEL=1 -DWIN3=1
//!variant vec4_3x3_keep -DVEC4=1 -DWIN3=1 -DKEEP=1
//!variant texel_3x3_keep -DVEC4=1 -DTEXEL=1 -DWIN3=1 -DKEEP=1
//!variant bwd_gather_vec4 -DGATHER=1 -DVEC4=1
//!variant bwd_gather_texel -DGATHER=1 -DVEC4=1 -DTEXEL=1

#ifdef VEC4
#define T vec4
#define B bvec4
#define I ivec4
#else
#define T float
#define B bool
#define I int
#endif

layout(push_constant) uniform Push { uint N, H, W, CG, P, Q, R, S, st, pad, ph, pw, PH, PW; } p;
#if defined(GATHER)
INPUT(0, arg, T) // (N, P, Q, C) each window's argmax, from the KEEP forward
INPUT(1, dyt, T) // (N, P, Q, C)
layout(std430, set = 0, binding = 2) writeonly buffer DX { T dx[]; }; // (N, H, W, C)
#else
INPUT(0, x, T) // (N, H, W, C)
#endif
#if defined(GATHER)
#elif !defined(BACKWARD)
layout(std430, set = 0, binding = 1) writeonly buffer Y { T y[]; }; // (N, P, Q, C)
#ifdef KEEP
layout(std430, set = 0, binding = 2) writeonly buffer Arg { T arg_out[]; }; // (N, P, Q, C)
#endif
#else
layout(std430, set = 0, binding = 1) readonly buffer DY { T dy[]; }; // (N, P, Q, C)
layout(std430, set = 0, binding = 2) buffer DX { float dx[]; };      // (N, H, W, C), zeroed first
#endif

bool gt(float a, float b) { return a > b; }
bvec4 gt(vec4 a, vec4 b) { return greaterThan(a, b); }
bool orb(bool a, bool b) { return a || b; }
bvec4 orb(bvec4 a, bvec4 b) { return bvec4(a.x || b.x, a.y || b.y, a.z || b.z, a.w || b.w); }

#ifdef WIN3
#define RR 3u
#define SS 3u
#else
#define RR p.R
#define SS p.S
#endif

#ifndef GATHER
// window_max scans window (oh, ow) of image n, channel group c; best is the
// maximum and at its pixel h*W + w within the image, per channel.
void window_max(uint n, uint oh, uint ow, uint c, out T best, out I at) {
	best = T(0.0);
	at = I(-1);
	bool first = true;
	[[unroll]] for (uint r = 0; r < RR; r++) {
		int ih = int(oh * p.st + r) - int(p.pad);
		bool row_ok = ih >= 0 && ih < int(p.H);
		uint ihc = uint(clamp(ih, 0, int(p.H) - 1));
		[[unroll]] for (uint s = 0; s < SS; s++) {
			int iw = int(ow * p.st + s) - int(p.pad);
			bool valid = row_ok && iw >= 0 && iw < int(p.W);
			uint iwc = uint(clamp(iw, 0, int(p.W) - 1));
			T v = LOAD(x, ((n * p.H + ihc) * p.W + iwc) * p.CG + c);
			B take = valid ? (first ? B(true) : orb(gt(v, best), isnan(v))) : B(false);
			best = mix(best, v, take);
			at = mix(at, I(int(ihc * p.W + iwc)), take);
			first = first && !valid;
		}
	}
}

#endif

void main() {
	uint i = flat_id();
#if defined(GATHER)
	if (i >= p.N * p.P * p.Q * p.CG) return;
	uint c = i % p.CG, pix = i / p.CG;
	uint bw = pix % p.Q, bh = (pix / p.Q) % p.P, n = pix / (p.P * p.Q);
	// Windows (bh + r, bw + sc) in phase order, the even row (column) first: r = rp ^ r0, sc = sp ^ s0.
	uint r0 = bh & 1u, s0 = bw & 1u;
	T A[2][2], G[2][2];
	bool live[2][2];
	[[unroll]] for (uint rp = 0; rp < 2; rp++) {
		uint r = rp ^ r0, oh = bh + r;
		[[unroll]] for (uint sp = 0; sp < 2; sp++) {
			uint sc = sp ^ s0, ow = bw + sc;
			uint o = ((n * p.P + min(oh, p.P - 1)) * p.Q + min(ow, p.Q - 1)) * p.CG + c;
			A[rp][sp] = LOAD(arg, o);
			G[rp][sp] = LOAD(dyt, o);
			live[rp][sp] = oh < p.P && ow < p.Q;
		}
	}
	[[unroll]] for (uint dr = 0; dr < 2; dr++) {
		uint h = 2 * bh + dr;
		[[unroll]] for (uint dc = 0; dc < 2; dc++) {
			uint w = 2 * bw + dc;
			T self = T(float(h * p.W + w)), sum = T(0.0);
			[[unroll]] for (uint rp = 0; rp < 2; rp++) {
				uint r = rp ^ r0; // window bh + r holds row h unless r = 1 and dr = 0
				[[unroll]] for (uint sp = 0; sp < 2; sp++) {
					uint sc = sp ^ s0;
					bool ok = live[rp][sp] && (r == 0 || dr == 1) && (sc == 0 || dc == 1);
					sum = mix(sum, sum + G[rp][sp], ok ? equal(A[rp][sp], self) : B(false));
				}
			}
			if (h < p.H && w < p.W) dx[((n * p.H + h) * p.W + w) * p.CG + c] = sum;
		}
	}
#elif !defined(BACKWARD)
	if (i >= p.N * p.P * p.Q * p.CG) return;
	uint c = i % p.CG, pix = i / p.CG;
	uint ow = pix % p.Q, oh = (pix / p.Q) % p.P, n = pix / (p.P * p.Q);
	T best;
	I at;
	window_max(n, oh, ow, c, best, at);
	y[i] = best;
#ifdef KEEP
	arg_out[i] = T(at);
#endif
#else
	// The windows of phase (ph, pw): oh = ph + PH*u, ow = pw + PW*v.
	uint PP = (p.P - p.ph + p.PH - 1) / p.PH, QQ = (p.Q - p.pw + p.PW - 1) / p.PW;
	if (i >= p.N * PP * QQ * p.CG) return;
	uint c = i % p.CG, pix = i / p.CG;
	uint v = pix % QQ, u = (pix / QQ) % PP, n = pix / (PP * QQ);
	uint oh = p.ph + u * p.PH, ow = p.pw + v * p.PW;
	T best;
	I at;
	window_max(n, oh, ow, c, best, at);
	T g = dy[((n * p.P + oh) * p.Q + ow) * p.CG + c];
	uint img = n * p.H * p.W;
#ifdef VEC4
	[[unroll]] for (uint k = 0; k < 4; k++) {
		uint e = (img + uint(at[k])) * 4 * p.CG + 4 * c + k;
		dx[e] += g[k];
	}
#else
	uint e = (img + uint(at)) * p.CG + c;
	dx[e] += g;
#endif
#endif
}
