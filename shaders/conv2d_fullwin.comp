// conv2d_fullwin.comp: the passes around the GEMMs of a "full-window" convolution (ops/conv2d_fullwin.go):
// a 3x3 convolution whose every output pixel o sees every input pixel a through some tap
// t(o, a) = (h - i*st + pad)*3 + (w - j*st + pad) (o = (i, j), a = (h, w)), as on the 2x2 maps of an
// ImageNet-stem ResNet at 28-32 px and their stride-2 step to 1x1. The convolution is then a GEMM per
// output pixel over (input pixel, channel) pairs with no zero taps and no transforms.
//   gather:   B (P*Q, H*W*C, K), block (o, a) = w[t(o, a)] (C x K): the forward's B per output pixel
//   gather_t: B (H*W, P*Q*K, C), block (a, o) = w[t(o, a)]^T (K x C): backward data's per input pixel;
//             one invocation a 4x4 block (four c, four k), read as four vec4s along K, written along C
//   wsum:     dw[t] (C x K) = the sum over output pixels o, in order, of G[o][a] for the a with
//             t(o, a) = t (zero where none): G (P*Q, H*W*C, K) holds x^T dy per output pixel
// w, G arrive as RGBA32F texels (lavapipe loads a storage buffer lane by lane); stores are vec4s.
// Needs C % 4 == 0, K % 4 == 0 and offsets that are multiples of 4.
#version 450
#include "common.glsl"
//!novariant-base
//!variant gather -DGATHER=1
//!variant gather_t -DGATHER=1 -DTRANSPOSE=1
//!variant wsum -DWSUM=1

layout(push_constant) uniform Push {
	uint C, K, H, W, P, Q, st, pad;
	uint inOff, outOff; // floats
} p;

layout(set = 0, binding = 0) uniform samplerBuffer In;                 // RGBA32F: w (3, 3, C, K) or G
layout(std430, set = 0, binding = 1) writeonly buffer Out { vec4 o4[]; };

uint tapOf(uint o, uint a) {
	uint i = o / p.Q, j = o % p.Q, h = a / p.W, w = a % p.W;
	return (h + p.pad - i * p.st) * 3 + (w + p.pad - j * p.st);
}

void main() {
	uint k4s = p.K / 4, pin = p.H * p.W, pout = p.P * p.Q;
	uint idx = flat_id();
#if defined(GATHER) && defined(TRANSPOSE)
	uint c4s = p.C / 4;
	if (idx >= pin * pout * k4s * c4s) return;
	uint c0 = 4 * (idx % c4s), k0 = 4 * ((idx / c4s) % k4s), r = idx / (c4s * k4s);
	uint o = r % pout, a = r / pout;
	uint src = p.inOff + tapOf(o, a) * p.C * p.K;
	vec4 b[4]; // b[cc] = w[t][c0+cc][k0..k0+3]
	[[unroll]] for (uint cc = 0; cc < 4; cc++) b[cc] = texelFetch(In, int((src + (c0 + cc) * p.K + k0) / 4));
	uint dst = p.outOff + (a * pout + o) * p.K * p.C;
	[[unroll]] for (uint kk = 0; kk < 4; kk++)
		o4[(dst + (k0 + kk) * p.C + c0) / 4] = vec4(b[0][kk], b[1][kk], b[2][kk], b[3][kk]);
#elif defined(GATHER)
	if (idx >= pout * pin * p.C * k4s) return;
	uint k4 = idx % k4s, c = (idx / k4s) % p.C, r = idx / (k4s * p.C);
	uint a = r % pin, o = r / pin;
	o4[p.outOff / 4 + idx] = texelFetch(In, int((p.inOff + (tapOf(o, a) * p.C + c) * p.K) / 4 + k4));
#else // WSUM
	if (idx >= 9 * p.C * k4s) return;
	uint k4 = idx % k4s, c = (idx / k4s) % p.C, t = idx / (k4s * p.C);
	int r = int(t / 3), s = int(t % 3);
	vec4 sum = vec4(0.0);
	for (uint o = 0; o < pout; o++) {
		int h = int((o / p.Q) * p.st) - int(p.pad) + r, w = int((o % p.Q) * p.st) - int(p.pad) + s;
		// A tap no output pixel o meets reads a valid texel and adds nothing (lavapipe runs both sides
		// of an if, so the index stays in range either way).
		bool ok = uint(h) < p.H && uint(w) < p.W;
		uint a = ok ? uint(h) * p.W + uint(w) : 0;
		vec4 g = texelFetch(In, int((p.inOff + ((o * pin + a) * p.C + c) * p.K) / 4 + k4));
		sum += ok ? g : vec4(0.0);
	}
	o4[p.outOff / 4 + idx] = sum;
#endif
}
