// cpu_tile.glsl: helpers of the register-tiled "cpu" kernels (gemm_cpu, conv2d_*_cpu): element-addressed
// texel loads and the mapping of invocations to TM x TN output tiles.
//
// Operands are uniform texel buffers (textureBuffer, read with texelFetch), the vectorised load path on lavapipe. In the vec4
// layout a binding holds RGBA32F texels and element e is component e%4 of texel e/4, so ld4 needs e%4 == 0;
// with SCALAR it holds R32F texels and ld4 reads four of them. Every index stays inside the bound range:
// out-of-range texelFetch is undefined without robustness, so callers clamp rather than rely on zeros.

#extension GL_EXT_samplerless_texture_functions : require

#ifndef TM
#define TM 8
#endif
#ifndef TN
#define TN 8
#endif

#ifdef SCALAR
float at(textureBuffer t, uint e) { return texelFetch(t, int(e)).x; }
vec4 ld4(textureBuffer t, uint e) {
	return vec4(texelFetch(t, int(e)).x, texelFetch(t, int(e + 1)).x, texelFetch(t, int(e + 2)).x, texelFetch(t, int(e + 3)).x);
}
#else
float at(textureBuffer t, uint e) { return texelFetch(t, int(e >> 2))[e & 3]; }
vec4 ld4(textureBuffer t, uint e) { return texelFetch(t, int(e >> 2)); }
#endif

// tile_coords maps this invocation of workgroup g to output tile (row, column) of an M x N output in
// TM x TN tiles, or (~0, ~0) when it has none. A workgroup covers a block of (size / wgn) x wgn
// tiles, so its invocations share rows of A and columns of B in the cache.
uvec2 tile_coords(uint M, uint N, uint wgn, uint g) {
	uint tilesM = (M + TM - 1) / TM, tilesN = (N + TN - 1) / TN;
	uint wgm = gl_WorkGroupSize.x / wgn;
	uint groupsN = (tilesN + wgn - 1) / wgn;
	uint lane = gl_LocalInvocationIndex;
	uint tm = (g / groupsN) * wgm + lane / wgn, tn = (g % groupsN) * wgn + lane % wgn;
	if (lane >= wgm * wgn || tm >= tilesM || tn >= tilesN) return uvec2(~0u);
	return uvec2(tm, tn);
}

#ifdef SHARE_SN
// The _s variants of the direct kernels (SHARE_SN = 4, chosen from Go where subgroups have exactly 8
// lanes): each subgroup covers (8 / SHARE_SN) x SHARE_SN tiles, so the SHARE_SN lanes of a
// row tile load its A operands a share each and the 8 / SHARE_SN lanes of a column tile its B operands,
// and subgroupShuffle hands every lane the rest (conv2d_winograd_gemm.comp explains why that pays on
// lavapipe). wgn is a multiple of SHARE_SN. Every lane stays to the end so the shuffles read live
// lanes: a lane past the edge computes the last tile again and live is false (it must not store).
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_shuffle : enable
uvec2 tile_coords_s(uint M, uint N, uint wgn, uint g, out bool live) {
	uint tilesM = (M + TM - 1) / TM, tilesN = (N + TN - 1) / TN;
	uint groupsN = (tilesN + wgn - 1) / wgn, across = wgn / SHARE_SN, sl = gl_SubgroupInvocationID;
	uint tm = (g / groupsN) * (gl_WorkGroupSize.x / wgn) + (gl_SubgroupID / across) * (8 / SHARE_SN) + sl / SHARE_SN;
	uint tn = (g % groupsN) * wgn + (gl_SubgroupID % across) * SHARE_SN + sl % SHARE_SN;
	live = tm < tilesM && tn < tilesN;
	return uvec2(min(tm, tilesM - 1), min(tn, tilesN - 1));
}
#define SHARE_AR (TM / SHARE_SN) // A rows a lane loads; the shader defines SHARE_BR, its B vec4s a step
// The lane that loaded A row i, and B piece q, of this lane's tiles (their index there: i % SHARE_AR, q % SHARE_BR).
#define share_a_lane(i) (gl_SubgroupInvocationID - gl_SubgroupInvocationID % SHARE_SN + (i) / SHARE_AR)
#define share_b_lane(q) (gl_SubgroupInvocationID % SHARE_SN + SHARE_SN * ((q) / SHARE_BR))
#endif
