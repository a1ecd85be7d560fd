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
