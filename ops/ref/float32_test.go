// Tests that the float32 instantiations agree with float64 and that wrong shapes panic.

package ref

import (
	"strings"
	"testing"
)

// to32 rounds a float64 slice to float32; back64 widens it again, so both precisions see the same inputs.
func to32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func back64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// TestFloat32MatchesFloat64 runs ops in both precisions on the same (float32-representable) inputs. Sums are in
// float64 either way, so outputs differ only by float32 rounding of outputs and saved statistics:
// relative 1e-6 plus absolute 1e-6 (a few float32 ulps at the magnitudes here).
func TestFloat32MatchesFloat64(t *testing.T) {
	const rel, abs = 1e-6, 1e-6
	rng := newRNG(42)
	r32 := func(n int, lo, hi float64) ([]float32, []float64) {
		x32 := to32(randSlice(rng, n, lo, hi))
		return x32, back64(x32)
	}
	t.Run("conv2d", func(t *testing.T) {
		p := Conv2D{N: 3, H: 7, W: 7, C: 5, K: 7, R: 3, S: 3, Stride: 2, Pad: 1}
		x32, x64 := r32(p.N*p.H*p.W*p.C, -1, 1)
		w32, w64 := r32(p.R*p.S*p.C*p.K, -1, 1)
		y32, y64 := make([]float32, p.N*p.P()*p.Q()*p.K), make([]float64, p.N*p.P()*p.Q()*p.K)
		Conv2DForward(p, x32, w32, y32)
		Conv2DForward(p, x64, w64, y64)
		checkClose(t, "y", back64(y32), y64, rel, abs)
		dx32, dx64 := make([]float32, len(x32)), make([]float64, len(x64))
		dyy32 := to32(y64)
		Conv2DBackwardData(p, dyy32, w32, dx32)
		Conv2DBackwardData(p, back64(dyy32), w64, dx64)
		checkClose(t, "dx", back64(dx32), dx64, rel, abs)
	})
	t.Run("batchnorm", func(t *testing.T) {
		p := NewBatchNorm(75, 3)
		x32, x64 := r32(p.M*p.C, -2, 2)
		g32, g64 := r32(p.C, 0.5, 1.5)
		b32, b64 := r32(p.C, -1, 1)
		y32, m32, i32 := make([]float32, p.M*p.C), make([]float32, p.C), make([]float32, p.C)
		y64, m64, i64 := make([]float64, p.M*p.C), make([]float64, p.C), make([]float64, p.C)
		BatchNormForwardTrain(p, x32, g32, b32, y32, m32, i32, nil, nil)
		BatchNormForwardTrain(p, x64, g64, b64, y64, m64, i64, nil, nil)
		checkClose(t, "y", back64(y32), y64, rel, abs)
	})
	t.Run("ntxent", func(t *testing.T) {
		p := NTXent{N: 4, D: 7, Temperature: 0.2}
		z32, z64 := r32(2*p.N*p.D, -1, 1)
		l32, a32 := NTXentForward(p, z32)
		l64, a64 := NTXentForward(p, z64)
		checkClose(t, "loss, acc", []float64{float64(l32), float64(a32)}, []float64{l64, a64}, rel, abs)
		d32, d64 := make([]float32, len(z32)), make([]float64, len(z64))
		NTXentBackward(p, z32, d32)
		NTXentBackward(p, z64, d64)
		checkClose(t, "dz", back64(d32), d64, rel, abs)
	})
}

// TestPanics checks that programmer errors (wrong lengths, invalid params) panic instead of writing garbage.
func TestPanics(t *testing.T) {
	f := func(n int) []float64 { return make([]float64, n) }
	conv := Conv2D{N: 1, H: 5, W: 5, C: 3, K: 7, R: 3, S: 3, Stride: 1, Pad: 1}
	cases := []struct {
		name string
		call func()
	}{
		{"matmul short c", func() { MatmulForward(Matmul{M: 2, N: 3, K: 4}, f(8), f(12), f(5), false) }},
		{"linear wrong bias", func() { LinearForward(Linear{N: 2, I: 3, O: 4}, f(6), f(12), f(3), f(8)) }},
		{"conv short w", func() { Conv2DForward(conv, f(75), f(188), f(175)) }},
		{"conv zero stride", func() { Conv2DForward(Conv2D{N: 1, H: 5, W: 5, C: 1, K: 1, R: 1, S: 1}, f(25), f(1), f(25)) }},
		{"conv kernel too large", func() {
			Conv2DForward(Conv2D{N: 1, H: 2, W: 2, C: 1, K: 1, R: 3, S: 3, Stride: 1}, f(4), f(9), f(1))
		}},
		{"batchnorm one row", func() { BatchNormForwardTrain(NewBatchNorm(1, 2), f(2), f(2), f(2), f(2), f(2), f(2), nil, nil) }},
		{"maxpool pad over half window", func() {
			MaxPoolForward(MaxPool{N: 1, H: 5, W: 5, C: 1, R: 3, S: 3, Stride: 1, Pad: 2}, f(25), f(49))
		}},
		{"ntxent zero temperature", func() { NTXentForward(NTXent{N: 2, D: 3}, f(12)) }},
		{"softmax label out of range", func() { SoftmaxCEForward(1, 3, f(3), []int32{3}) }},
		{"sgd segment out of range", func() { SGDStep(f(4), f(4), f(4), []Segment{{Offset: 2, Len: 3}}, 0.1, 0.9, 0, false) }},
		{"adamw step 0", func() { AdamWStep(f(1), f(1), f(1), f(1), nil, 0.1, 0.9, 0.999, 1e-8, 0, 0) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				// A message from this package, not a runtime index error deeper down.
				if msg, _ := recover().(string); !strings.HasPrefix(msg, "ref.") {
					t.Errorf("want a panic with a ref. message, got %q", msg)
				}
			}()
			tc.call()
		})
	}
}
