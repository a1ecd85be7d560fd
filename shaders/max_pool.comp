// max_pool.comp: max pooling with -inf padding over channels-last x, and
// with -DBACKWARD its gradient gathered per input element: each window that
// covers (h, w) recomputes its argmax (first maximum in (r, s) order, a NaN
// wins) and contributes its dy when that is (h, w). No atomics.
// N batch, H W input, P Q output, CG channel groups (C, or C/4 with -DVEC4),
// R S window, st stride, pad padding.
#version 450
#include "common.glsl"
//!variant vec4 -DVEC4=1
//!variant bwd -DBACKWARD=1
//!variant bwd_vec4 -DBACKWARD=1 -DVEC4=1

#ifdef VEC4
#define T vec4
#define B bvec4
#define I ivec4
#else
#define T float
#define B bool
#define I int
#endif

layout(push_constant) uniform Push { uint N, H, W, CG, P, Q, R, S, st, pad; } p;
layout(std430, set = 0, binding = 0) readonly buffer X { T x[]; }; // (N, H, W, C)
#ifndef BACKWARD
layout(std430, set = 0, binding = 1) writeonly buffer Y { T y[]; }; // (N, P, Q, C)
#else
layout(std430, set = 0, binding = 1) readonly buffer DY { T dy[]; };  // (N, P, Q, C)
layout(std430, set = 0, binding = 2) writeonly buffer DX { T dx[]; }; // (N, H, W, C)
#endif

bool gt(float a, float b) { return a > b; }
bvec4 gt(vec4 a, vec4 b) { return greaterThan(a, b); }
bool orb(bool a, bool b) { return a || b; }
bvec4 orb(bvec4 a, bvec4 b) { return bvec4(a.x || b.x, a.y || b.y, a.z || b.z, a.w || b.w); }
bool eq(int a, int b) { return a == b; }
bvec4 eq(ivec4 a, ivec4 b) { return equal(a, b); }

// window_max scans window (oh, ow) of image n, channel group c; best is the
// maximum and at its input position h*W + w, per channel.
void window_max(uint n, uint oh, uint ow, uint c, out T best, out I at) {
	best = T(0.0);
	at = I(-1);
	bool first = true;
	for (uint r = 0; r < p.R; r++) {
		int ih = int(oh * p.st + r) - int(p.pad);
		if (ih < 0 || ih >= int(p.H)) continue;
		for (uint s = 0; s < p.S; s++) {
			int iw = int(ow * p.st + s) - int(p.pad);
			if (iw < 0 || iw >= int(p.W)) continue;
			int pos = ih * int(p.W) + iw;
			T v = x[((n * p.H + uint(ih)) * p.W + uint(iw)) * p.CG + c];
			B take = first ? B(true) : orb(gt(v, best), isnan(v));
			best = mix(best, v, take);
			at = mix(at, I(pos), take);
			first = false;
		}
	}
}

void main() {
	uint i = flat_id();
#ifndef BACKWARD
	if (i >= p.N * p.P * p.Q * p.CG) return;
	uint c = i % p.CG, pix = i / p.CG;
	uint ow = pix % p.Q, oh = (pix / p.Q) % p.P, n = pix / (p.P * p.Q);
	T best;
	I at;
	window_max(n, oh, ow, c, best, at);
	y[i] = best;
#else
	if (i >= p.N * p.H * p.W * p.CG) return;
	uint c = i % p.CG, pix = i / p.CG;
	uint w = pix % p.W, h = (pix / p.W) % p.H, n = pix / (p.H * p.W);
	int me = int(h * p.W + w);
	// Windows oh with oh*st - pad <= h <= oh*st - pad + R - 1, in [0, P).
	int hp = int(h + p.pad), wp = int(w + p.pad);
	int oh0 = max(0, (hp - int(p.R) + int(p.st)) / int(p.st)), oh1 = min(int(p.P) - 1, hp / int(p.st));
	int ow0 = max(0, (wp - int(p.S) + int(p.st)) / int(p.st)), ow1 = min(int(p.Q) - 1, wp / int(p.st));
	T acc = T(0.0);
	for (int oh = oh0; oh <= oh1; oh++) {
		for (int ow = ow0; ow <= ow1; ow++) {
			T best;
			I at;
			window_max(n, uint(oh), uint(ow), c, best, at);
			T g = dy[((n * p.P + uint(oh)) * p.Q + uint(ow)) * p.CG + c];
			acc += mix(T(0.0), g, eq(at, I(me)));
		}
	}
	dx[i] = acc;
#endif
}
