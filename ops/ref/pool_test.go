// Tests of ReLU, Add, global average pooling and max pooling.

package ref

import (
	"fmt"
	"math"
	"testing"
)

func TestReLUGrad(t *testing.T) {
	for i, n := range []int{1, 7, 75} {
		t.Run(fmt.Sprint("n", n), func(t *testing.T) {
			rng := newRNG(uint64(400 + i))
			x := randSlice(rng, n, -1, 1)
			for j, v := range x { // keep away from the kink at 0
				x[j] = math.Copysign(0.05+math.Abs(v), v)
			}
			y := make([]float64, n)
			gradCheck(t, rng, fdDefault, []fdInput{{"x", x}}, n,
				func(out []float64) { ReLUForward(x, out) },
				func(dy []float64, g [][]float64) { ReLUForward(x, y); ReLUBackward(y, dy, g[0]) })
		})
	}
}

func TestReLUAndAdd(t *testing.T) {
	x := []float64{-1, 0, 2, math.Inf(-1)}
	y := make([]float64, 4)
	ReLUForward(x, y)
	checkClose(t, "relu", y, []float64{0, 0, 2, 0}, 0, 0)
	nan := []float64{math.NaN()}
	if ReLUForward(nan, nan); !math.IsNaN(nan[0]) {
		t.Errorf("relu(NaN) = %g, want NaN (a diverged run must stay visible)", nan[0])
	}
	dx := make([]float64, 4)
	ReLUBackward(y, []float64{5, 6, 7, 8}, dx) // y = 0 passes no gradient
	checkClose(t, "relu backward", dx, []float64{0, 0, 7, 0}, 0, 0)
	out := make([]float64, 4)
	Add([]float64{1, 2, 3, 4}, []float64{0.5, -2, 0, 1}, out)
	checkClose(t, "add", out, []float64{1.5, 0, 3, 5}, 0, 0)
}

func TestGlobalAvgPoolGrad(t *testing.T) {
	for i, tc := range []struct{ N, H, W, C int }{{1, 1, 1, 3}, {3, 5, 5, 5}, {1, 7, 5, 3}} {
		t.Run(fmt.Sprintf("N%d_H%dW%d_C%d", tc.N, tc.H, tc.W, tc.C), func(t *testing.T) {
			rng := newRNG(uint64(500 + i))
			x := randSlice(rng, tc.N*tc.H*tc.W*tc.C, -1, 1) // (N, H, W, C)
			gradCheck(t, rng, fdDefault, []fdInput{{"x", x}}, tc.N*tc.C,
				func(y []float64) { GlobalAvgPoolForward(tc.N, tc.H, tc.W, tc.C, x, y) },
				func(dy []float64, g [][]float64) { GlobalAvgPoolBackward(tc.N, tc.H, tc.W, tc.C, dy, g[0]) })
		})
	}
}

func TestGlobalAvgPoolHand(t *testing.T) {
	// N=1, H=1, W=2, C=2: pixels (1, 10) and (3, 20).
	y := make([]float64, 2)
	GlobalAvgPoolForward(1, 1, 2, 2, []float64{1, 10, 3, 20}, y)
	checkClose(t, "y", y, []float64{2, 15}, 0, 0)
}

var maxPoolCases = []MaxPool{
	{N: 1, H: 7, W: 7, C: 3, R: 3, S: 3, Stride: 2, Pad: 1}, // ResNet stem
	{N: 3, H: 5, W: 5, C: 5, R: 3, S: 3, Stride: 1, Pad: 1}, // heavy overlap
	{N: 1, H: 5, W: 7, C: 3, R: 2, S: 2, Stride: 2, Pad: 0},
	{N: 3, H: 5, W: 5, C: 3, R: 1, S: 1, Stride: 1, Pad: 0},
	{N: 1, H: 7, W: 5, C: 5, R: 3, S: 3, Stride: 2, Pad: 0},
	{N: 1, H: 7, W: 7, C: 3, R: 7, S: 7, Stride: 1, Pad: 3},
}

func TestMaxPoolGrad(t *testing.T) {
	for i, p := range maxPoolCases {
		t.Run(fmt.Sprintf("N%d_H%dW%d_C%d_%dx%d_s%dp%d", p.N, p.H, p.W, p.C, p.R, p.S, p.Stride, p.Pad), func(t *testing.T) {
			rng := newRNG(uint64(600 + i))
			x := distinctSlice(rng, p.N*p.H*p.W*p.C) // (N, H, W, C), no ties
			gradCheck(t, rng, fdDefault, []fdInput{{"x", x}}, p.N*p.P()*p.Q()*p.C,
				func(y []float64) { MaxPoolForward(p, x, y) },
				func(dy []float64, g [][]float64) { MaxPoolBackward(p, x, dy, g[0]) })
		})
	}
}

func TestMaxPoolHand(t *testing.T) {
	// N=1, H=W=2, C=1, 3x3 window, stride 1, pad 1: four windows, each covering the whole image.
	p := MaxPool{N: 1, H: 2, W: 2, C: 1, R: 3, S: 3, Stride: 1, Pad: 1}
	y, dx := make([]float64, 4), make([]float64, 4)

	// Padding is -inf, not 0: all-negative inputs keep a negative maximum.
	MaxPoolForward(p, []float64{-3, -1, -2, -4}, y)
	checkClose(t, "negative y", y, []float64{-1, -1, -1, -1}, 0, 0)
	// Overlapping windows accumulate on their shared argmax.
	MaxPoolBackward(p, []float64{-3, -1, -2, -4}, []float64{1, 2, 3, 4}, dx)
	checkClose(t, "negative dx", dx, []float64{0, 10, 0, 0}, 0, 0)

	// Ties go to the first maximum in (r, s) scan order: x[0][1] comes before x[1][0].
	MaxPoolBackward(p, []float64{0, 5, 5, 1}, []float64{1, 2, 3, 4}, dx)
	checkClose(t, "tie dx", dx, []float64{0, 10, 0, 0}, 0, 0)
}
