// Tests of BatchNorm: gradients by finite differences, running statistics and eval mode on hand examples.

package ref

import (
	"fmt"
	"math"
	"testing"
)

func TestBatchNormGrad(t *testing.T) {
	cases := []struct{ N, H, W, C int }{
		{2, 1, 1, 3}, // BN1d, the smallest batch
		{1, 5, 5, 3}, // one image: statistics over space only
		{3, 5, 5, 5}, // BN2d
		{7, 1, 1, 5}, // BN1d in the projection head
		{3, 7, 7, 1}, // one channel
	}
	for i, tc := range cases {
		p := NewBatchNorm(tc.N*tc.H*tc.W, tc.C)
		t.Run(fmt.Sprintf("N%d_H%dW%d_C%d", tc.N, tc.H, tc.W, tc.C), func(t *testing.T) {
			rng := newRNG(uint64(300 + i))
			x := randSlice(rng, p.M*p.C, -2, 2)    // (M, C)
			gamma := randSlice(rng, p.C, 0.5, 1.5) // (C)
			beta := randSlice(rng, p.C, -1, 1)     // (C)
			mean, istd := make([]float64, p.C), make([]float64, p.C)
			gradCheck(t, rng, fdDefault, []fdInput{{"x", x}, {"gamma", gamma}, {"beta", beta}}, p.M*p.C,
				func(y []float64) { BatchNormForwardTrain(p, x, gamma, beta, y, mean, istd, nil, nil) },
				func(dy []float64, g [][]float64) { BatchNormBackward(p, x, dy, gamma, mean, istd, g[0], g[1], g[2]) })
		})
	}
}

func TestBatchNormRunningStats(t *testing.T) {
	// M = 4 rows, C = 2: channel 0 holds 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3);
	// channel 1 holds 0, 0, 0, 4 (mean 1, biased var 3, unbiased 4).
	p := NewBatchNorm(4, 2)
	x := []float64{1, 0, 2, 0, 3, 0, 4, 4} // (M, C)
	gamma, beta := []float64{2, 1}, []float64{0.5, -1}
	y, mean, istd := make([]float64, 8), make([]float64, 2), make([]float64, 2)
	runMean, runVar := []float64{0, 1}, []float64{1, 2}
	BatchNormForwardTrain(p, x, gamma, beta, y, mean, istd, runMean, runVar)

	checkClose(t, "mean", mean, []float64{2.5, 1}, 0, 1e-15)
	checkClose(t, "istd", istd, []float64{1 / math.Sqrt(1.25+1e-5), 1 / math.Sqrt(3+1e-5)}, 1e-15, 0)
	// running = 0.9*running + 0.1*stat, unbiased variance.
	checkClose(t, "runMean", runMean, []float64{0.25, 0.9 + 0.1}, 1e-15, 1e-15)
	checkClose(t, "runVar", runVar, []float64{0.9 + 0.1*5.0/3, 1.8 + 0.4}, 1e-15, 0)
	i0, i1 := 1/math.Sqrt(1.25+1e-5), 1/math.Sqrt(3+1e-5)
	wantY := []float64{
		2*(-1.5)*i0 + 0.5, -1*i1 - 1,
		2*(-0.5)*i0 + 0.5, -1*i1 - 1,
		2*(0.5)*i0 + 0.5, -1*i1 - 1,
		2*(1.5)*i0 + 0.5, 3*i1 - 1,
	}
	checkClose(t, "y", y, wantY, 1e-14, 1e-14)

	// Eval mode uses the running statistics: y = gamma*(x-runMean)/sqrt(runVar+eps) + beta.
	BatchNormForwardEval(p, x, gamma, beta, runMean, runVar, y)
	s0, s1 := 2/math.Sqrt(runVar[0]+1e-5), 1/math.Sqrt(runVar[1]+1e-5)
	wantEval := []float64{
		(1-0.25)*s0 + 0.5, (0-1)*s1 - 1,
		(2-0.25)*s0 + 0.5, (0-1)*s1 - 1,
		(3-0.25)*s0 + 0.5, (0-1)*s1 - 1,
		(4-0.25)*s0 + 0.5, (4-1)*s1 - 1,
	}
	checkClose(t, "y eval", y, wantEval, 1e-14, 1e-14)
}

func TestBatchNormConstantChannel(t *testing.T) {
	// A constant channel has var 0: xhat = 0, y = beta, istd = 1/sqrt(eps) stays finite and
	// dx = gamma*istd*(dy - mean(dy)).
	p := NewBatchNorm(3, 1)
	x, gamma, beta := []float64{2, 2, 2}, []float64{1.5}, []float64{0.25}
	y, mean, istd := make([]float64, 3), make([]float64, 1), make([]float64, 1)
	BatchNormForwardTrain(p, x, gamma, beta, y, mean, istd, nil, nil)
	checkClose(t, "y", y, []float64{0.25, 0.25, 0.25}, 0, 0)
	dx, dg, db := make([]float64, 3), make([]float64, 1), make([]float64, 1)
	BatchNormBackward(p, x, []float64{1, -2, 0.5}, gamma, mean, istd, dx, dg, db)
	s := 1.5 / math.Sqrt(1e-5)
	checkClose(t, "dx", dx, []float64{s * (1 + 0.5/3), s * (-2 + 0.5/3), s * (0.5 + 0.5/3)}, 1e-12, 0)
	checkClose(t, "dbeta", db, []float64{-0.5}, 0, 1e-15)
}
