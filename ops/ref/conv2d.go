// Conv2D: direct convolution without bias, channels-last activations and RSCK weights.
// N batch, H W input size, C in-channels, K out-channels, R S kernel size, P Q output size.

package ref

import "fmt"

// Conv2D describes a convolution with the same stride and zero padding in both spatial dimensions.
// UsedC, when set (1 to C-1), says that only x's first UsedC channels can be nonzero (an image's 1 or
// 3 channels padded to 4 on the device), so kernels may skip the products of the others; the
// references compute every channel either way, which gives the same sums.
type Conv2D struct {
	N, H, W, C, K, R, S, Stride, Pad int
	UsedC                            int
}

// P is the output height, (H + 2 Pad - R) / Stride + 1.
func (p Conv2D) P() int { return (p.H+2*p.Pad-p.R)/p.Stride + 1 }

// Q is the output width, (W + 2 Pad - S) / Stride + 1.
func (p Conv2D) Q() int { return (p.W+2*p.Pad-p.S)/p.Stride + 1 }

func (p Conv2D) check(op string) {
	checkPositive(op, "N, H, W, C, K, R, S, Stride", p.N, p.H, p.W, p.C, p.K, p.R, p.S, p.Stride)
	if p.UsedC < 0 || p.UsedC > p.C {
		panic(fmt.Sprintf("ref.%s: UsedC %d outside 0..C: %+v", op, p.UsedC, p))
	}
	if p.Pad < 0 || p.H+2*p.Pad < p.R || p.W+2*p.Pad < p.S {
		panic(fmt.Sprintf("ref.%s: invalid padding or kernel larger than padded input: %+v", op, p))
	}
}

// Conv2DForward computes y[n,p,q,k] = sum_{r,s,c} x[n, p*st-pad+r, q*st-pad+s, c] * w[r,s,c,k],
// with x zero outside the image.
func Conv2DForward[T Float](p Conv2D, x, w, y []T) {
	p.check("Conv2DForward")
	P, Q := p.P(), p.Q()
	checkLen("Conv2DForward", "x", x, p.N*p.H*p.W*p.C) // (N, H, W, C)
	checkLen("Conv2DForward", "w", w, p.R*p.S*p.C*p.K) // (R, S, C, K)
	checkLen("Conv2DForward", "y", y, p.N*P*Q*p.K)     // (N, P, Q, K)
	acc := make([]float64, p.K)                        // (K) one output pixel
	for n := 0; n < p.N; n++ {
		for oh := 0; oh < P; oh++ {
			for ow := 0; ow < Q; ow++ {
				clear(acc)
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
						xpix := x[((n*p.H+ih)*p.W+iw)*p.C:][:p.C] // (C)
						wrs := w[(r*p.S+s)*p.C*p.K:][:p.C*p.K]    // (C, K)
						for c, xv := range xpix {
							xf := float64(xv)
							for k, wv := range wrs[c*p.K : (c+1)*p.K] {
								acc[k] += xf * float64(wv)
							}
						}
					}
				}
				ypix := y[((n*P+oh)*Q+ow)*p.K:][:p.K] // (K)
				for k, v := range acc {
					ypix[k] = T(v)
				}
			}
		}
	}
}

// Conv2DBackwardData computes dx = dL/dx from dy = dL/dy:
// dx[n,h,w,c] = sum over (r, s, k) with p = (h+pad-r)/st an integer in [0,P) (same for q) of dy[n,p,q,k] * w[r,s,c,k].
// dx is overwritten.
func Conv2DBackwardData[T Float](p Conv2D, dy, w, dx []T) {
	p.check("Conv2DBackwardData")
	P, Q := p.P(), p.Q()
	checkLen("Conv2DBackwardData", "dy", dy, p.N*P*Q*p.K)     // (N, P, Q, K)
	checkLen("Conv2DBackwardData", "w", w, p.R*p.S*p.C*p.K)   // (R, S, C, K)
	checkLen("Conv2DBackwardData", "dx", dx, p.N*p.H*p.W*p.C) // (N, H, W, C)
	acc := make([]float64, p.C)                               // (C) one input pixel
	for n := 0; n < p.N; n++ {
		for ih := 0; ih < p.H; ih++ {
			for iw := 0; iw < p.W; iw++ {
				clear(acc)
				for r := 0; r < p.R; r++ {
					th := ih + p.Pad - r
					if th < 0 || th%p.Stride != 0 || th/p.Stride >= P {
						continue
					}
					oh := th / p.Stride
					for s := 0; s < p.S; s++ {
						tw := iw + p.Pad - s
						if tw < 0 || tw%p.Stride != 0 || tw/p.Stride >= Q {
							continue
						}
						ow := tw / p.Stride
						dypix := dy[((n*P+oh)*Q+ow)*p.K:][:p.K] // (K)
						wrs := w[(r*p.S+s)*p.C*p.K:][:p.C*p.K]  // (C, K)
						for c := range acc {
							var sum float64
							for k, wv := range wrs[c*p.K : (c+1)*p.K] {
								sum += float64(dypix[k]) * float64(wv)
							}
							acc[c] += sum
						}
					}
				}
				dxpix := dx[((n*p.H+ih)*p.W+iw)*p.C:][:p.C] // (C)
				for c, v := range acc {
					dxpix[c] = T(v)
				}
			}
		}
	}
}

// Conv2DBackwardWeight computes dw[r,s,c,k] = sum_{n,p,q} x[n, p*st-pad+r, q*st-pad+s, c] * dy[n,p,q,k],
// summed over (n, p, q) in row-major order. dw is overwritten.
func Conv2DBackwardWeight[T Float](p Conv2D, x, dy, dw []T) {
	p.check("Conv2DBackwardWeight")
	P, Q := p.P(), p.Q()
	checkLen("Conv2DBackwardWeight", "x", x, p.N*p.H*p.W*p.C)   // (N, H, W, C)
	checkLen("Conv2DBackwardWeight", "dy", dy, p.N*P*Q*p.K)     // (N, P, Q, K)
	checkLen("Conv2DBackwardWeight", "dw", dw, p.R*p.S*p.C*p.K) // (R, S, C, K)
	acc := make([]float64, p.C*p.K)                             // (C, K) one kernel tap
	for r := 0; r < p.R; r++ {
		for s := 0; s < p.S; s++ {
			clear(acc)
			for n := 0; n < p.N; n++ {
				for oh := 0; oh < P; oh++ {
					ih := oh*p.Stride - p.Pad + r
					if ih < 0 || ih >= p.H {
						continue
					}
					for ow := 0; ow < Q; ow++ {
						iw := ow*p.Stride - p.Pad + s
						if iw < 0 || iw >= p.W {
							continue
						}
						xpix := x[((n*p.H+ih)*p.W+iw)*p.C:][:p.C] // (C)
						dypix := dy[((n*P+oh)*Q+ow)*p.K:][:p.K]   // (K)
						for c, xv := range xpix {
							xf := float64(xv)
							row := acc[c*p.K : (c+1)*p.K]
							for k, dv := range dypix {
								row[k] += xf * float64(dv)
							}
						}
					}
				}
			}
			dwrs := dw[(r*p.S+s)*p.C*p.K:][:p.C*p.K] // (C, K)
			for i, v := range acc {
				dwrs[i] = T(v)
			}
		}
	}
}

// ConvWeightToKCRS converts a conv weight from this package's (R, S, C, K) to PyTorch's (K, C, R, S).
func ConvWeightToKCRS[T Float](R, S, C, K int, rsck, kcrs []T) {
	checkLen("ConvWeightToKCRS", "rsck", rsck, R*S*C*K) // (R, S, C, K)
	checkLen("ConvWeightToKCRS", "kcrs", kcrs, R*S*C*K) // (K, C, R, S)
	for r := 0; r < R; r++ {
		for s := 0; s < S; s++ {
			for c := 0; c < C; c++ {
				for k := 0; k < K; k++ {
					kcrs[((k*C+c)*R+r)*S+s] = rsck[((r*S+s)*C+c)*K+k]
				}
			}
		}
	}
}

// ConvWeightFromKCRS converts a conv weight from PyTorch's (K, C, R, S) to this package's (R, S, C, K).
func ConvWeightFromKCRS[T Float](R, S, C, K int, kcrs, rsck []T) {
	checkLen("ConvWeightFromKCRS", "kcrs", kcrs, R*S*C*K) // (K, C, R, S)
	checkLen("ConvWeightFromKCRS", "rsck", rsck, R*S*C*K) // (R, S, C, K)
	for r := 0; r < R; r++ {
		for s := 0; s < S; s++ {
			for c := 0; c < C; c++ {
				for k := 0; k < K; k++ {
					rsck[((r*S+s)*C+c)*K+k] = kcrs[((k*C+c)*R+r)*S+s]
				}
			}
		}
	}
}
