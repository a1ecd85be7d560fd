// batchnorm.glsl: the (chunk, channel group) grid every batchnorm pass shares.
//
// x is (M, C) row-major; a channel group is one channel (T = float) or four
// (T = vec4, -DVEC4, when C % 4 == 0); CG = C or C/4 groups per row. Rows are
// cut into chunks of R rows; invocation g owns group g % CG over the rows of
// chunk g / CG, so every reduction has a fixed order whatever the workgroup
// size, and loads along a row are contiguous across neighbouring lanes.
// Variants: scalar channels, -DVEC4, and -DVEC4 -DTEXEL (inputs as texels).
#include "load.glsl"

#ifdef VEC4
#define T vec4
#else
#define T float
#endif

// bn_chunk unpacks invocation g into its chunk, channel group and row range.
bool bn_chunk(uint g, uint M, uint CG, uint R, out uint chunk, out uint c, out uint r0, out uint r1) {
	uint chunks = (M + R - 1) / R;
	chunk = g / CG;
	c = g - chunk * CG;
	r0 = chunk * R;
	r1 = min(r0 + R, M);
	return chunk < chunks;
}

// FOR_ROWS(r0, r1): the row loops of the batchnorm passes, four rows a trip (common.glsl's
// FOR_TRIPS; 10-20% off their reductions, BENCHMARKS.md).
#define FOR_ROWS(r0, r1) FOR_TRIPS(4, r0, r1)

// relu_fwd keeps NaN (a diverged run stays visible), like ref.ReLUForward.
float relu_fwd(float v) { return (v > 0.0 || isnan(v)) ? v : 0.0; }
vec4 relu_fwd(vec4 v) {
	return vec4(relu_fwd(v.x), relu_fwd(v.y), relu_fwd(v.z), relu_fwd(v.w));
}

// relu_mask is dy where y > 0, else 0 (ref.ReLUBackward).
float relu_mask(float y, float dy) { return y > 0.0 ? dy : 0.0; }
vec4 relu_mask(vec4 y, vec4 dy) { return mix(vec4(0.0), dy, greaterThan(y, vec4(0.0))); }
