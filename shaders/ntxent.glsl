// ntxent.glsl: shared definitions of the NT-Xent passes.
// rows = 2N projections of D features (DG groups: D, or D/4 with -DVEC4);
// the views of image i are rows i and i+N, so pos(i) = (i + N) % rows.
#include "load.glsl"

#ifdef VEC4
#define T vec4
#define DOT(a, b) dot(a, b)
#else
#define T float
#define DOT(a, b) ((a) * (b))
#endif

#define NEG_INF uintBitsToFloat(0xff800000u)
