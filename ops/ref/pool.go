// Pooling: global average pooling (end of the encoder) and max pooling (ResNet stem).
// N batch, H W input size, C channels, R S window size, P Q output size.

package ref

import (
	"fmt"
	"math"
)

// GlobalAvgPoolForward computes y[n,c] = mean over (h, w) of x[n,h,w,c].
func GlobalAvgPoolForward[T Float](N, H, W, C int, x, y []T) {
	checkPositive("GlobalAvgPoolForward", "N, H, W, C", N, H, W, C)
	checkLen("GlobalAvgPoolForward", "x", x, N*H*W*C) // (N, H, W, C)
	checkLen("GlobalAvgPoolForward", "y", y, N*C)     // (N, C)
	acc := make([]float64, C)                         // (C)
	for n := 0; n < N; n++ {
		clear(acc)
		for hw := 0; hw < H*W; hw++ {
			for c, v := range x[(n*H*W+hw)*C:][:C] {
				acc[c] += float64(v)
			}
		}
		for c, v := range acc {
			y[n*C+c] = T(v / float64(H*W))
		}
	}
}

// GlobalAvgPoolBackward computes dx[n,h,w,c] = dy[n,c] / (H*W). dx is overwritten.
func GlobalAvgPoolBackward[T Float](N, H, W, C int, dy, dx []T) {
	checkPositive("GlobalAvgPoolBackward", "N, H, W, C", N, H, W, C)
	checkLen("GlobalAvgPoolBackward", "dy", dy, N*C)     // (N, C)
	checkLen("GlobalAvgPoolBackward", "dx", dx, N*H*W*C) // (N, H, W, C)
	for n := 0; n < N; n++ {
		for hw := 0; hw < H*W; hw++ {
			for c := 0; c < C; c++ {
				dx[(n*H*W+hw)*C+c] = T(float64(dy[n*C+c]) / float64(H*W))
			}
		}
	}
}

// MaxPool describes a max pooling with the same stride and padding in both spatial dimensions.
// Padding counts as -inf (PyTorch semantics), so Pad may be at most half the window, as PyTorch requires.
type MaxPool struct{ N, H, W, C, R, S, Stride, Pad int }

// P is the output height, (H + 2 Pad - R) / Stride + 1.
func (p MaxPool) P() int { return (p.H+2*p.Pad-p.R)/p.Stride + 1 }

// Q is the output width, (W + 2 Pad - S) / Stride + 1.
func (p MaxPool) Q() int { return (p.W+2*p.Pad-p.S)/p.Stride + 1 }

func (p MaxPool) check(op string) {
	checkPositive(op, "N, H, W, C, R, S, Stride", p.N, p.H, p.W, p.C, p.R, p.S, p.Stride)
	if p.Pad < 0 || 2*p.Pad > p.R || 2*p.Pad > p.S || p.H+2*p.Pad < p.R || p.W+2*p.Pad < p.S {
		panic(fmt.Sprintf("ref.%s: padding must be in [0, window/2] and the window fit the padded input: %+v", op, p))
	}
}

// maxPoolArgmax returns the input position (ih, iw) of the maximum of window (oh, ow) for channel c of
// image n: the first maximum in (r, s) scan order, or else the last NaN, which wins like in PyTorch's
// kernels. Padding never wins: with Pad <= window/2 every window holds at least one input value.
func maxPoolArgmax[T Float](p MaxPool, x []T, n, oh, ow, c int) (int, int) {
	best, bh, bw := math.Inf(-1), -1, -1
	for r := 0; r < p.R; r++ {
		ih := oh*p.Stride - p.Pad + r
		if ih < 0 || ih >= p.H {
			continue
		}
		for s := 0; s < p.S; s++ {
			iw := ow*p.Stride - p.Pad + s
			if iw < 0 || iw >= p.W {
				continue
			}
			v := float64(x[((n*p.H+ih)*p.W+iw)*p.C+c])
			if bh < 0 || v > best || math.IsNaN(v) {
				best, bh, bw = v, ih, iw
			}
		}
	}
	return bh, bw
}

// MaxPoolForward computes y[n,p,q,c] = max over the window of x, with -inf padding.
func MaxPoolForward[T Float](p MaxPool, x, y []T) {
	p.check("MaxPoolForward")
	P, Q := p.P(), p.Q()
	checkLen("MaxPoolForward", "x", x, p.N*p.H*p.W*p.C) // (N, H, W, C)
	checkLen("MaxPoolForward", "y", y, p.N*P*Q*p.C)     // (N, P, Q, C)
	for n := 0; n < p.N; n++ {
		for oh := 0; oh < P; oh++ {
			for ow := 0; ow < Q; ow++ {
				for c := 0; c < p.C; c++ {
					ih, iw := maxPoolArgmax(p, x, n, oh, ow, c)
					y[((n*P+oh)*Q+ow)*p.C+c] = x[((n*p.H+ih)*p.W+iw)*p.C+c]
				}
			}
		}
	}
}

// MaxPoolBackward routes each dy to the argmax of its window (recomputed from x with the forward's tie rule),
// summing where windows overlap. Sums are in float64 per input element. dx is overwritten.
func MaxPoolBackward[T Float](p MaxPool, x, dy, dx []T) {
	p.check("MaxPoolBackward")
	P, Q := p.P(), p.Q()
	checkLen("MaxPoolBackward", "x", x, p.N*p.H*p.W*p.C)   // (N, H, W, C)
	checkLen("MaxPoolBackward", "dy", dy, p.N*P*Q*p.C)     // (N, P, Q, C)
	checkLen("MaxPoolBackward", "dx", dx, p.N*p.H*p.W*p.C) // (N, H, W, C)
	acc := make([]float64, p.H*p.W*p.C)                    // (H, W, C) one image
	for n := 0; n < p.N; n++ {
		clear(acc)
		for oh := 0; oh < P; oh++ {
			for ow := 0; ow < Q; ow++ {
				for c := 0; c < p.C; c++ {
					ih, iw := maxPoolArgmax(p, x, n, oh, ow, c)
					acc[(ih*p.W+iw)*p.C+c] += float64(dy[((n*P+oh)*Q+ow)*p.C+c])
				}
			}
		}
		for i, v := range acc {
			dx[n*p.H*p.W*p.C+i] = T(v)
		}
	}
}
