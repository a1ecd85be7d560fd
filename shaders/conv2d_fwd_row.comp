// conv2d_fwd_row.comp: the direct forward convolution over CIN input channels (a multiple of 4, of which
// the first CUSED may be nonzero) with an RR x RR kernel on CPU drivers, one output pixel per invocation
// and 16 output channels per workgroup: the design of conv2d_winograd_gemm_row.comp. ops takes it for
// the CIFAR stem (3x3 over an image's 3 channels padded to 4: the c4u3r3 variant, 2.0-2.7x faster than
// conv2d_fwd_cpu.comp's c3 register tiles, which hold 32 pixels x 16 channels a lane) and for 1x1
// kernels over 16 and 32 channels (ResNet-18's downsampling beside stages 2 and 3 at width 16: 4-6x);
// at 3x3 over 16 and 32 channels (the stride-2 convolutions that open those stages) it measured no
// faster than the tiles, which keep those (BENCHMARKS.md, "a row per lane").
//
// A lane's 16 accumulators stay in registers; the RR*RR*CIN x 16 weights of this workgroup's output
// channels sit in shared memory, read at offsets fixed at compile time; a lane reads CIN / 4 vec4 texels
// a tap. Each accumulator takes the products in conv2d_fwd_cpu.comp's order (tap row, tap column,
// channel, the unused channels skipped as the c3 tiles skip them) by fma(), a tap in the padding
// contributing exact zeros as there, so the results are its bits (TestRowForwardMatchesPlain). Nothing
// is under a branch before the stores: lavapipe takes the scalar path for a shared load only outside
// divergent control flow.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#include "common.glsl"
#include "cpu_tile.glsl"
#ifndef X8
#error the forward's row form stores eight floats at a time (X8)
#endif
#ifndef CUSED
#define CUSED CIN
#endif
//!novariant-base
//!variant c16r1_x8 -DCIN=16 -DRR=1 -DX8=1
//!variant c32r1_x8 -DCIN=32 -DRR=1 -DX8=1
//!variant c4u3r3_x8 -DCIN=4 -DCUSED=3 -DRR=3 -DX8=1

// M output pixels (N * P * Q), the input's H and W, the output's P and Q, K output channels (a multiple
// of 16), stride and padding, and the offsets (floats) of x (N, H, W, CIN) and w (RR, RR, CIN, K), both
// vec4-aligned, and of y (N, P, Q, K), a multiple of 8, in their bindings.
layout(push_constant) uniform Push { uint M, H, W, P, Q, K, st, pad, xoff, woff, yoff; } p;
layout(set = 0, binding = 0) uniform textureBuffer X;  // RGBA32F
layout(set = 0, binding = 1) uniform textureBuffer Wt; // RGBA32F
layout(std430, set = 0, binding = 2) buffer Out8 { u64vec4 c8[]; };

shared vec4 sw[RR * RR * CIN * 4]; // sw[(tap * CIN + c) * 4 + q] = w(tap, c, k0 + 4q .. k0 + 4q + 3)

void main() {
	uint k0 = gl_WorkGroupID.x * 16, lane = gl_LocalInvocationIndex;
	for (uint e = lane; e < RR * RR * CIN * 4; e += gl_WorkGroupSize.x)
		sw[e] = ld4(Wt, p.woff + (e / 4) * p.K + k0 + 4 * (e % 4));
	barrier();
	uint pix = (gl_WorkGroupID.y + gl_NumWorkGroups.y * gl_WorkGroupID.z) * gl_WorkGroupSize.x + lane;
	uint m = min(pix, p.M - 1); // past the edge: a real pixel, computed and not stored
	uint q0 = m % p.Q, np = m / p.Q;
	int hb = int((np % p.P) * p.st) - int(p.pad), wb = int(q0 * p.st) - int(p.pad);
	uint nb = (np / p.P) * p.H;
	vec4 acc[4];
	[[unroll]] for (uint q = 0; q < 4; q++) acc[q] = vec4(0.0);
	[[unroll]] for (uint r = 0; r < RR; r++) {
		[[unroll]] for (uint s = 0; s < RR; s++) {
			int h = hb + int(r), w = wb + int(s);
			bool ok = uint(h) < p.H && uint(w) < p.W;
			uint xb = p.xoff + (ok ? ((nb + uint(h)) * p.W + uint(w)) * CIN : 0);
			[[unroll]] for (uint c4 = 0; c4 < CIN / 4; c4++) {
				vec4 x = ld4(X, xb + 4 * c4);
				x = ok ? x : vec4(0.0);
				[[unroll]] for (uint cc = 0; cc < 4 && 4 * c4 + cc < CUSED; cc++)
					[[unroll]] for (uint q = 0; q < 4; q++)
						acc[q] = fma(vec4(x[cc]), sw[((r * RR + s) * CIN + 4 * c4 + cc) * 4 + q], acc[q]);
			}
		}
	}
	if (pix >= p.M) return;
	uint o = (p.yoff + pix * p.K + k0) / 8;
	c8[o] = pack8(acc[0], acc[1]);
	c8[o + 1] = pack8(acc[2], acc[3]);
}
