// gemm_gpu.glsl: the shared-memory GEMM core of the "gpu" kernels (gemm_gpu, conv2d_*_gpu), in the
// design fast Vulkan and CUDA GEMMs share.
//
// A workgroup of WX x WY threads computes a BM x BN = TM*WY x TN*WX block of C (128 x 128 with 16 x 16
// threads and 8 x 8 outputs each). A thread's outputs are TM/4 x TN/4 squares of 4 x 4, at rows
// 4*(ty + g*WY) + i and columns 4*(tx + h*WX) + j, so it reads its operands from shared memory as
// vec4s and neighbouring threads read neighbouring vec4s. The reduction runs in steps of BK: all
// threads stage the block's A panel (BK x BM) and B panel (BK x BN) in shared memory, loading 4
// elements along each operand's memory order at a time (one vec4 load where the including shader can
// prove alignment). Shared memory is double-buffered: the next step's global loads are issued into
// registers before this step's arithmetic and stored into the other buffer after it, so a step needs
// one barrier and the loads' latency hides behind the FMAs.
//
// Specialization constants (ops.gpuLocal picks them from the device's limits): 0, 1 = WX, WY; 3 = BK;
// 4, 5 = TM, TN. Constraints: TM, TN in {4, 8}; BK a multiple of 4; shared memory 8*BK*(BM+BN) bytes.
//
// The including shader defines, before calling gemm_block:
//   void setupA(uint slot, uint m)          once per A slot: the slot's row m (aKfast), or the first of
//                                           its 4 rows m..m+3 (otherwise)
//   vec4 loadA4(uint slot, uint k, uint kEnd)  aKfast: op(A)(m, k..k+3); else op(A)(m..m+3, k)
//   vec4 loadB4(uint k, uint n, uint kEnd)     bNfast: op(B)(k, n..n+3); else op(B)(k..k+3, n)
//   void storeC(uint m, uint n, float v)
// Loads return 0 for elements past the matrix's edge or at k >= kEnd. aKfast / bNfast say which index
// runs along memory (consecutive k of A, consecutive n of B). k is a multiple of 4 plus kBegin in the
// aKfast / !bNfast orientations, m and n multiples of 4 in the others.

layout(constant_id = 3) const uint BK = 16;
layout(constant_id = 4) const uint TM = 8;
layout(constant_id = 5) const uint TN = 8;
const uint WX = gl_WorkGroupSize.x, WY = gl_WorkGroupSize.y;
const uint NT = WX * WY;
const uint BM = TM * WY, BN = TN * WX;
const uint AUNITS = BM * BK / 4, BUNITS = BN * BK / 4; // 4-element loads per panel
const uint ASLOTS = (AUNITS + NT - 1) / NT, BSLOTS = (BUNITS + NT - 1) / NT;
#define MAX_SLOTS 4 // ASLOTS, BSLOTS <= 4 for every configuration gpuLocal makes

shared vec4 As[2 * BK * BM / 4]; // As[(buf*BK + k)*BM/4 + m/4][m%4]
shared vec4 Bs[2 * BK * BN / 4]; // Bs[(buf*BK + k)*BN/4 + n/4][n%4]

// LOAD4(v, arr, arr4, i, valid): v = the 4 floats of arr from element i on, of which the first `valid`
// exist (the rest read as 0); one vec4 load from arr4 (arr's vec4 alias, bound from a 16-byte
// boundary) when all 4 exist and i is a multiple of 4.
#define LOAD4(v, arr, arr4, i, valid) { \
	uint i_ = (i), n_ = (valid); \
	if (n_ >= 4u && (i_ & 3u) == 0u) v = arr4[i_ >> 2]; \
	else { v = vec4(0.0); for (uint d_ = 0u; d_ < min(n_, 4u); d_++) v[d_] = arr[i_ + d_]; } }

void setupA(uint slot, uint m);
vec4 loadA4(uint slot, uint k, uint kEnd);
vec4 loadB4(uint k, uint n, uint kEnd);
void storeC(uint m, uint n, float v);

// gemm_block computes the block at rows m0.., columns n0.. of C (M x N) over reductions [kBegin, kEnd).
void gemm_block(uint M, uint N, uint kBegin, uint kEnd, uint m0, uint n0, bool aKfast, bool bNfast) {
	uint tid = gl_LocalInvocationIndex;
	uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
	// Each slot is one 4-element load per step: its place in the panel (k, and m or n, the first of
	// four along memory), fixed for the whole reduction.
	uint ak[MAX_SLOTS], am[MAX_SLOTS], bk[MAX_SLOTS], bn[MAX_SLOTS];
	for (uint s = 0; s < ASLOTS; s++) {
		uint u = min(tid + s * NT, AUNITS - 1); // a spare slot repeats the last load and stores nothing
		if (aKfast) { ak[s] = 4 * (u % (BK / 4)); am[s] = u / (BK / 4); } else { am[s] = 4 * (u % (BM / 4)); ak[s] = u / (BM / 4); }
		setupA(s, m0 + am[s]);
	}
	for (uint s = 0; s < BSLOTS; s++) {
		uint u = min(tid + s * NT, BUNITS - 1);
		if (bNfast) { bn[s] = 4 * (u % (BN / 4)); bk[s] = u / (BN / 4); } else { bk[s] = 4 * (u % (BK / 4)); bn[s] = u / (BK / 4); }
	}
	vec4 ra[MAX_SLOTS], rb[MAX_SLOTS];
	vec4 acc[8][2]; // acc[row][column group]: TM rows, TN/4 vec4s of columns
	[[unroll]] for (uint i = 0; i < 8; i++) { acc[i][0] = vec4(0.0); acc[i][1] = vec4(0.0); }

	uint steps = kEnd > kBegin ? (kEnd - kBegin + BK - 1) / BK : 0;
	for (uint t = 0; t <= steps; t++) {
		uint cur = t & 1u, nxt = cur ^ 1u;
		// Global loads of step t (the next one) into registers.
		if (t < steps) {
			uint k0 = kBegin + t * BK;
			for (uint s = 0; s < ASLOTS; s++) ra[s] = loadA4(s, k0 + ak[s], kEnd);
			for (uint s = 0; s < BSLOTS; s++) rb[s] = loadB4(k0 + bk[s], n0 + bn[s], kEnd);
		}
		// Arithmetic of step t-1 from the buffer the last step filled.
		if (t > 0) {
			uint pa = (nxt * BK) * (BM / 4), pb = (nxt * BK) * (BN / 4);
			for (uint kk = 0; kk < BK; kk++) {
				vec4 a[2], b[2];
				[[unroll]] for (uint g = 0; g < TM / 4; g++) a[g] = As[pa + kk * (BM / 4) + ty + g * WY];
				[[unroll]] for (uint h = 0; h < TN / 4; h++) b[h] = Bs[pb + kk * (BN / 4) + tx + h * WX];
				[[unroll]] for (uint g = 0; g < TM / 4; g++)
					[[unroll]] for (uint i = 0; i < 4; i++)
						[[unroll]] for (uint h = 0; h < TN / 4; h++) acc[4 * g + i][h] = fma(vec4(a[g][i]), b[h], acc[4 * g + i][h]);
			}
		}
		// Store step t's panels into the other buffer (no one reads it: the last barrier ended its use).
		if (t < steps) {
			for (uint s = 0; s < ASLOTS; s++) {
				if (tid + s * NT >= AUNITS) continue;
				if (aKfast) {
					[[unroll]] for (uint d = 0; d < 4; d++) As[(cur * BK + ak[s] + d) * (BM / 4) + am[s] / 4][am[s] % 4] = ra[s][d];
				} else {
					As[(cur * BK + ak[s]) * (BM / 4) + am[s] / 4] = ra[s];
				}
			}
			for (uint s = 0; s < BSLOTS; s++) {
				if (tid + s * NT >= BUNITS) continue;
				if (bNfast) {
					Bs[(cur * BK + bk[s]) * (BN / 4) + bn[s] / 4] = rb[s];
				} else {
					[[unroll]] for (uint d = 0; d < 4; d++) Bs[(cur * BK + bk[s] + d) * (BN / 4) + bn[s] / 4][bn[s] % 4] = rb[s][d];
				}
			}
		}
		barrier();
	}
	[[unroll]] for (uint g = 0; g < TM / 4; g++) {
		[[unroll]] for (uint i = 0; i < 4; i++) {
			uint m = m0 + 4 * (ty + g * WY) + i;
			if (m >= M) continue;
			[[unroll]] for (uint h = 0; h < TN / 4; h++) {
				[[unroll]] for (uint j = 0; j < 4; j++) {
					uint n = n0 + 4 * (tx + h * WX) + j;
					if (n < N) storeC(m, n, acc[4 * g + i][h][j]);
				}
			}
		}
	}
}
