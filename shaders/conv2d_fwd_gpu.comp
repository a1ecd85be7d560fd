// conv2d_fwd_gpu.comp: y (N, P, Q, K) = conv2d(x, w) as an implicit GEMM with shared-memory tiles
// (gemm_gpu.glsl): rows the N*P*Q output pixels, columns K, reduction (r, s, c) gathered from x on the fly.
// With C % 4 == 0 four consecutive reductions are one pixel's channels c..c+3: one vec4 load.
#version 450
#include "common.glsl"
#include "conv2d_common.glsl"
#include "gemm_gpu.glsl"

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };  // (N, H, W, C)
layout(std430, set = 0, binding = 0) readonly buffer XBuf4 { vec4 x4[]; };
layout(std430, set = 0, binding = 1) readonly buffer WBuf { float wt[]; }; // (R, S, C, K)
layout(std430, set = 0, binding = 1) readonly buffer WBuf4 { vec4 wt4[]; };
layout(std430, set = 0, binding = 2) writeonly buffer YBuf { float y[]; }; // (N, P, Q, K)

int hb[MAX_SLOTS], wb[MAX_SLOTS];
uint nb[MAX_SLOTS];
bool live[MAX_SLOTS];

void setupA(uint slot, uint m) {
	live[slot] = m < p.N * p.P * p.Q;
	uint q = m % p.Q, np = m / p.Q;
	hb[slot] = int((np % p.P) * p.st) - int(p.pad);
	wb[slot] = int(q * p.st) - int(p.pad);
	nb[slot] = (np / p.P) * p.H;
}

// xIndex is the element of x under reduction kk = (r*S + s)*C + c of the slot's pixel, or -1 in the padding.
int xIndex(uint slot, uint kk) {
	uint c = kk % p.C, rs = kk / p.C;
	int h = hb[slot] + int(rs / p.S), w = wb[slot] + int(rs % p.S);
	if (uint(h) >= p.H || uint(w) >= p.W) return -1;
	return int(p.off0 + ((nb[slot] + uint(h)) * p.W + uint(w)) * p.C + c);
}

vec4 loadA4(uint slot, uint kk, uint kEnd) {
	vec4 v = vec4(0.0);
	if (!live[slot] || kk >= kEnd) return v;
	if (p.C % 4 == 0) { // kk % 4 == 0: channels c..c+3 of one pixel
		int i = xIndex(slot, kk);
		if (i >= 0) LOAD4(v, x, x4, uint(i), 4u)
		return v;
	}
	[[unroll]] for (uint d = 0; d < 4; d++) {
		int i = kk + d < kEnd ? xIndex(slot, kk + d) : -1;
		if (i >= 0) v[d] = x[i];
	}
	return v;
}

vec4 loadB4(uint kk, uint n, uint kEnd) {
	vec4 v = vec4(0.0);
	if (kk < kEnd && n < p.K) LOAD4(v, wt, wt4, p.off1 + kk * p.K + n, p.K - n)
	return v;
}

void storeC(uint m, uint n, float v) { y[p.off2 + m * p.K + n] = v; }

void main() {
	uint M = p.N * p.P * p.Q;
	uint groupsN = (p.K + BN - 1) / BN;
	uint g = flat_group();
	uint gm = g / groupsN, gn = g % groupsN;
	if (gm * BM >= M) return;
	gemm_block(M, p.K, 0, p.R * p.S * p.C, gm * BM, gn * BN, true, true);
}
