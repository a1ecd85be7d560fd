// ntxent.comp: the NT-Xent forward passes over the (rows, rows) buffer sim.
//
// SIM: s_ij = z_i.z_j / t, a 4x4 tile of rows per invocation; the diagonal
//   is written as -inf (excluded).
// ROW (one invocation per row, workgroups of an even size): running max and
//   first argmax over j != i, lse_i = max + log(sum exp(s_ij - max)),
//   loss_i = lse_i - s_i,pos(i); the row becomes p_ij = exp(s_ij - lse_i).
//   Each workgroup sums its rows' losses and correct flags in order and
//   leaves them on the diagonal of its first two rows, which no later pass
//   reads as a similarity.
// GRAD: sim becomes dL/ds_ij + dL/ds_ji = (p_ij + p_ji - 2[j = pos(i)]) / rows
//   (symmetric, diagonal untouched), what ntxent_bwd multiplies with z.
// FINAL (one invocation): out = (mean loss, accuracy), summing the
//   workgroups' partials in order.
#version 450
#include "common.glsl"
#include "ntxent.glsl"
//!novariant-base
//!variant sim -DSIM=1
//!variant sim_vec4 -DSIM=1 -DVEC4=1
//!variant sim_texel -DSIM=1 -DVEC4=1 -DTEXEL=1
//!variant row -DROW=1
//!variant grad -DGRAD=1
//!variant final -DFINAL=1

layout(push_constant) uniform Push { uint rows, N, DG; float t; uint block, out_off; } p;
INPUT(0, z, T)                                                     // (rows, D)
layout(std430, set = 0, binding = 1) buffer Sim { float sim[]; };   // (rows, rows)
layout(std430, set = 0, binding = 2) buffer Out { float out_[]; };  // (2) at out_off

#ifdef ROW
shared float part_loss[gl_WorkGroupSize.x];
shared float part_correct[gl_WorkGroupSize.x];
#endif

void main() {
	uint rows = p.rows;
#if defined(SIM)
	uint tiles = (rows + 3) / 4;
	uint g = flat_id();
	if (g >= tiles * tiles) return;
	uint i0 = (g / tiles) * 4, j0 = (g % tiles) * 4;
	float acc[4][4];
	[[unroll]] for (uint r = 0; r < 4; r++) [[unroll]] for (uint c = 0; c < 4; c++) acc[r][c] = 0.0;
	uint ia[4], jb[4];
	[[unroll]] for (uint r = 0; r < 4; r++) {
		ia[r] = min(i0 + r, rows - 1) * p.DG;
		jb[r] = min(j0 + r, rows - 1) * p.DG;
	}
	for (uint k = 0; k < p.DG; k++) {
		T a[4], b[4];
		[[unroll]] for (uint r = 0; r < 4; r++) {
			a[r] = LOAD(z, ia[r] + k);
			b[r] = LOAD(z, jb[r] + k);
		}
		[[unroll]] for (uint r = 0; r < 4; r++) [[unroll]] for (uint c = 0; c < 4; c++) acc[r][c] += DOT(a[r], b[c]);
	}
	[[unroll]] for (uint r = 0; r < 4; r++) {
		uint i = i0 + r;
		[[unroll]] for (uint c = 0; c < 4; c++) {
			uint j = j0 + c;
			if (i < rows && j < rows) sim[i * rows + j] = i == j ? NEG_INF : acc[r][c] / p.t;
		}
	}
#elif defined(ROW)
	uint i = flat_id(), lid = gl_LocalInvocationID.x;
	float loss = 0.0, correct = 0.0;
	if (i < rows) {
		uint o = i * rows, pos = (i + p.N) % rows;
		float mx = NEG_INF;
		uint best = i;
		for (uint j = 0; j < rows; j++) {
			float v = sim[o + j];
			if (j != i && (best == i || v > mx)) {
				mx = v;
				best = j;
			}
		}
		float sum = 0.0;
		for (uint j = 0; j < rows; j++) {
			if (j != i) sum += exp(sim[o + j] - mx);
		}
		float lse = mx + log(sum);
		loss = lse - sim[o + pos];
		correct = best == pos ? 1.0 : 0.0;
		for (uint j = 0; j < rows; j++) {
			if (j != i) sim[o + j] = exp(sim[o + j] - lse);
		}
	}
	part_loss[lid] = loss;
	part_correct[lid] = correct;
	barrier();
	uint r0 = flat_group() * gl_WorkGroupSize.x;
	if (lid == 0 && r0 < rows) {
		float l = 0.0, c = 0.0;
		for (uint u = 0; u < gl_WorkGroupSize.x; u++) {
			l += part_loss[u];
			c += part_correct[u];
		}
		sim[r0 * (rows + 1)] = l;
		sim[(r0 + 1) * (rows + 1)] = c;
	}
#elif defined(GRAD)
	// Invocation (i, jb) symmetrizes the pairs (i, j) with j > i in block jb of 64.
	uint nb = (rows + 63) / 64;
	uint g = flat_id();
	if (g >= rows * nb) return;
	uint i = g / nb, j1 = min(rows, (g % nb) * 64 + 64);
	uint pos = (i + p.N) % rows;
	float inv = 1.0 / float(rows);
	for (uint j = max(i + 1, (g % nb) * 64); j < j1; j++) {
		float v = (sim[i * rows + j] + sim[j * rows + i] - (j == pos ? 2.0 : 0.0)) * inv;
		sim[i * rows + j] = v;
		sim[j * rows + i] = v;
	}
#elif defined(FINAL)
	if (flat_id() != 0) return;
	float l = 0.0, c = 0.0;
	for (uint r0 = 0; r0 < rows; r0 += p.block) {
		l += sim[r0 * (rows + 1)];
		c += sim[(r0 + 1) * (rows + 1)];
	}
	out_[p.out_off] = l / float(rows);
	out_[p.out_off + 1] = c / float(rows);
#endif
}
