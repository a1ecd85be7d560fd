// Tests of Matmul and Linear: products against a naive triple loop, gradients by finite differences.

package ref

import (
	"fmt"
	"testing"
)

func TestMatmulForward(t *testing.T) {
	shapes := []struct{ M, N, K int }{{1, 1, 1}, {3, 5, 7}, {7, 3, 5}, {5, 7, 1}, {1, 7, 3}}
	for _, sh := range shapes {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, accumulate := range []bool{false, true} {
					p := Matmul{M: sh.M, N: sh.N, K: sh.K, TransA: ta, TransB: tb}
					t.Run(fmt.Sprintf("M%dN%dK%d/TA=%v/TB=%v/acc=%v", sh.M, sh.N, sh.K, ta, tb, accumulate), func(t *testing.T) {
						rng := newRNG(uint64(sh.M*100 + sh.N*10 + sh.K))
						a := randSlice(rng, sh.M*sh.K, -1, 1) // (M, K) or (K, M)
						b := randSlice(rng, sh.K*sh.N, -1, 1) // (K, N) or (N, K)
						c0 := randSlice(rng, sh.M*sh.N, -1, 1)
						want := make([]float64, sh.M*sh.N) // (M, N)
						for i := 0; i < sh.M; i++ {
							for j := 0; j < sh.N; j++ {
								var s float64
								for k := 0; k < sh.K; k++ {
									av := a[i*sh.K+k]
									if ta {
										av = a[k*sh.M+i]
									}
									bv := b[k*sh.N+j]
									if tb {
										bv = b[j*sh.K+k]
									}
									s += av * bv
								}
								if accumulate {
									s += c0[i*sh.N+j]
								}
								want[i*sh.N+j] = s
							}
						}
						c := append([]float64(nil), c0...)
						MatmulForward(p, a, b, c, accumulate)
						checkClose(t, "c", c, want, 1e-14, 1e-14) // same products, only the order of rounding differs
					})
				}
			}
		}
	}
}

func TestLinearForwardBias(t *testing.T) {
	// y = x w + b on a hand example: x (2, 3), w (3, 2), b (2).
	x := []float64{1, 2, 3, -1, 0, 1}
	w := []float64{1, 0, 0, 1, 1, 1}
	b := []float64{0.5, -0.5}
	y := make([]float64, 4)
	LinearForward(Linear{N: 2, I: 3, O: 2}, x, w, b, y)
	checkClose(t, "y", y, []float64{4.5, 4.5, 0.5, 0.5}, 0, 1e-15)
	LinearForward(Linear{N: 2, I: 3, O: 2}, x, w, nil, y)
	checkClose(t, "y (no bias)", y, []float64{4, 5, 0, 1}, 0, 1e-15)
}

func TestLinearGrad(t *testing.T) {
	cases := []struct {
		name    string
		p       Linear
		hasBias bool
	}{
		{"N1_I3_O5", Linear{N: 1, I: 3, O: 5}, true},
		{"N3_I5_O7", Linear{N: 3, I: 5, O: 7}, true},
		{"N7_I1_O3_nobias", Linear{N: 7, I: 1, O: 3}, false},
		{"N5_I7_O1", Linear{N: 5, I: 7, O: 1}, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			rng := newRNG(uint64(10 + i))
			x := randSlice(rng, p.N*p.I, -1, 1) // (N, I)
			w := randSlice(rng, p.I*p.O, -1, 1) // (I, O)
			inputs := []fdInput{{"x", x}, {"w", w}}
			var b []float64
			if tc.hasBias {
				b = randSlice(rng, p.O, -1, 1) // (O)
				inputs = append(inputs, fdInput{"b", b})
			}
			gradCheck(t, rng, fdDefault, inputs, p.N*p.O,
				func(y []float64) { LinearForward(p, x, w, b, y) },
				func(dy []float64, g [][]float64) {
					var db []float64
					if tc.hasBias {
						db = g[2]
					}
					LinearBackward(p, x, w, dy, g[0], g[1], db)
				})
		})
	}
}

func TestLinearBackwardNilDx(t *testing.T) {
	p := Linear{N: 3, I: 5, O: 7}
	rng := newRNG(3)
	x, w, dy := randSlice(rng, 15, -1, 1), randSlice(rng, 35, -1, 1), randSlice(rng, 21, -1, 1)
	dw, dw2, db := make([]float64, 35), make([]float64, 35), make([]float64, 7)
	dx := make([]float64, 15)
	LinearBackward(p, x, w, dy, dx, dw, db)
	LinearBackward(p, x, w, dy, nil, dw2, nil)
	checkClose(t, "dw", dw2, dw, 0, 0)
}

func TestLinearWeightOI(t *testing.T) {
	// (I, O) = (2, 3): io[i][o] = 10*i + o; PyTorch's oi[o][i] holds the same value.
	io := []float64{0, 1, 2, 10, 11, 12}
	oi := make([]float64, 6)
	LinearWeightToOI(2, 3, io, oi)
	checkClose(t, "oi", oi, []float64{0, 10, 1, 11, 2, 12}, 0, 0)
	back := make([]float64, 6)
	LinearWeightFromOI(2, 3, oi, back)
	checkClose(t, "io", back, io, 0, 0)
}
