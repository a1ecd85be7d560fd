// Package ref holds the plain-Go CPU reference of every op SimCLR needs, forward and backward.
//
// These functions are the ground truth that the Vulkan kernels are tested against, and the CPU reference
// model is built from them. Each is generic over Float so the same code runs in float64 (finite-difference
// checks) and float32 (comparison with the GPU). Sums are accumulated in float64 and rounded once per output.
//
// Layouts match the GPU kernels:
//   - activations are channels-last (N, H, W, C), row-major;
//   - conv2d weights are (R, S, C, K) ("RSCK"); ConvWeightToKCRS converts to PyTorch's (K, C, R, S);
//   - linear weights are (I, O), y = x W + b; LinearWeightToOI converts to PyTorch's (O, I);
//   - batchnorm sees x as (M, C) rows with M = N*H*W, so one code path is BN2d on NHWC and BN1d on (N, C).
//
// Outputs go into caller-provided slices. Every slice length is checked exactly; a wrong length or an invalid
// params struct is a programmer error and panics.
package ref

import (
	"fmt"
	"math"
)

// Float is the element type of every reference op.
type Float interface{ ~float32 | ~float64 }

// checkLen panics when len(s) != want; op and name make the message say which call and argument.
func checkLen[T any](op, name string, s []T, want int) {
	if len(s) != want {
		panic(fmt.Sprintf("ref.%s: len(%s) = %d, want %d", op, name, len(s), want))
	}
}

// checkPositive panics unless every value is > 0.
func checkPositive(op string, names string, vals ...int) {
	for _, v := range vals {
		if v <= 0 {
			panic(fmt.Sprintf("ref.%s: dimensions %s must be positive, got %v", op, names, vals))
		}
	}
}

// isFinite reports whether v is neither NaN nor infinite.
func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
