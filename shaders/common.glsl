// common.glsl: definitions every kernel shares.
//
// The workgroup size is set from Go through specialization constants 0-2, so
// kernels never assume a subgroup or workgroup size. Large 1-D grids are
// folded into y and z (maxComputeWorkGroupCount can be 65535 per dimension);
// flat_id() unfolds them.
#extension GL_EXT_control_flow_attributes : enable

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

uint flat_id() {
	uvec3 n = gl_NumWorkGroups * gl_WorkGroupSize;
	return gl_GlobalInvocationID.x + n.x * (gl_GlobalInvocationID.y + n.y * gl_GlobalInvocationID.z);
}

uint flat_group() {
	return gl_WorkGroupID.x + gl_NumWorkGroups.x * (gl_WorkGroupID.y + gl_NumWorkGroups.y * gl_WorkGroupID.z);
}

// FOR_TRIPS(U, r0, r1) runs the macro STEP(r) for r = r0 .. r1-1 in order, U of them a loop trip,
// then the rest one a trip. A loop trip costs about 50 cycles on lavapipe (the per-lane mask work of
// its SIMD loops), more than a row of a batchnorm pass and a large part of a GEMM row. The order of
// the steps is unchanged, so every sum stays bit-identical to the plain loop.
#define FOR_TRIPS(U, r0, r1) { \
	uint r_ = (r0); \
	for (; r_ + (U) <= (r1); r_ += (U)) \
		[[unroll]] for (uint u_ = 0; u_ < (U); u_++) STEP(r_ + u_) \
	for (; r_ < (r1); r_++) STEP(r_) \
}

// TAIL_OWNER(base, n4, K): whether this invocation of a wide elementwise kernel (K vec4s strided by the
// workgroup size from base) is the one whose next vec4 would be n4, the first past the whole vec4s, and
// so does the scalar tail (the last n % 4 elements; ops.dispatchWide sizes the grid for it). Checked
// once after the vec4 loop, not as an else branch inside it: lavapipe runs an untaken branch under a
// lane mask, so the tail's loop took a trip, with its loads and stores, for every one of the K vec4s.
#define TAIL_OWNER(base, n4, K) \
	((n4) >= (base) && ((n4) - (base)) % gl_WorkGroupSize.x == 0 && (n4) - (base) < (K) * gl_WorkGroupSize.x)

// WINO_ROW(t, sh, blk, len): where row t of a Winograd-domain tensor (tiles x channels, one such matrix
// per frequency) starts, relative to its frequency's first row, when the tiles are laid out in blocks of
// 2^sh: block t >> sh holds all frequencies of its tiles (blk floats), each as 2^sh rows of len floats
// (the frequency stride is then len << sh). A transform writes (or reads) all frequencies of its tile,
// so an invocation group's stores land in one stretch of memory instead of one stream per frequency
// (ops/winograd.go, winoBlockFloats). sh = 31 with blk = 0 is the plain layout: row t at t * len.
#define WINO_ROW(t, sh, blk, len) (((t) >> (sh)) * (blk) + ((t) & ((1u << (sh)) - 1u)) * (len))

#ifdef X8
// X8 (the _x8 variants of the cpu kernels): eight floats a store, as one 32-byte vector of four
// 64-bit integers, where the plain form makes two vec4 stores. lavapipe runs every storage-buffer
// store as a loop over the lanes of its SIMD register, one trip a lane for each store instruction
// whatever its width, so half the stores is half the trips; the bytes written are the same. Needs
// shaderInt64 (ops.Kernels.x8 checks it) and 32-byte aligned destinations.
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
u64vec4 pack8(vec4 lo, vec4 hi) {
	return u64vec4(packUint2x32(floatBitsToUint(lo.xy)), packUint2x32(floatBitsToUint(lo.zw)),
		packUint2x32(floatBitsToUint(hi.xy)), packUint2x32(floatBitsToUint(hi.zw)));
}
#define VSTEP 8 // floats a store
#else
#define VSTEP 4
#endif
