// load.glsl: read-only inputs a kernel reads either through a uniform texel
// buffer (-DTEXEL: RGBA32F texels, the vectorised load path of CPU drivers
// such as lavapipe, where every storage-buffer load runs lane by lane: 5-8x
// faster there on a streaming pass) or through a storage buffer.
//
// INPUT(binding, name, T) declares an input of T elements (T = vec4 with
// -DTEXEL); LOAD(name, i) reads element i. INPUT4 declares a vec4 input that
// LOAD1(name, i) can also read float by float (for tails).
#ifdef TEXEL
#extension GL_EXT_samplerless_texture_functions : require
#define INPUT(b, name, T) layout(set = 0, binding = b) uniform textureBuffer name##_t;
#define INPUT4(b, name) INPUT(b, name, vec4)
#define LOAD(name, i) texelFetch(name##_t, int(i))
#define LOAD1(name, i) texelFetch(name##_t, int((i) / 4))[(i) % 4]
#else
#define INPUT(b, name, T) layout(std430, set = 0, binding = b) readonly buffer name##_B { T name##_s[]; };
#define INPUT4(b, name) INPUT(b, name, vec4) \
	layout(std430, set = 0, binding = b) readonly buffer name##_B1 { float name##_f[]; };
#define LOAD(name, i) name##_s[i]
#define LOAD1(name, i) name##_f[i]
#endif
