// conv2d_winograd_wgrad.comp: backward weight's last pass, for ops/winograd.go: sums the chunks'
// partials s[z][xi][c][k] in ascending z (fixed order: bit-identical run to run), then takes each
// (c, k) out of the Winograd domain, dw[., ., c, k] = G^T s G, into dw (3, 3, C, K). One invocation:
// one c, four k.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#include "common.glsl"
#include "conv2d_winograd.glsl"
//!novariant-base
//!variant f4 -DMT=4
//!variant f2 -DMT=2
//!variant f4_v -DMT=4 -DVEC4OUT=1
//!variant f2_v -DMT=2 -DVEC4OUT=1

layout(push_constant) uniform Push {
	uint C, K;
	uint Kp;          // columns of each frequency's matrix in s
	uint chunks;
	uint xiStride;    // floats between frequencies in s
	uint chunkStride; // floats between chunks in s
	uint inOff, outOff;
} p;

// The partials arrive as RGBA32F texels: lavapipe loads a storage buffer lane by lane (a loop over the
// lanes per load), a texel buffer with one gather.
layout(set = 0, binding = 0) uniform textureBuffer S; // (chunks, ALPHA*ALPHA, Cp, Kp / 4)
#ifdef VEC4OUT
// The _v variants store vec4s (K % 4 == 0 and an output offset that is a multiple of 4): lavapipe
// stores lane by lane, so fewer stores are faster.
layout(std430, set = 0, binding = 1) writeonly buffer DW { vec4 dw4[]; }; // (3, 3, C, K / 4)
#else
layout(std430, set = 0, binding = 1) writeonly buffer DW { float dw[]; }; // (3, 3, C, K)
#endif

void main() {
	uint k4s = p.Kp / 4;
	uint i = flat_id();
	if (i >= p.C * k4s) return;
	uint k = 4 * (i % k4s), c = i / k4s;
	uint base = (p.inOff + c * p.Kp + k) / 4, xs = p.xiStride / 4, zs = p.chunkStride / 4;
	vec4 t[3][ALPHA];
	[[unroll]] for (uint b = 0; b < ALPHA; b++) {
		vec4 col[ALPHA], g[3];
		[[unroll]] for (uint a = 0; a < ALPHA; a++) {
			vec4 sum = texelFetch(S, int(base + (a * ALPHA + b) * xs));
			for (uint z = 1; z < p.chunks; z++) sum += texelFetch(S, int(base + z * zs + (a * ALPHA + b) * xs));
			col[a] = sum;
		}
		wino_dfilter(col, g);
		[[unroll]] for (uint r = 0; r < 3; r++) t[r][b] = g[r];
	}
	[[unroll]] for (uint r = 0; r < 3; r++) {
		vec4 row[ALPHA], g[3];
		[[unroll]] for (uint b = 0; b < ALPHA; b++) row[b] = t[r][b];
		wino_dfilter(row, g);
#ifdef VEC4OUT
		[[unroll]] for (uint q = 0; q < 3; q++) dw4[(p.outOff + ((r * 3 + q) * p.C + c) * p.K + k) / 4] = g[q];
#else
		[[unroll]] for (uint q = 0; q < 3; q++)
			[[unroll]] for (uint cc = 0; cc < 4; cc++)
				if (k + cc < p.K) dw[p.outOff + ((r * 3 + q) * p.C + c) * p.K + k + cc] = g[q][cc];
#endif
	}
}
