// cpu_tile.glsl: helpers of the register-tiled "cpu" kernels (gemm_cpu, conv2d_*_cpu): element-addressed
// texel loads and the mapping of invocations to TM x TN output tiles.
//
// Operands are uniform texel buffers (samplerBuffer), the vectorised load path on lavapipe. In the vec4
// layout a binding holds RGBA32F texels and element e is component e%4 of texel e/4, so ld4 needs e%4 == 0;
// with SCALAR it holds R32F texels and ld4 reads four of them. Every index stays inside the bound range:
// out-of-range texelFetch is undefined without robustness, so callers clamp rather than rely on zeros.

#ifndef TM
#define TM 8
#endif
#ifndef TN
#define TN 8
#endif

#ifdef SCALAR
float at(samplerBuffer t, uint e) { return texelFetch(t, int(e)).x; }
vec4 ld4(samplerBuffer t, uint e) {
	return vec4(texelFetch(t, int(e)).x, texelFetch(t, int(e + 1)).x, texelFetch(t, int(e + 2)).x, texelFetch(t, int(e + 3)).x);
}
#else
float at(samplerBuffer t, uint e) { return texelFetch(t, int(e >> 2))[e & 3]; }
vec4 ld4(samplerBuffer t, uint e) { return texelFetch(t, int(e >> 2)); }
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
