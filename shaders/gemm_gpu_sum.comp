// gemm_gpu_sum.comp: the second pass of gemm_gpu's split K (ops/matmul.go, gemmSplit). C (M, N), stored
// with row stride N, gets the sum of the chunks' partial products (rows x n floats, chunk z at
// inoff + z*n), added in chunk order so results are bit-identical from run to run (no float
// atomics), then the GEMM's mode: 0 C = sum, 2 C = sum + bias (N values); ops never splits a GEMM
// that accumulates into C (mode 1).
#version 450
#include "common.glsl"

layout(push_constant) uniform Push { uint n, N, chunks, inoff, outoff, biasoff, mode; } p;
layout(std430, set = 0, binding = 0) readonly buffer In { float part[]; }; // (chunks, M*N)
layout(std430, set = 0, binding = 1) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Out { float c[]; };

void main() {
	uint i = flat_id();
	if (i >= p.n) return;
	float s = 0.0;
	for (uint z = 0; z < p.chunks; z++) s += part[p.inoff + z * p.n + i];
	uint o = p.outoff + i;
	if (p.mode == 2) s += bias[p.biasoff + i % p.N];
	c[o] = s;
}
