// vk_texel.comp: out[i] = sum of the four lanes of texel i. Exercises texel-buffer bindings in vk's tests.
#version 450
#extension GL_EXT_samplerless_texture_functions : require
#include "common.glsl"

layout(push_constant) uniform Push { uint n; } p;
layout(set = 0, binding = 0) uniform textureBuffer src;
layout(std430, set = 0, binding = 1) writeonly buffer Out { float o[]; };

void main() {
	uint i = flat_id();
	if (i >= p.n) return;
	vec4 v = texelFetch(src, int(i));
	o[i] = v.x + v.y + v.z + v.w;
}
