// optim_norms.comp: per-segment L2 norms as a segmented reduction with a
// fixed order, for LARS (p.lars != 0: ||w|| and ||g + wd*w|| of the
// non-excluded segments) and ops.SegmentNorms (||x|| of every segment).
//
// Default: invocation (s, q) of NCH per segment sums the vec4s q, q+NCH, ...
// of segment s (q = 0 also takes the unaligned edges) into
// scratch[2*(s*NCH + q) + {0, 1}].
// -DFINAL: one invocation per segment adds its NCH partials in order and
// writes the trust ratio eta*||w||/||g|| (1 when excluded or a norm is 0)
// to out[p.out_off + s] (LARS), or the norm (plain).
#version 450
#include "common.glsl"
#include "load.glsl"
#define SEG_BINDING 2
#include "segments.glsl"
//!variant final -DFINAL=1
//!variant texel -DTEXEL=1

const uint NCH = 256; // partials per segment; ops.normChunks
layout(push_constant) uniform Push { uint nsegs, lars, out_off; } p;
INPUT4(0, x)     // params (or the tensor to measure)
INPUT4(1, grads) // LARS only
layout(std430, set = 0, binding = 3) readonly buffer Hyper { float hyper[]; }; // LARS: lr, momentum, wd, eta
layout(std430, set = 0, binding = 4) buffer Scratch { float scratch[]; };
layout(std430, set = 0, binding = 5) buffer Out { float out_[]; };

void main() {
#ifndef FINAL
	uint id = flat_id();
	uint s = id / NCH, q = id - s * NCH;
	if (s >= p.nsegs) return;
	bool lars = p.lars != 0;
	if (lars && seg_excluded(s)) return;
	float wd = lars ? hyper[2] : 0.0;
	uint a = seg_off(s), b = a + seg_len(s);
	uint a4 = min((a + 3) & ~3u, b), b4 = max(b & ~3u, a4);
	vec4 ww = vec4(0.0), gg = vec4(0.0);
	for (uint i = a4 / 4 + q; i < b4 / 4; i += NCH) {
		vec4 w = LOAD(x, i);
		ww += w * w;
		if (lars) {
			vec4 g = LOAD(grads, i) + wd * w;
			gg += g * g;
		}
	}
	float sw = (ww.x + ww.y) + (ww.z + ww.w), sg = (gg.x + gg.y) + (gg.z + gg.w);
	if (q == 0) {
		for (uint e = a; e < a4; e++) {
			float w = LOAD1(x, e);
			sw += w * w;
			if (lars) {
				float g = LOAD1(grads, e) + wd * w;
				sg += g * g;
			}
		}
		for (uint e = b4; e < b; e++) {
			float w = LOAD1(x, e);
			sw += w * w;
			if (lars) {
				float g = LOAD1(grads, e) + wd * w;
				sg += g * g;
			}
		}
	}
	scratch[2 * id] = sw;
	scratch[2 * id + 1] = sg;
#else
	uint s = flat_id();
	if (s >= p.nsegs) return;
	if (p.lars != 0 && seg_excluded(s)) {
		out_[p.out_off + s] = 1.0;
		return;
	}
	float sw = 0.0, sg = 0.0;
	for (uint q = 0; q < NCH; q++) {
		sw += scratch[2 * (s * NCH + q)];
		sg += scratch[2 * (s * NCH + q) + 1];
	}
	if (p.lars != 0) {
		out_[p.out_off + s] = (sw > 0.0 && sg > 0.0) ? hyper[3] * sqrt(sw) / sqrt(sg) : 1.0;
	} else {
		out_[p.out_off + s] = sqrt(sw);
	}
#endif
}
