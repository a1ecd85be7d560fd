// Shared test helpers: the finite-difference gradient checker and seeded random inputs.

package ref

import (
	"math"
	"math/rand/v2"
	"testing"
)

// fdStep is the central-difference step. Its truncation error is ~fdStep^2 times the third derivative
// (about 1e-12 for the smooth ops here) and its roundoff ~1e-16 * |L| / fdStep (about 1e-10 * |L|).
const fdStep = 1e-6

// fdMaxChecks caps the elements perturbed per input; larger inputs are sampled (seeded) to keep tests fast.
// Every case in this package is below it, so every element is checked.
const fdMaxChecks = 5000

// fdTol accepts |analytic - numeric| <= Abs + Rel * max(|analytic|, |numeric|).
type fdTol struct{ Rel, Abs float64 }

// fdDefault covers the central-difference error above with a 10x margin for losses L = sum(y*r) up to ~100.
var fdDefault = fdTol{Rel: 1e-5, Abs: 1e-7}

// fdInput is one differentiable input of the op under test; gradCheck perturbs val in place.
type fdInput struct {
	name string
	val  []float64
}

// gradCheck checks the analytic gradients of an op against central differences of L = sum(out * r) with a
// random seeded r. forward must fill out (length outLen) from the current input values; backward receives
// dout = r right after forward ran at the unperturbed inputs and must fill grads[i] (len(inputs[i].val)).
func gradCheck(t *testing.T, rng *rand.Rand, tol fdTol, inputs []fdInput, outLen int,
	forward func(out []float64), backward func(dout []float64, grads [][]float64)) {
	t.Helper()
	r := randSlice(rng, outLen, -1, 1)
	out := make([]float64, outLen)
	forward(out)
	grads := make([][]float64, len(inputs))
	for i, in := range inputs {
		grads[i] = make([]float64, len(in.val))
		for j := range grads[i] {
			grads[i][j] = math.NaN() // catch gradients backward forgot to write
		}
	}
	backward(r, grads)
	loss := func() float64 {
		forward(out)
		var l float64
		for i, v := range out {
			l += v * r[i]
		}
		return l
	}
	for i, in := range inputs {
		idx := rng.Perm(len(in.val))
		if len(idx) > fdMaxChecks {
			idx = idx[:fdMaxChecks]
		}
		fails := 0
		for _, j := range idx {
			v := in.val[j]
			in.val[j] = v + fdStep
			lp := loss()
			in.val[j] = v - fdStep
			lm := loss()
			in.val[j] = v
			num, got := (lp-lm)/(2*fdStep), grads[i][j]
			if !(math.Abs(got-num) <= tol.Abs+tol.Rel*max(math.Abs(got), math.Abs(num))) {
				t.Errorf("d%s[%d]: got %.10g, want %.10g (finite difference), diff %.3g", in.name, j, got, num, got-num)
				if fails++; fails >= 5 {
					break
				}
			}
		}
	}
}

// newRNG returns the seeded generator of one test case.
func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randSlice returns n values uniform in [lo, hi).
func randSlice(rng *rand.Rand, n int, lo, hi float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = lo + (hi-lo)*rng.Float64()
	}
	return s
}

// distinctSlice returns a random permutation of n values spaced 0.01 apart around 0: no ties, and every
// gap is far wider than fdStep, so maxima do not move under finite differences.
func distinctSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i, p := range rng.Perm(n) {
		s[i] = 0.01 * float64(p-n/2)
	}
	return s
}

// closeTo reports whether got is within abs + rel*|want| of want.
func closeTo(got, want, rel, abs float64) bool {
	return math.Abs(got-want) <= abs+rel*math.Abs(want)
}

// checkClose fails the test at the first few elements of got that are not close to want.
func checkClose[T Float](t *testing.T, what string, got, want []T, rel, abs float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	fails := 0
	for i := range got {
		if !closeTo(float64(got[i]), float64(want[i]), rel, abs) {
			t.Errorf("%s[%d]: got %.10g, want %.10g", what, i, float64(got[i]), float64(want[i]))
			if fails++; fails >= 5 {
				return
			}
		}
	}
}
