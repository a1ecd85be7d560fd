package ref

// Peak is the reference of ops.Peak: for each i < len(out), 16 accumulators start at
// (i%8)/8, 0.25, 0.5, 0.75 plus 0, 1, 2, 3, take iters rounds of a = a*m + c, and out[i] is their
// sum in the shader's order. Each round is rounded twice (multiply, then add), as lavapipe does; a
// device that fuses the multiply-add differs by rounding only, since |m| < 1 keeps the map contracting.
func Peak(iters int, m, c float32, out []float32) {
	for i := range out {
		var a [4][4]float32
		for v := 0; v < 4; v++ {
			a[v] = [4]float32{float32(i%8)*0.125 + float32(v), 0.25 + float32(v), 0.5 + float32(v), 0.75 + float32(v)}
		}
		for t := 0; t < iters; t++ {
			for v := range a {
				for j := range a[v] {
					p := a[v][j] * m
					a[v][j] = p + c
				}
			}
		}
		var s [4]float32
		for j := 0; j < 4; j++ {
			s[j] = (a[0][j] + a[1][j]) + (a[2][j] + a[3][j])
		}
		out[i] = (s[0] + s[1]) + (s[2] + s[3])
	}
}
