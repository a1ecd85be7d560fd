// ntxent_bwd.comp: dz_i = (1/t) sum_{j != i} G_ij z_j, with G the symmetric
// gradient the NT-Xent forward left in sim. Each invocation computes a tile
// of 4 rows by 4 feature groups (vec4s with -DVEC4).
#version 450
#include "common.glsl"
#include "ntxent.glsl"
//!variant vec4 -DVEC4=1
//!variant texel -DVEC4=1 -DTEXEL=1

layout(push_constant) uniform Push { uint rows, DG; float t; } p;
INPUT(0, z, T)                                                          // (rows, D)
layout(std430, set = 0, binding = 1) readonly buffer Sim { float sim[]; }; // (rows, rows)
layout(std430, set = 0, binding = 2) writeonly buffer DZ { T dz[]; };    // (rows, D)

void main() {
	uint ct = (p.DG + 3) / 4, tiles = (p.rows + 3) / 4;
	uint g = flat_id();
	if (g >= tiles * ct) return;
	uint i0 = (g / ct) * 4, c0 = (g % ct) * 4;
	T acc[4][4];
	[[unroll]] for (uint r = 0; r < 4; r++) [[unroll]] for (uint c = 0; c < 4; c++) acc[r][c] = T(0.0);
	uint ci[4];
	[[unroll]] for (uint c = 0; c < 4; c++) ci[c] = min(c0 + c, p.DG - 1);
	for (uint j = 0; j < p.rows; j++) {
		// G is symmetric: row j, columns i0..i0+3, skipping the diagonal.
		float gv[4];
		[[unroll]] for (uint r = 0; r < 4; r++) {
			uint i = min(i0 + r, p.rows - 1);
			gv[r] = i == j ? 0.0 : sim[j * p.rows + i];
		}
		T zj[4];
		[[unroll]] for (uint c = 0; c < 4; c++) zj[c] = LOAD(z, j * p.DG + ci[c]);
		[[unroll]] for (uint r = 0; r < 4; r++) [[unroll]] for (uint c = 0; c < 4; c++) acc[r][c] += gv[r] * zj[c];
	}
	[[unroll]] for (uint r = 0; r < 4; r++) {
		uint i = i0 + r;
		[[unroll]] for (uint c = 0; c < 4; c++) {
			if (i < p.rows && c0 + c < p.DG) dz[i * p.DG + c0 + c] = acc[r][c] / p.t;
		}
	}
}
