// conv2d_common.glsl: the push-constant block every conv2d kernel shares (ops/conv2d.go fills it).
// N batch, H W input size, C in-channels, K out-channels, R S kernel size, P Q output size;
// x (N, H, W, C), w (R, S, C, K), y (N, P, Q, K).
layout(push_constant) uniform Push {
	uint N, H, W, C, K, R, S, st, pad, P, Q;
	uint off0, off1, off2; // element offsets of the matrices in bindings 0, 1 and 2
	uint wgn;              // cpu kernels: tiles per workgroup along the output columns
	uint ph, pw, Hp, Wp;   // backward data: the phase (h % st, w % st) and how many rows and columns have it
	uint rowsPerChunk;     // backward weight: output rows (n, p) per reduction chunk
	uint groupsPerChunk;   // backward weight: workgroups per chunk
	uint blockBegin, blockEnd; // backward weight, cpu: this dispatch's rows of each chunk (relative to its start)
	uint accumulate;       // backward weight, cpu: add to the partials of the previous blocks;
	                       // backward data, gpu kernel: add dx to what the output holds (a second gradient
	                       // contribution; the cpu kernels take their _add variants instead)
	uint off3;             // backward data, cpu vec4 _add variants: dx's first float in the texel view at binding 3
} p;
