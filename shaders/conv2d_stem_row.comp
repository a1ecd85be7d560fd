// conv2d_stem_row.comp: the CIFAR stem's forward convolution on CPU drivers (3x3, stride 1, padding 1,
// an image's 3 channels padded to 4: ref.Conv2D.UsedC = 3), one output pixel per invocation and 16
// output channels per workgroup: the row-per-lane design of conv2d_winograd_gemm_row.comp.
//
// conv2d_fwd_cpu.comp's c3 form gives each lane a 32-pixel x 16-channel register tile (512
// accumulators, in memory on lavapipe); here a lane's 16 accumulators stay in registers, the 27 x 16
// weights of this workgroup's output channels sit in shared memory, read at offsets fixed at compile
// time (lavapipe's scalar load, broadcast into the multiply-add), and a lane reads one vec4 texel a
// tap. Each accumulator takes the products in conv2d_fwd_cpu.comp's order (tap row, tap column,
// channel) by fma(), a tap in the padding contributing exact zeros as there, so the results are its
// bits (TestRowForwardMatchesPlain). Nothing is under a branch before the stores: lavapipe takes the
// scalar path for a shared load only outside divergent control flow.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#include "common.glsl"
#include "cpu_tile.glsl"
#ifndef X8
#error the stem's row form stores eight floats at a time (X8)
#endif
//!novariant-base
//!variant c3_x8 -DX8=1

// conv2d_fwd_row.comp's push constants (ops records both alike): M output pixels (N * H * W), the
// image's H and W (P, Q, stride and padding are H, W, 1 and 1 here), K output channels (a multiple of
// 16), and the offsets (floats) of x, w and y in their bindings: x (N, H, W, 4) and w (3, 3, 4, K)
// vec4-aligned, y (N, H, W, K) a multiple of 8.
layout(push_constant) uniform Push { uint M, H, W, P, Q, K, st, pad, xoff, woff, yoff; } p;
layout(set = 0, binding = 0) uniform textureBuffer X;  // RGBA32F
layout(set = 0, binding = 1) uniform textureBuffer Wt; // RGBA32F
layout(std430, set = 0, binding = 2) buffer Out8 { u64vec4 c8[]; };

shared vec4 sw[9 * 3 * 4]; // sw[(tap * 3 + c) * 4 + q] = w(tap, c, k0 + 4q .. k0 + 4q + 3)

void main() {
	uint k0 = gl_WorkGroupID.x * 16, lane = gl_LocalInvocationIndex;
	for (uint e = lane; e < 9 * 3 * 4; e += gl_WorkGroupSize.x) {
		uint tap = e / 12, c = (e / 4) % 3, q = e % 4;
		sw[e] = ld4(Wt, p.woff + (tap * 4 + c) * p.K + k0 + 4 * q);
	}
	barrier();
	uint pix = (gl_WorkGroupID.y + gl_NumWorkGroups.y * gl_WorkGroupID.z) * gl_WorkGroupSize.x + lane;
	uint m = min(pix, p.M - 1); // past the edge: a real pixel, computed and not stored
	uint w0 = m % p.W, h0 = (m / p.W) % p.H, nb = (m / (p.W * p.H)) * p.H;
	vec4 acc[4];
	[[unroll]] for (uint q = 0; q < 4; q++) acc[q] = vec4(0.0);
	[[unroll]] for (uint r = 0; r < 3; r++) {
		[[unroll]] for (uint s = 0; s < 3; s++) {
			int h = int(h0 + r) - 1, w = int(w0 + s) - 1;
			bool ok = uint(h) < p.H && uint(w) < p.W;
			vec4 x = ld4(X, p.xoff + (ok ? ((nb + uint(h)) * p.W + uint(w)) * 4 : 0));
			x = ok ? x : vec4(0.0);
			[[unroll]] for (uint c = 0; c < 3; c++)
				[[unroll]] for (uint q = 0; q < 4; q++) acc[q] = fma(vec4(x[c]), sw[((r * 3 + s) * 3 + c) * 4 + q], acc[q]);
		}
	}
	if (pix >= p.M) return;
	uint o = (p.yoff + pix * p.K + k0) / 8;
	c8[o] = pack8(acc[0], acc[1]);
	c8[o + 1] = pack8(acc[2], acc[3]);
}
