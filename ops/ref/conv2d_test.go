// Tests of Conv2D: forward against a naive NCHW/KCRS formula, data and weight gradients by finite differences.

package ref

import (
	"fmt"
	"testing"
)

// conv2dCases are odd shapes covering 1x1, 3x3, 7x7 and rectangular kernels, stride 1 to 3, padding 0 to 3.
var conv2dCases = []Conv2D{
	{N: 1, H: 5, W: 5, C: 3, K: 7, R: 1, S: 1, Stride: 1, Pad: 0},
	{N: 3, H: 7, W: 7, C: 5, K: 7, R: 1, S: 1, Stride: 2, Pad: 0}, // downsampling shortcut
	{N: 3, H: 5, W: 5, C: 3, K: 7, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 1, H: 7, W: 7, C: 5, K: 7, R: 3, S: 3, Stride: 2, Pad: 1},
	{N: 3, H: 5, W: 5, C: 5, K: 3, R: 3, S: 3, Stride: 2, Pad: 0},
	{N: 1, H: 5, W: 7, C: 3, K: 5, R: 3, S: 3, Stride: 1, Pad: 2},
	{N: 1, H: 7, W: 7, C: 3, K: 5, R: 7, S: 7, Stride: 2, Pad: 3}, // ResNet stem
	{N: 1, H: 5, W: 5, C: 3, K: 7, R: 7, S: 7, Stride: 1, Pad: 3}, // kernel larger than the image
	{N: 3, H: 5, W: 7, C: 3, K: 5, R: 3, S: 5, Stride: 2, Pad: 1}, // rectangular
	{N: 1, H: 7, W: 5, C: 5, K: 3, R: 3, S: 3, Stride: 3, Pad: 0},
}

func conv2dName(p Conv2D) string {
	return fmt.Sprintf("N%d_H%dW%d_C%dK%d_%dx%d_s%dp%d", p.N, p.H, p.W, p.C, p.K, p.R, p.S, p.Stride, p.Pad)
}

// naiveConv2DNCHW is the direct formula in PyTorch's layouts: x (N, C, H, W), w (K, C, R, S), y (N, K, P, Q).
func naiveConv2DNCHW(p Conv2D, x, w []float64) []float64 {
	P, Q := (p.H+2*p.Pad-p.R)/p.Stride+1, (p.W+2*p.Pad-p.S)/p.Stride+1
	y := make([]float64, p.N*p.K*P*Q)
	for n := 0; n < p.N; n++ {
		for k := 0; k < p.K; k++ {
			for oh := 0; oh < P; oh++ {
				for ow := 0; ow < Q; ow++ {
					var sum float64
					for c := 0; c < p.C; c++ {
						for r := 0; r < p.R; r++ {
							for s := 0; s < p.S; s++ {
								ih, iw := oh*p.Stride-p.Pad+r, ow*p.Stride-p.Pad+s
								if ih >= 0 && ih < p.H && iw >= 0 && iw < p.W {
									sum += x[((n*p.C+c)*p.H+ih)*p.W+iw] * w[((k*p.C+c)*p.R+r)*p.S+s]
								}
							}
						}
					}
					y[((n*p.K+k)*P+oh)*Q+ow] = sum
				}
			}
		}
	}
	return y
}

// nhwcToNCHW transposes an activation (N, H, W, C) to (N, C, H, W).
func nhwcToNCHW(N, H, W, C int, x []float64) []float64 {
	out := make([]float64, len(x))
	for n := 0; n < N; n++ {
		for h := 0; h < H; h++ {
			for w := 0; w < W; w++ {
				for c := 0; c < C; c++ {
					out[((n*C+c)*H+h)*W+w] = x[((n*H+h)*W+w)*C+c]
				}
			}
		}
	}
	return out
}

func TestConv2DForwardNaive(t *testing.T) {
	for i, p := range conv2dCases {
		t.Run(conv2dName(p), func(t *testing.T) {
			rng := newRNG(uint64(100 + i))
			P, Q := p.P(), p.Q()
			x := randSlice(rng, p.N*p.H*p.W*p.C, -1, 1)     // (N, H, W, C)
			wKCRS := randSlice(rng, p.K*p.C*p.R*p.S, -1, 1) // (K, C, R, S) as PyTorch stores it
			w := make([]float64, len(wKCRS))                // (R, S, C, K)
			ConvWeightFromKCRS(p.R, p.S, p.C, p.K, wKCRS, w)
			y := make([]float64, p.N*P*Q*p.K) // (N, P, Q, K)
			Conv2DForward(p, x, w, y)
			want := naiveConv2DNCHW(p, nhwcToNCHW(p.N, p.H, p.W, p.C, x), wKCRS)               // (N, K, P, Q)
			checkClose(t, "y (N, K, P, Q)", nhwcToNCHW(p.N, P, Q, p.K, y), want, 1e-13, 1e-13) // summation order only
			back := make([]float64, len(w))                                                    // (K, C, R, S)
			ConvWeightToKCRS(p.R, p.S, p.C, p.K, w, back)
			checkClose(t, "KCRS round trip", back, wKCRS, 0, 0)
		})
	}
}

func TestConv2DGrad(t *testing.T) {
	for i, p := range conv2dCases {
		t.Run(conv2dName(p), func(t *testing.T) {
			rng := newRNG(uint64(200 + i))
			x := randSlice(rng, p.N*p.H*p.W*p.C, -1, 1) // (N, H, W, C)
			w := randSlice(rng, p.R*p.S*p.C*p.K, -1, 1) // (R, S, C, K)
			gradCheck(t, rng, fdDefault, []fdInput{{"x", x}, {"w", w}}, p.N*p.P()*p.Q()*p.K,
				func(y []float64) { Conv2DForward(p, x, w, y) },
				func(dy []float64, g [][]float64) {
					Conv2DBackwardData(p, dy, w, g[0])
					Conv2DBackwardWeight(p, x, dy, g[1])
				})
		})
	}
}

func TestConvWeightKCRSHand(t *testing.T) {
	// R=1, S=2, C=1, K=2: rsck[r][s][c][k] = 10*s + k; PyTorch's kcrs[k][c][r][s] holds the same value.
	rsck := []float64{0, 1, 10, 11}
	kcrs := make([]float64, 4)
	ConvWeightToKCRS(1, 2, 1, 2, rsck, kcrs)
	checkClose(t, "kcrs", kcrs, []float64{0, 10, 1, 11}, 0, 0)
}
