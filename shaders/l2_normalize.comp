// l2_normalize.comp: z = h / max(||h||, 1e-12) per row, saving that
// denominator in norms (one invocation per row), and with -DBACKWARD
// dh = (dz - z*(z.dz)) / norm, with z.dz taken as 0 where the norm was
// clamped (PyTorch's F.normalize). z may alias h; dh may alias dz.
#version 450
#include "common.glsl"
//!variant bwd -DBACKWARD=1

const float EPS = 1e-12;

layout(push_constant) uniform Push { uint rows, dim; } p;
#ifndef BACKWARD
layout(std430, set = 0, binding = 0) readonly buffer H { float h[]; };        // (rows, dim)
layout(std430, set = 0, binding = 1) writeonly buffer Z { float z[]; };       // (rows, dim)
layout(std430, set = 0, binding = 2) writeonly buffer Norms { float norms[]; }; // (rows)
#else
layout(std430, set = 0, binding = 0) readonly buffer Z { float z[]; };      // (rows, dim)
layout(std430, set = 0, binding = 1) readonly buffer Norms { float norms[]; }; // (rows)
layout(std430, set = 0, binding = 2) readonly buffer DZ { float dz[]; };    // (rows, dim)
layout(std430, set = 0, binding = 3) writeonly buffer DH { float dh[]; };   // (rows, dim)
#endif

void main() {
	uint i = flat_id();
	if (i >= p.rows) return;
	uint o = i * p.dim;
#ifndef BACKWARD
	float ss = 0.0;
	for (uint k = 0; k < p.dim; k++) ss += h[o + k] * h[o + k];
	float n = max(sqrt(ss), EPS);
	for (uint k = 0; k < p.dim; k++) z[o + k] = h[o + k] / n;
	norms[i] = n;
#else
	float n = norms[i], zdz = 0.0;
	if (n > EPS) {
		for (uint k = 0; k < p.dim; k++) zdz += z[o + k] * dz[o + k];
	}
	for (uint k = 0; k < p.dim; k++) dh[o + k] = (dz[o + k] - z[o + k] * zdz) / n;
#endif
}
