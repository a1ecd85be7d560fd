// gemm_gpu.glsl: the shared-memory tiled GEMM core of the "gpu" kernels (gemm_gpu, conv2d_*_gpu).
//
// A workgroup of WX x WY threads (specialization constants 0 and 1, chosen from the device's limits)
// computes a BM x BN = 4*WY x 4*WX block of C; each thread 4 x 4 outputs, strided by WY and WX so
// shared-memory reads do not conflict. Per step of BK reductions the block's A and B panels are
// staged in shared memory by all threads. Constraints (the dispatcher keeps them): WX divides 64,
// WX >= 8, WY % 4 == 0.
//
// The including shader defines, before calling gemm_block:
//   void setupA(uint slot, uint m)   once per A slot: this thread loads row m of op(A) into that slot
//   float loadA(uint slot, uint k)   op(A)(m, k) for the slot's m; 0 when m is past the edge
//   float loadB(uint k, uint n)      op(B)(k, n), called only with n < N
//   void storeC(uint m, uint n, float v)
// aKfast / bNfast say which index runs along memory (consecutive k of A, consecutive n of B), so
// neighbouring threads load neighbouring addresses.

layout(constant_id = 3) const uint BK = 16;
const uint WX = gl_WorkGroupSize.x, WY = gl_WorkGroupSize.y;
const uint NT = WX * WY;
const uint BM = 4 * WY, BN = 4 * WX;
const uint ASLOTS = BM * BK / NT, BSLOTS = BN * BK / NT;
#define MAX_SLOTS 8

shared float As[BK * BM]; // As[k * BM + m]
shared float Bs[BK * BN]; // Bs[k * BN + n]

void setupA(uint slot, uint m);
float loadA(uint slot, uint k);
float loadB(uint k, uint n);
void storeC(uint m, uint n, float v);

// gemm_block computes the block at rows m0.., columns n0.. of C (M x N) over reductions [kBegin, kEnd).
void gemm_block(uint M, uint N, uint kBegin, uint kEnd, uint m0, uint n0, bool aKfast, bool bNfast) {
	uint tid = gl_LocalInvocationIndex;
	uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
	uint am[MAX_SLOTS], ak[MAX_SLOTS];
	for (uint s = 0; s < ASLOTS; s++) {
		uint e = tid + s * NT;
		if (aKfast) { ak[s] = e % BK; am[s] = e / BK; } else { am[s] = e % BM; ak[s] = e / BM; }
		setupA(s, m0 + am[s]);
	}
	float acc[4][4];
	[[unroll]] for (uint i = 0; i < 4; i++)
		[[unroll]] for (uint j = 0; j < 4; j++) acc[i][j] = 0.0;

	for (uint k0 = kBegin; k0 < kEnd; k0 += BK) {
		for (uint s = 0; s < ASLOTS; s++) {
			uint k = k0 + ak[s];
			As[ak[s] * BM + am[s]] = k < kEnd ? loadA(s, k) : 0.0;
		}
		for (uint s = 0; s < BSLOTS; s++) {
			uint e = tid + s * NT, kk, nn;
			if (bNfast) { nn = e % BN; kk = e / BN; } else { kk = e % BK; nn = e / BK; }
			uint k = k0 + kk, n = n0 + nn;
			Bs[kk * BN + nn] = (k < kEnd && n < N) ? loadB(k, n) : 0.0;
		}
		barrier();
		for (uint kk = 0; kk < BK; kk++) {
			float a[4], b[4];
			[[unroll]] for (uint i = 0; i < 4; i++) a[i] = As[kk * BM + ty + i * WY];
			[[unroll]] for (uint j = 0; j < 4; j++) b[j] = Bs[kk * BN + tx + j * WX];
			[[unroll]] for (uint i = 0; i < 4; i++)
				[[unroll]] for (uint j = 0; j < 4; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
		}
		barrier();
	}
	[[unroll]] for (uint i = 0; i < 4; i++) {
		uint m = m0 + ty + i * WY;
		[[unroll]] for (uint j = 0; j < 4; j++) {
			uint n = n0 + tx + j * WX;
			if (m < M && n < N) storeC(m, n, acc[i][j]);
		}
	}
}
