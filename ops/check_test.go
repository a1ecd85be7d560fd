package ops

import (
	"math"
	"testing"
)

// TestCompareNonFinite: a non-finite reference is matched only by the same
// class (the old Compare passed anything where the reference was NaN or Inf).
func TestCompareNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tol := Tol{Atol: 1e-3, Rtol: 1e-3, Why: "test"}
	for _, tc := range []struct {
		name      string
		got, want float32
		ok        bool
	}{
		{"finite vs NaN", 1, nan, false},
		{"finite vs +Inf", 5, inf, false},
		{"finite vs -Inf", -5, -inf, false},
		{"NaN vs finite", nan, 1, false},
		{"+Inf vs finite", inf, 1, false},
		{"+Inf vs NaN", inf, nan, false},
		{"NaN vs +Inf", nan, inf, false},
		{"-Inf vs +Inf", -inf, inf, false},
		{"+Inf vs -Inf", inf, -inf, false},
		{"NaN vs NaN", nan, nan, true},
		{"+Inf vs +Inf", inf, inf, true},
		{"-Inf vs -Inf", -inf, -inf, true},
		{"finite within tolerance", 1.0005, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The non-finite element sits beside finite ones that match.
			got, want := []float32{2, tc.got, 3}, []float32{2, tc.want, 3}
			_, _, err := Compare(got, want, tol)
			if (err == nil) != tc.ok {
				t.Fatalf("Compare(%v, %v): err = %v, want ok=%v", tc.got, tc.want, err, tc.ok)
			}
		})
	}
	// The normalized-error bound still applies beside matched non-finite elements.
	if _, _, err := Compare([]float32{nan, 1.1}, []float32{nan, 1}, Tol{Atol: 1, Nerr: 0.05}); err == nil {
		t.Error("a 10% normalized error passed a 5% bound")
	}
}
