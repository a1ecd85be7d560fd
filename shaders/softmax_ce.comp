// softmax_ce.comp: softmax cross-entropy over B rows of logits with int32
// labels, in one workgroup: each invocation takes rows lid, lid+WG, ...,
// computes lse = max + log(sum exp(l - max)), loss_b = lse - l[label] and
// whether the first argmax is the label, and (p.grad != 0) writes
// dlogits = (softmax - onehot) / B. The partials are summed in a fixed
// order: out = (mean loss, number correct).
#version 450
#include "common.glsl"

layout(push_constant) uniform Push { uint B, classes, grad, out_off; } p;
layout(std430, set = 0, binding = 0) readonly buffer Logits { float logits[]; }; // (B, classes)
layout(std430, set = 0, binding = 1) readonly buffer Labels { int labels[]; };   // (B)
layout(std430, set = 0, binding = 2) buffer Out { float out_[]; };               // (2) at out_off
layout(std430, set = 0, binding = 3) writeonly buffer DLogits { float dlogits[]; }; // (B, classes)

shared float part_loss[gl_WorkGroupSize.x];
shared float part_correct[gl_WorkGroupSize.x];

void main() {
	uint lid = gl_LocalInvocationID.x;
	float loss = 0.0, correct = 0.0;
	for (uint b = lid; b < p.B; b += gl_WorkGroupSize.x) {
		uint o = b * p.classes, label = min(uint(labels[b]), p.classes - 1); // in range by contract; clamped so a bad label cannot read past the row
		float mx = logits[o];
		uint best = 0;
		for (uint c = 1; c < p.classes; c++) {
			float v = logits[o + c];
			if (v > mx) {
				mx = v;
				best = c;
			}
		}
		float sum = 0.0;
		for (uint c = 0; c < p.classes; c++) sum += exp(logits[o + c] - mx);
		float lse = mx + log(sum);
		loss += lse - logits[o + label];
		correct += best == label ? 1.0 : 0.0;
		if (p.grad != 0) {
			for (uint c = 0; c < p.classes; c++) {
				float g = exp(logits[o + c] - lse) - (c == label ? 1.0 : 0.0);
				dlogits[o + c] = g / float(p.B);
			}
		}
	}
	part_loss[lid] = loss;
	part_correct[lid] = correct;
	barrier();
	if (lid == 0) {
		float l = 0.0, c = 0.0;
		for (uint u = 0; u < gl_WorkGroupSize.x; u++) {
			l += part_loss[u];
			c += part_correct[u];
		}
		out_[p.out_off] = l / float(p.B);
		out_[p.out_off + 1] = c;
	}
}
