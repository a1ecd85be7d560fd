// optim.comp: one optimizer step over flat parameter buffers, every segment
// in one dispatch: SGD (-DSGD), AdamW (-DADAMW) or the update of LARS
// (-DLARS, with the trust ratios optim_norms.comp left in scratch).
//
// Each workgroup owns a fixed range of K*4*WG elements, finds the segments
// overlapping it by binary search in the table, and its invocations stride
// over each overlap: vec4s in the aligned middle, scalars at the edges.
// Hyperparameters come from the hyper buffer (see ops.SGDHyper,
// ops.LARSHyper, ops.AdamWHyper), so a recorded step replays with new values.
// With -DTEXEL the gradients, and the parameters and momentum through
// second read-only views (bindings 6 and 7; AdamW's v: 8), are read as texels;
// every element is read and then written by one invocation only.
#version 450
#include "common.glsl"
#include "load.glsl"
#define SEG_BINDING 3
#include "segments.glsl"
//!novariant-base
//!variant sgd -DSGD=1
//!variant adamw -DADAMW=1
//!variant lars -DLARS=1
//!variant sgd_texel -DSGD=1 -DTEXEL=1
//!variant adamw_texel -DADAMW=1 -DTEXEL=1
//!variant lars_texel -DLARS=1 -DTEXEL=1

layout(constant_id = 3) const uint K = 4;
layout(push_constant) uniform Push { uint n, nsegs, nesterov, trust_off; } p;
layout(std430, set = 0, binding = 0) buffer P { float w1[]; };
layout(std430, set = 0, binding = 0) buffer P4 { vec4 w4[]; };
INPUT4(1, grads)
layout(std430, set = 0, binding = 2) buffer M { float m1[]; }; // momentum, or Adam's first moment
layout(std430, set = 0, binding = 2) buffer M4 { vec4 m4[]; };
layout(std430, set = 0, binding = 4) readonly buffer Hyper { float hyper[]; };
#ifdef ADAMW
layout(std430, set = 0, binding = 5) buffer V { float v1[]; }; // Adam's second moment
layout(std430, set = 0, binding = 5) buffer V4 { vec4 v4[]; };
#endif
#ifdef LARS
layout(std430, set = 0, binding = 5) readonly buffer Scratch { float scratch[]; };
#endif

#ifdef TEXEL
INPUT4(6, wt)
INPUT4(7, mt)
#define W1(i) LOAD1(wt, i)
#define W4(i) LOAD(wt, i)
#define M1(i) LOAD1(mt, i)
#define M4(i) LOAD(mt, i)
#else
#define W1(i) w1[i]
#define W4(i) w4[i]
#define M1(i) m1[i]
#define M4(i) m4[i]
#endif
#if defined(TEXEL) && defined(ADAMW)
// AdamW's v through a read-only texel view too (binding 8): read from its storage view, v was the
// update's one storage-buffer load, a per-lane loop on lavapipe, and the kernel took 140-149 ms
// instead of 87-99 on a Zen 3 EPYC (11.5 M parameters; BENCHMARKS.md, 2026-11-30 late).
INPUT4(8, vt)
#define V1(i) LOAD1(vt, i)
#define V4(i) LOAD(vt, i)
#elif defined(ADAMW)
#define V1(i) v1[i]
#define V4(i) v4[i]
#endif
#define G1(i) LOAD1(grads, i)
#define G4(i) LOAD(grads, i)

// The update of one element (T = float, suffix 1) or four (vec4, suffix 4)
// of a segment; ex: excluded, trust: LARS's ratio.
#if defined(SGD)
// hyper: lr, momentum, wd.
#define UPDATE(T, S, i)                                                         \
	{                                                                           \
		float lr = H[0], mom = H[1], wd = H[2];                                 \
		T w = W##S(i), g = G##S(i);                                             \
		if (!ex) g += wd * w;                                                   \
		T d = g;                                                                \
		if (mom != 0.0) {                                                       \
			T v = mom * M##S(i) + g;                                            \
			m##S[i] = v;                                                        \
			d = p.nesterov != 0 ? g + mom * v : v;                              \
		}                                                                       \
		w##S[i] = w - lr * d;                                                   \
	}
#elif defined(LARS)
// hyper: lr, momentum, wd, eta; scratch[trust_off + s] is the trust ratio (1 when excluded).
#define UPDATE(T, S, i)                                                         \
	{                                                                           \
		float mom = H[1], wd = H[2];                                            \
		float scaled = H[0] * trust;                                            \
		T w = W##S(i), g = G##S(i);                                             \
		if (!ex) g += wd * w;                                                   \
		T v = mom * M##S(i) + scaled * g;                                       \
		m##S[i] = v;                                                            \
		w##S[i] = w - (p.nesterov != 0 ? mom * v + scaled * g : v);             \
	}
#elif defined(ADAMW)
// hyper: see ops.AdamWHyper.
#define UPDATE(T, S, i)                                                         \
	{                                                                           \
		float b1 = H[1], b2 = H[2], eps = H[3];                                 \
		float step_size = H[6], bc2sqrt = H[7], decay = H[8];                   \
		float omb1 = H[9], omb2 = H[10];                                        \
		T w = W##S(i), g = G##S(i);                                             \
		if (!ex) w *= decay;                                                    \
		T m = b1 * M##S(i) + omb1 * g;                                          \
		T v = b2 * V##S(i) + omb2 * g * g;                                      \
		m##S[i] = m;                                                            \
		v##S[i] = v;                                                            \
		w##S[i] = w - step_size * m / (sqrt(v) / bc2sqrt + eps);                \
	}
#endif

// The hyperparameters, read once per invocation: lavapipe runs every storage-buffer load as a loop
// over the lanes, and inside the update (where the compiler cannot move them past the stores) they
// cost eleven such loops for each vec4 of parameters.
#if defined(ADAMW)
#define NHYPER 11
#else
#define NHYPER 3
#endif
float H[NHYPER];

void upd1(uint e, bool ex, float trust) UPDATE(float, 1, e)
void upd4(uint q, bool ex, float trust) UPDATE(vec4, 4, q)

void main() {
	uint wg = gl_WorkGroupSize.x, lid = gl_LocalInvocationID.x;
	uint lo = flat_group() * wg * K * 4;
	if (lo >= p.n) return;
	uint hi = min(lo + wg * K * 4, p.n);
	[[unroll]] for (uint i = 0; i < NHYPER; i++) H[i] = hyper[i];
	for (uint s = seg_find(lo, p.nsegs); s < p.nsegs; s++) {
		uint off = seg_off(s);
		if (off >= hi) break;
		uint a = max(lo, off), b = min(hi, off + seg_len(s));
		if (a >= b) continue;
		bool ex = seg_excluded(s);
		float trust = 1.0;
#ifdef LARS
		trust = scratch[p.trust_off + s];
#endif
		uint a4 = min((a + 3) & ~3u, b), b4 = max(b & ~3u, a4);
		for (uint e = a + lid; e < a4; e += wg) upd1(e, ex, trust);
		for (uint q = a4 / 4 + lid; q < b4 / 4; q += wg) upd4(q, ex, trust);
		for (uint e = b4 + lid; e < b; e += wg) upd1(e, ex, trust);
	}
}
