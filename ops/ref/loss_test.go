// Tests of L2 normalization, NT-Xent and softmax cross-entropy.

package ref

import (
	"fmt"
	"math"
	"testing"
)

func TestL2NormalizeGrad(t *testing.T) {
	for i, tc := range []struct{ rows, dim int }{{1, 1}, {3, 5}, {3, 7}, {8, 3}} {
		t.Run(fmt.Sprintf("rows%d_dim%d", tc.rows, tc.dim), func(t *testing.T) {
			rng := newRNG(uint64(700 + i))
			h := randSlice(rng, tc.rows*tc.dim, -1, 1) // (rows, dim)
			z, norms := make([]float64, len(h)), make([]float64, tc.rows)
			gradCheck(t, rng, fdDefault, []fdInput{{"h", h}}, len(h),
				func(out []float64) { L2NormalizeForward(tc.rows, tc.dim, h, out, norms) },
				func(dz []float64, g [][]float64) {
					L2NormalizeForward(tc.rows, tc.dim, h, z, norms)
					L2NormalizeBackward(tc.rows, tc.dim, z, norms, dz, g[0])
				})
		})
	}
}

func TestL2NormalizeHand(t *testing.T) {
	// Row 0 is (3, 4), norm 5; row 1 is zero: the norm clamps to 1e-12, z = 0 and dh = dz / 1e-12.
	h := []float64{3, 4, 0, 0}
	z, norms := make([]float64, 4), make([]float64, 2)
	L2NormalizeForward(2, 2, h, z, norms)
	checkClose(t, "z", z, []float64{0.6, 0.8, 0, 0}, 1e-15, 0)
	checkClose(t, "norms", norms, []float64{5, 1e-12}, 1e-15, 0)
	dh := make([]float64, 4)
	L2NormalizeBackward(2, 2, z, norms, []float64{1, 0, 1e-12, -2e-12}, dh)
	// Row 0: (dz - z (z.dz)) / 5 with z.dz = 0.6.
	checkClose(t, "dh", dh, []float64{(1 - 0.36) / 5, (0 - 0.48) / 5, 1, -2}, 1e-14, 0)
}

func TestNTXentGrad(t *testing.T) {
	cases := []struct {
		N, D      int
		temp      float64
		normalize bool
	}{
		{1, 3, 0.5, true}, // one pair: the loss is 0 whatever z is
		{2, 5, 0.5, false},
		{3, 5, 0.1, true}, // a sharp softmax
		{3, 7, 0.5, true},
		{4, 5, 1.0, false},
	}
	for i, tc := range cases {
		p := NTXent{N: tc.N, D: tc.D, Temperature: tc.temp}
		t.Run(fmt.Sprintf("N%d_D%d_t%g", tc.N, tc.D, tc.temp), func(t *testing.T) {
			rng := newRNG(uint64(800 + i))
			z := randSlice(rng, 2*tc.N*tc.D, -1, 1) // (2N, D)
			if tc.normalize {
				L2NormalizeForward(2*tc.N, tc.D, z, z, make([]float64, 2*tc.N))
			}
			gradCheck(t, rng, fdDefault, []fdInput{{"z", z}}, 1,
				func(out []float64) { out[0], _ = NTXentForward(p, z) },
				func(dout []float64, g [][]float64) {
					NTXentBackward(p, z, g[0])
					for j := range g[0] {
						g[0][j] *= dout[0]
					}
				})
		})
	}
}

func TestNTXentHand(t *testing.T) {
	// N = 2 images, two rows per view in D = 2: z0 = z2 = e1, z1 = z3 = e2. Each row has its positive at
	// similarity 1/t and two negatives at 0, so loss = -1/t + log(exp(1/t) + 2) = log(1 + 2 exp(-1/t)),
	// which grows with the temperature.
	z := []float64{1, 0, 0, 1, 1, 0, 0, 1} // (2N, D)
	prev := 0.0
	for _, temp := range []float64{0.07, 0.1, 0.5, 1, 2} {
		loss, acc := NTXentForward(NTXent{N: 2, D: 2, Temperature: temp}, z)
		want := math.Log1p(2 * math.Exp(-1/temp))
		// loss = lse - s_pos cancels: its absolute error is a few ulps of 1/t.
		if !closeTo(loss, want, 1e-14, 1e-14/temp) || acc != 1 {
			t.Errorf("t=%g: loss %.16g acc %g, want %.16g, 1", temp, loss, acc, want)
		}
		if loss <= prev {
			t.Errorf("t=%g: loss %g not larger than at the smaller temperature (%g)", temp, loss, prev)
		}
		prev = loss
	}
	// t = 1 in closed form: log(1 + 2/e) = 0.5514...
	if loss, _ := NTXentForward(NTXent{N: 2, D: 2, Temperature: 1}, z); !closeTo(loss, 0.551444713932051, 1e-14, 0) {
		t.Errorf("t=1: loss %.16g, want 0.551444713932051", loss)
	}
}

func TestNTXentAccuracy(t *testing.T) {
	// Positives identical and all other rows orthogonal: every row finds its positive.
	const N = 3
	z := make([]float64, 2*N*N) // (2N, D=N): z_i = z_{i+N} = e_i
	for i := 0; i < N; i++ {
		z[i*N+i], z[(i+N)*N+i] = 1, 1
	}
	loss, acc := NTXentForward(NTXent{N: N, D: N, Temperature: 0.5}, z)
	if acc != 1 {
		t.Errorf("acc %g, want 1", acc)
	}
	if want := math.Log1p(float64(2*N-2) * math.Exp(-2)); !closeTo(loss, want, 1e-14, 0) {
		t.Errorf("loss %.16g, want %.16g", loss, want)
	}

	// z0 = z1 = z2 = e1, z3 = e2 (N = 2): row 0 ties its negative row 1 with its positive row 2 and the
	// first maximum (row 1) wins, row 1 prefers row 0 over its positive row 3, row 2 finds row 0, and
	// row 3 (all similarities 0) picks row 0. acc = 1/4.
	z2 := []float64{1, 0, 1, 0, 1, 0, 0, 1}
	if _, acc := NTXentForward(NTXent{N: 2, D: 2, Temperature: 0.5}, z2); acc != 0.25 {
		t.Errorf("tie case: acc %g, want 0.25", acc)
	}
}

func TestNTXentSmallTemperatureFinite(t *testing.T) {
	// Similarities up to 1/t = 1000 must not overflow: logsumexp subtracts the row maximum.
	rng := newRNG(9)
	p := NTXent{N: 4, D: 5, Temperature: 1e-3}
	z := randSlice(rng, 2*p.N*p.D, -1, 1)
	L2NormalizeForward(2*p.N, p.D, z, z, make([]float64, 2*p.N))
	zf := make([]float32, len(z))
	for i, v := range z {
		zf[i] = float32(v)
	}
	loss, _ := NTXentForward(p, zf)
	dz := make([]float32, len(zf))
	NTXentBackward(p, zf, dz)
	if !AllFinite([]float32{loss}) || !AllFinite(dz) {
		t.Errorf("loss %g or dz not finite: %v", loss, dz)
	}
}

func TestSoftmaxCEGrad(t *testing.T) {
	for i, tc := range []struct{ B, classes int }{{1, 5}, {3, 7}, {3, 10}, {7, 1}} {
		t.Run(fmt.Sprintf("B%d_classes%d", tc.B, tc.classes), func(t *testing.T) {
			rng := newRNG(uint64(900 + i))
			logits := randSlice(rng, tc.B*tc.classes, -3, 3) // (B, classes)
			labels := make([]int32, tc.B)                    // (B)
			for b := range labels {
				labels[b] = int32(rng.IntN(tc.classes))
			}
			gradCheck(t, rng, fdDefault, []fdInput{{"logits", logits}}, 1,
				func(out []float64) { out[0], _ = SoftmaxCEForward(tc.B, tc.classes, logits, labels) },
				func(dout []float64, g [][]float64) {
					SoftmaxCEBackward(tc.B, tc.classes, logits, labels, g[0])
					for j := range g[0] {
						g[0][j] *= dout[0]
					}
				})
		})
	}
}

func TestSoftmaxCEHand(t *testing.T) {
	// Row 0: equal logits over 4 classes, loss log 4; its argmax is class 0 (first maximum), the label is 0.
	// Row 1: logits (0, ln 3, 0, 0), label 1: softmax 1/2 on the label, loss ln 2, correct.
	logits := []float64{7, 7, 7, 7, 0, math.Log(3), 0, 0} // (B=2, classes=4)
	labels := []int32{0, 1}
	loss, correct := SoftmaxCEForward(2, 4, logits, labels)
	if want := (math.Log(4) + math.Log(2)) / 2; !closeTo(loss, want, 1e-15, 0) || correct != 2 {
		t.Errorf("loss %.16g correct %d, want %.16g, 2", loss, correct, want)
	}
	d := make([]float64, 8)
	SoftmaxCEBackward(2, 4, logits, labels, d)
	checkClose(t, "dlogits", d, []float64{-0.375, 0.125, 0.125, 0.125, 1.0 / 12, -0.25, 1.0 / 12, 1.0 / 12}, 1e-14, 1e-16)
}

func TestTopKCorrect(t *testing.T) {
	logits := []float64{
		0.1, 0.5, 0.3, 0.2, // ranking 1, 2, 3, 0
		1, 1, 0, 1, // tie: ranking 0, 1, 3, 2
	}
	cases := []struct {
		labels []int32
		k      int
		want   int
	}{
		{[]int32{1, 0}, 1, 2},
		{[]int32{2, 1}, 1, 0},
		{[]int32{2, 1}, 2, 2},
		{[]int32{0, 3}, 3, 1}, // label 0 of row 0 is 4th; label 3 of row 1 is 3rd
		{[]int32{0, 2}, 4, 2},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("labels%v_k%d", tc.labels, tc.k), func(t *testing.T) {
			if got := TopKCorrect(2, 4, logits, tc.labels, tc.k); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}
