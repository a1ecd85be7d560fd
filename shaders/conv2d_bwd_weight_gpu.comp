// conv2d_bwd_weight_gpu.comp: partial dw (R, S, C, K) over one chunk of the reduction, with shared-memory
// tiles (gemm_gpu.glsl): rows the R*S*C taps, columns K, reduction the chunk's output pixels (n, p, q).
// Chunk z writes slice z of the partial buffer (or dw itself when there is one chunk); colsum adds
// the slices in a fixed order. Blocks of a chunk in later dispatches add to the slice (accumulate).
// With C % 4 == 0 four consecutive rows are channels c..c+3 of one tap (a vec4 of x); with K % 4 == 0
// four consecutive columns a vec4 of dy.
#version 450
#include "common.glsl"
#include "conv2d_common.glsl"
#include "gemm_gpu.glsl"

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };   // (N, H, W, C)
layout(std430, set = 0, binding = 0) readonly buffer XBuf4 { vec4 x4[]; };
layout(std430, set = 0, binding = 1) readonly buffer DYBuf { float dy[]; }; // (N, P, Q, K)
layout(std430, set = 0, binding = 1) readonly buffer DYBuf4 { vec4 dy4[]; };
layout(std430, set = 0, binding = 2) buffer Out { float o[]; };   // (chunks, R, S, C, K)

uint row0[MAX_SLOTS];
uint chunk;

void setupA(uint slot, uint row) { row0[slot] = row; }

// xIndex is the element of x at tap row = (r*S + s)*C + c for output pixel j = (n*P + p)*Q + q, or -1
// in the padding.
int xIndex(uint row, uint j) {
	uint c = row % p.C, rs = row / p.C;
	uint q = j % p.Q, np = j / p.Q;
	int h = int((np % p.P) * p.st + rs / p.S) - int(p.pad), w = int(q * p.st + rs % p.S) - int(p.pad);
	if (uint(h) >= p.H || uint(w) >= p.W) return -1;
	return int(p.off0 + (((np / p.P) * p.H + uint(h)) * p.W + uint(w)) * p.C + c);
}

vec4 loadA4(uint slot, uint j, uint kEnd) { // rows row..row+3 at pixel j
	uint row = row0[slot], RSC = p.R * p.S * p.C;
	vec4 v = vec4(0.0);
	if (row >= RSC || j >= kEnd) return v;
	if (p.C % 4 == 0) { // row % 4 == 0: channels c..c+3 of one tap
		int i = xIndex(row, j);
		if (i >= 0) LOAD4(v, x, x4, uint(i), 4u)
		return v;
	}
	[[unroll]] for (uint d = 0; d < 4; d++) {
		int i = row + d < RSC ? xIndex(row + d, j) : -1;
		if (i >= 0) v[d] = x[i];
	}
	return v;
}

vec4 loadB4(uint j, uint k, uint kEnd) {
	vec4 v = vec4(0.0);
	if (j < kEnd && k < p.K) LOAD4(v, dy, dy4, p.off1 + j * p.K + k, p.K - k)
	return v;
}

void storeC(uint row, uint k, float v) {
	uint i = p.off2 + (chunk * p.R * p.S * p.C + row) * p.K + k;
	o[i] = p.accumulate != 0 ? o[i] + v : v;
}

void main() {
	uint RSC = p.R * p.S * p.C;
	uint groupsN = (p.K + BN - 1) / BN;
	uint g = flat_group();
	chunk = g / p.groupsPerChunk;
	if (chunk * p.rowsPerChunk >= p.N * p.P) return; // folded grid padding
	g %= p.groupsPerChunk;
	uint gm = g / groupsN, gn = g % groupsN;
	if (gm * BM >= RSC) return;
	// This dispatch's block of the chunk's rows (the whole chunk unless the dispatcher splits it).
	uint j0 = (chunk * p.rowsPerChunk + p.blockBegin) * p.Q;
	uint j1 = min(chunk * p.rowsPerChunk + min(p.blockEnd, p.rowsPerChunk), p.N * p.P) * p.Q;
	if (p.accumulate != 0 && j0 >= j1) return;
	gemm_block(RSC, p.K, j0, j1, gm * BM, gn * BN, false, true);
}
