// conv2d_bwd_data_gpu.comp: dx (N, H, W, C) from dy and w as an implicit GEMM with shared-memory tiles
// (gemm_gpu.glsl), one dispatch per phase (h % st, w % st) as in conv2d_bwd_data_cpu: rows the phase's
// N*Hp*Wp pixels, columns C, reduction (ri, si, k) over only the taps r = r0 + ri*st, s = s0 + si*st
// that reach an output pixel. w[r][s] as (C x K) is B transposed: no transposed weight copy. With
// K % 4 == 0 four consecutive reductions are channels k..k+3 of one tap, contiguous in dy and in w:
// vec4 loads of both.
#version 450
#include "common.glsl"
#include "conv2d_common.glsl"
#include "gemm_gpu.glsl"

layout(std430, set = 0, binding = 0) readonly buffer DYBuf { float dy[]; }; // (N, P, Q, K)
layout(std430, set = 0, binding = 0) readonly buffer DYBuf4 { vec4 dy4[]; };
layout(std430, set = 0, binding = 1) readonly buffer WBuf { float wt[]; };  // (R, S, C, K)
layout(std430, set = 0, binding = 1) readonly buffer WBuf4 { vec4 wt4[]; };
layout(std430, set = 0, binding = 2) buffer DXBuf { float dx[]; }; // (N, H, W, C); accumulate: added to

int ib[MAX_SLOTS], jb[MAX_SLOTS];
uint nb[MAX_SLOTS];
bool live[MAX_SLOTS];

uint r0() { return (p.ph + p.pad) % p.st; }
uint s0() { return (p.pw + p.pad) % p.st; }
uint taps(uint first, uint n) { return first < n ? (n - first + p.st - 1) / p.st : 0; }

void setupA(uint slot, uint m) {
	live[slot] = m < p.N * p.Hp * p.Wp;
	uint nij = m / p.Wp;
	jb[slot] = int(m % p.Wp);
	ib[slot] = int(nij % p.Hp);
	nb[slot] = (nij / p.Hp) * p.P;
}

// tap splits a reduction index into (r, s, k).
uvec3 tap(uint kk) {
	uint k = kk % p.K, t = kk / p.K, sv = taps(s0(), p.S);
	return uvec3(r0() + (t / sv) * p.st, s0() + (t % sv) * p.st, k);
}

// dyIndex is the element of dy under reduction kk for the slot's pixel, or -1 past dy's edge.
int dyIndex(uint slot, uint kk) {
	uvec3 t = tap(kk);
	int pp = ib[slot] + (int(p.ph + p.pad) - int(t.x)) / int(p.st);
	int qq = jb[slot] + (int(p.pw + p.pad) - int(t.y)) / int(p.st);
	if (uint(pp) >= p.P || uint(qq) >= p.Q) return -1;
	return int(p.off0 + ((nb[slot] + uint(pp)) * p.Q + uint(qq)) * p.K + t.z);
}

uint wIndex(uint kk, uint c) {
	uvec3 t = tap(kk);
	return p.off1 + ((t.x * p.S + t.y) * p.C + c) * p.K + t.z;
}

vec4 loadA4(uint slot, uint kk, uint kEnd) {
	vec4 v = vec4(0.0);
	if (!live[slot] || kk >= kEnd) return v;
	if (p.K % 4 == 0) { // kk % 4 == 0: channels k..k+3 of one tap
		int i = dyIndex(slot, kk);
		if (i >= 0) LOAD4(v, dy, dy4, uint(i), 4u)
		return v;
	}
	[[unroll]] for (uint d = 0; d < 4; d++) {
		int i = kk + d < kEnd ? dyIndex(slot, kk + d) : -1;
		if (i >= 0) v[d] = dy[i];
	}
	return v;
}

vec4 loadB4(uint kk, uint c, uint kEnd) {
	vec4 v = vec4(0.0);
	if (kk >= kEnd || c >= p.C) return v;
	if (p.K % 4 == 0) {
		LOAD4(v, wt, wt4, wIndex(kk, c), 4u)
		return v;
	}
	[[unroll]] for (uint d = 0; d < 4; d++) if (kk + d < kEnd) v[d] = wt[wIndex(kk + d, c)];
	return v;
}

void storeC(uint m, uint c, float v) {
	uint nij = m / p.Wp;
	uint h = p.ph + (nij % p.Hp) * p.st, w = p.pw + (m % p.Wp) * p.st, n = nij / p.Hp;
	uint e = p.off2 + ((n * p.H + h) * p.W + w) * p.C + c;
	if (p.accumulate != 0)
		dx[e] += v;
	else
		dx[e] = v;
}

void main() {
	uint M = p.N * p.Hp * p.Wp;
	uint groupsN = (p.C + BN - 1) / BN;
	uint g = flat_group();
	uint gm = g / groupsN, gn = g % groupsN;
	if (gm * BM >= M) return;
	uint red = taps(r0(), p.R) * taps(s0(), p.S) * p.K;
	gemm_block(M, p.C, 0, red, gm * BM, gn * BN, true, false);
}
