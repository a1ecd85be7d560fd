// vk_axpy.comp: y = a*x + y + ADD. Exercises push and specialization constants in vk's tests.
#version 450
#include "common.glsl"

layout(constant_id = 3) const float ADD = 0.0;
layout(push_constant) uniform Push { uint n; float a; } p;
layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) buffer Y { float y[]; };

void main() {
	uint i = flat_id();
	if (i >= p.n) return;
	y[i] = p.a * x[i] + y[i] + ADD;
}
