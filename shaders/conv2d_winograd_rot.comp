// conv2d_winograd_rot.comp: backward data's filter before its Winograd transform, for ops/winograd.go:
// wr (3, 3, K, C) = w (3, 3, C, K) rotated by 180 degrees and transposed, wr[r][s][k][c] =
// w[2-r][2-s][c][k], so conv2d_winograd_filter transforms it as a forward filter. One invocation: a 4x4
// block (four c, four k) of one tap, read as four vec4s along K and written as four along C. Needs
// C % 4 == 0, K % 4 == 0 and offsets that are multiples of 4. The transform's own flip reads four floats
// K apart for every tap, one cache line each, and ran 2.4-2.8x slower than the forward transform. w
// arrives as texels: lavapipe loads a storage buffer lane by lane, a texel buffer with one gather.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#include "common.glsl"

layout(push_constant) uniform Push { uint C, K, inOff, outOff; } p;
layout(set = 0, binding = 0) uniform textureBuffer W;                   // RGBA32F (3, 3, C, K / 4)
layout(std430, set = 0, binding = 1) writeonly buffer WR { vec4 wr[]; }; // (3, 3, K, C)

void main() {
	uint k4s = p.K / 4, c4s = p.C / 4;
	uint i = flat_id();
	if (i >= 9 * k4s * c4s) return;
	uint c0 = 4 * (i % c4s), k0 = 4 * ((i / c4s) % k4s), tap = i / (k4s * c4s);
	uint src = (8 - tap) * p.C * p.K; // tap (2-r, 2-s) of (r, s)
	vec4 b[4]; // b[cc] = w[.][.][c0+cc][k0..k0+3]
	[[unroll]] for (uint cc = 0; cc < 4; cc++) b[cc] = texelFetch(W, int((p.inOff + src + (c0 + cc) * p.K + k0) / 4));
	uint dst = tap * p.K * p.C;
	[[unroll]] for (uint kk = 0; kk < 4; kk++)
		wr[(p.outOff + dst + (k0 + kk) * p.C + c0) / 4] = vec4(b[0][kk], b[1][kk], b[2][kk], b[3][kk]);
}
