// conv2d_bwd_weight_gpu.comp: partial dw (R, S, C, K) over one chunk of the reduction, with shared-memory
// tiles (gemm_gpu.glsl): rows the R*S*C taps, columns K, reduction the chunk's output pixels (n, p, q).
// Chunk z writes slice z of the partial buffer (or dw itself when there is one chunk); conv2d_wsum adds
// the slices in a fixed order. Blocks of a chunk in later dispatches add to the slice (accumulate).
#version 450
#include "common.glsl"
#include "conv2d_common.glsl"
#include "gemm_gpu.glsl"

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };   // (N, H, W, C)
layout(std430, set = 0, binding = 1) readonly buffer DYBuf { float dy[]; }; // (N, P, Q, K)
layout(std430, set = 0, binding = 2) buffer Out { float o[]; };   // (chunks, R, S, C, K)

int rr[MAX_SLOTS], ss[MAX_SLOTS];
uint cc[MAX_SLOTS];
bool live[MAX_SLOTS];
uint chunk;

void setupA(uint slot, uint row) {
	live[slot] = row < p.R * p.S * p.C;
	cc[slot] = row % p.C;
	uint rs = row / p.C;
	ss[slot] = int(rs % p.S) - int(p.pad);
	rr[slot] = int(rs / p.S) - int(p.pad);
}

float loadA(uint slot, uint j) { // j = (n*P + p)*Q + q
	uint q = j % p.Q, np = j / p.Q;
	int h = int((np % p.P) * p.st) + rr[slot], w = int(q * p.st) + ss[slot];
	if (!live[slot] || uint(h) >= p.H || uint(w) >= p.W) return 0.0;
	return x[p.off0 + (((np / p.P) * p.H + uint(h)) * p.W + uint(w)) * p.C + cc[slot]];
}

float loadB(uint j, uint k) { return dy[p.off1 + j * p.K + k]; }

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
