// gemm_gpu.comp: C (M, N) = op(A) op(B), += C or + bias, with shared-memory tiles (gemm_gpu.glsl) and
// storage-buffer loads: the style for GPUs. Transposes are uniform flags. A and B are each bound as
// floats and as vec4s (aliases of one binding, bound from a 16-byte boundary), for LOAD4.
// Split K (ops/matmul.go, gemmSplit): the reduction in chunks of kChunk, chunk z's workgroups writing
// the partial product of its k range to C + z*chunkStride (mode 0); gemm_gpu_sum.comp then adds the
// chunks in order. A GEMM with few blocks of C (a projection head's 512 x 128) otherwise runs on a
// few of a GPU's multiprocessors. Unsplit: kChunk = K, one chunk.
#version 450
#include "common.glsl"
#include "gemm_gpu.glsl"

layout(push_constant) uniform Push {
	uint M, N, K;
	uint lda, ldb, ldc;
	uint aoff, boff, coff, biasoff;
	uint mode; // 0: C = AB, 1: C += AB, 2: C = AB + bias
	uint transA, transB;
	uint kChunk, chunkStride, groupsPerChunk; // split K: chunk z = workgroup / groupsPerChunk
} p;

layout(std430, set = 0, binding = 0) readonly buffer ABuf { float a[]; };
layout(std430, set = 0, binding = 0) readonly buffer ABuf4 { vec4 a4[]; };
layout(std430, set = 0, binding = 1) readonly buffer BBuf { float b[]; };
layout(std430, set = 0, binding = 1) readonly buffer BBuf4 { vec4 b4[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 3) buffer Out { float c[]; };

uint arow[MAX_SLOTS];

void setupA(uint s, uint m) { arow[s] = m; }

vec4 loadA4(uint s, uint k, uint kEnd) {
	uint m = arow[s];
	vec4 v = vec4(0.0);
	if (m >= p.M || k >= kEnd) return v;
	if (p.transA == 0) LOAD4(v, a, a4, p.aoff + m * p.lda + k, kEnd - k)  // A (M, K): k along memory
	else LOAD4(v, a, a4, p.aoff + k * p.lda + m, p.M - m)                 // stored (K, M): m along memory
	return v;
}

vec4 loadB4(uint k, uint n, uint kEnd) {
	vec4 v = vec4(0.0);
	if (k >= kEnd || n >= p.N) return v;
	if (p.transB == 0) LOAD4(v, b, b4, p.boff + k * p.ldb + n, p.N - n)   // B (K, N): n along memory
	else LOAD4(v, b, b4, p.boff + n * p.ldb + k, kEnd - k)                // stored (N, K): k along memory
	return v;
}

uint cChunk; // this workgroup's chunk's partial: z * chunkStride

void storeC(uint m, uint n, float v) {
	uint i = p.coff + cChunk + m * p.ldc + n;
	if (p.mode == 1) v += c[i];
	else if (p.mode == 2) v += bias[p.biasoff + n];
	c[i] = v;
}

void main() {
	uint groupsN = (p.N + BN - 1) / BN;
	uint g = flat_group();
	uint z = g / p.groupsPerChunk;
	g %= p.groupsPerChunk;
	uint gm = g / groupsN, gn = g % groupsN;
	// Folded grid padding: whole workgroups only, so barriers stay uniform.
	if (gm * BM >= p.M || z * p.kChunk >= p.K) return;
	cChunk = z * p.chunkStride;
	gemm_block(p.M, p.N, z * p.kChunk, min(p.K, (z + 1) * p.kChunk), gm * BM, gn * BN, p.transA == 0, p.transB == 0);
}
