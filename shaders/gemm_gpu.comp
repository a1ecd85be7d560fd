// gemm_gpu.comp: C (M, N) = op(A) op(B), += C or + bias, with shared-memory tiles (gemm_gpu.glsl) and
// storage-buffer loads: the style for GPUs. Transposes are uniform flags.
#version 450
#include "common.glsl"
#include "gemm_gpu.glsl"

layout(push_constant) uniform Push {
	uint M, N, K;
	uint lda, ldb, ldc;
	uint aoff, boff, coff, biasoff;
	uint mode; // 0: C = AB, 1: C += AB, 2: C = AB + bias
	uint transA, transB;
} p;

layout(std430, set = 0, binding = 0) readonly buffer ABuf { float a[]; };
layout(std430, set = 0, binding = 1) readonly buffer BBuf { float b[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 3) buffer Out { float c[]; };

uint arow[MAX_SLOTS];
bool aok[MAX_SLOTS];

void setupA(uint s, uint m) {
	aok[s] = m < p.M;
	arow[s] = p.aoff + min(m, p.M - 1) * (p.transA != 0 ? 1 : p.lda);
}

float loadA(uint s, uint k) {
	return aok[s] ? a[arow[s] + k * (p.transA != 0 ? p.lda : 1)] : 0.0;
}

float loadB(uint k, uint n) {
	return p.transB != 0 ? b[p.boff + n * p.ldb + k] : b[p.boff + k * p.ldb + n];
}

void storeC(uint m, uint n, float v) {
	uint i = p.coff + m * p.ldc + n;
	if (p.mode == 1) v += c[i];
	else if (p.mode == 2) v += bias[p.biasoff + n];
	c[i] = v;
}

void main() {
	uint groupsN = (p.N + BN - 1) / BN;
	uint g = flat_group();
	uint gm = g / groupsN, gn = g % groupsN;
	if (gm * BM >= p.M) return; // folded grid padding: whole workgroups only, so barriers stay uniform
	gemm_block(p.M, p.N, 0, p.K, gm * BM, gn * BN, p.transA == 0, p.transB == 0);
}
