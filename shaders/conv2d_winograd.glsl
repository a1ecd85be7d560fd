// conv2d_winograd.glsl: the 1-D transforms of Winograd minimal filtering F(MT, 3) (MT = 2 or 4 output
// pixels per tile side, ALPHA = MT + 2 input pixels), written out term by term so no multiply by a
// zero coefficient is left to the compiler. A 2-D transform applies the 1-D one to the columns, then
// to the rows. Matrices as in Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks":
// y = A^T [(G g G^T) * (B^T d B)] A, and for the filter gradient dg = G^T [(B^T d B) * (A dy A^T)] G.
// Values are WT: vec4 (four channels at once) unless the includer defines it (float: one channel a lane,
// the _c1 variants of conv2d_winograd_in.comp and conv2d_winograd_out.comp).

#ifndef WT
#define WT vec4
#endif
#ifndef MT
#define MT 4
#endif
#define ALPHA (MT + 2)

#if MT == 2
// t = B^T d
void wino_in(inout WT d[ALPHA]) {
	WT t0 = d[0] - d[2], t1 = d[1] + d[2], t2 = d[2] - d[1], t3 = d[1] - d[3];
	d[0] = t0; d[1] = t1; d[2] = t2; d[3] = t3;
}
// u = G g (3 -> ALPHA)
void wino_filter(WT g[3], out WT u[ALPHA]) {
	u[0] = g[0];
	u[1] = 0.5 * (g[0] + g[1] + g[2]);
	u[2] = 0.5 * (g[0] - g[1] + g[2]);
	u[3] = g[2];
}
// o = A^T m (ALPHA -> MT)
void wino_out(WT m[ALPHA], out WT o[MT]) {
	o[0] = m[0] + m[1] + m[2];
	o[1] = m[1] - m[2] - m[3];
}
// z = A y (MT -> ALPHA): the output gradient into the Winograd domain
void wino_dy(WT y[MT], out WT z[ALPHA]) {
	z[0] = y[0]; z[1] = y[0] + y[1]; z[2] = y[0] - y[1]; z[3] = -y[1];
}
// g = G^T s (ALPHA -> 3): the filter gradient out of the Winograd domain
void wino_dfilter(WT s[ALPHA], out WT g[3]) {
	g[0] = s[0] + 0.5 * (s[1] + s[2]);
	g[1] = 0.5 * (s[1] - s[2]);
	g[2] = 0.5 * (s[1] + s[2]) + s[3];
}
#else
void wino_in(inout WT d[ALPHA]) {
	WT a = d[4] - 4.0 * d[2], b = d[3] - 4.0 * d[1], c = d[4] - d[2], e = 2.0 * (d[3] - d[1]);
	WT t0 = 4.0 * d[0] - 5.0 * d[2] + d[4];
	WT t5 = 4.0 * d[1] - 5.0 * d[3] + d[5];
	d[0] = t0; d[1] = a + b; d[2] = a - b; d[3] = c + e; d[4] = c - e; d[5] = t5;
}
void wino_filter(WT g[3], out WT u[ALPHA]) {
	WT a = g[0] + g[2];
	u[0] = 0.25 * g[0];
	u[1] = (-1.0 / 6.0) * (a + g[1]);
	u[2] = (-1.0 / 6.0) * (a - g[1]);
	WT b = (1.0 / 24.0) * g[0] + (1.0 / 6.0) * g[2];
	u[3] = b + (1.0 / 12.0) * g[1];
	u[4] = b - (1.0 / 12.0) * g[1];
	u[5] = g[2];
}
void wino_out(WT m[ALPHA], out WT o[MT]) {
	WT a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], e = m[3] - m[4];
	o[0] = m[0] + a + c;
	o[1] = b + 2.0 * e;
	o[2] = a + 4.0 * c;
	o[3] = b + 8.0 * e + m[5];
}
void wino_dy(WT y[MT], out WT z[ALPHA]) {
	WT ev = y[0] + y[2], od = y[1] + y[3];
	WT ev4 = y[0] + 4.0 * y[2], od4 = 2.0 * y[1] + 8.0 * y[3];
	z[0] = y[0]; z[1] = ev + od; z[2] = ev - od; z[3] = ev4 + od4; z[4] = ev4 - od4; z[5] = y[3];
}
void wino_dfilter(WT s[ALPHA], out WT g[3]) {
	WT a = s[1] + s[2], b = s[2] - s[1], c = s[3] + s[4], e = s[3] - s[4];
	g[0] = 0.25 * s[0] - (1.0 / 6.0) * a + (1.0 / 24.0) * c;
	g[1] = (1.0 / 6.0) * b + (1.0 / 12.0) * e;
	g[2] = (-1.0 / 6.0) * a + (1.0 / 6.0) * c + s[5];
}
#endif
