// Tests of the optimizers against hand-computed single steps, and of the reductions.

package ref

import (
	"math"
	"testing"
)

func TestSGDStep(t *testing.T) {
	// Element 0: weight-decayed segment; element 1: excluded segment; element 2: outside every segment.
	// lr 0.1, momentum 0.9, wd 0.1, w = 1, g = 0.5, v = 0.2:
	//   decayed:  g' = 0.6, v = 0.9*0.2 + 0.6 = 0.78, w = 1 - 0.078 = 0.922; Nesterov w = 1 - 0.1*(0.6 + 0.702)
	//   excluded: g' = 0.5, v = 0.68, w = 0.932; Nesterov w = 1 - 0.1*(0.5 + 0.612)
	segs := []Segment{{Offset: 0, Len: 1}, {Offset: 1, Len: 1, Exclude: true}}
	cases := []struct {
		name     string
		nesterov bool
		wantW    []float64
	}{
		{"plain", false, []float64{0.922, 0.932, 1}},
		{"nesterov", true, []float64{0.8698, 0.8888, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, g, v := []float64{1, 1, 1}, []float64{0.5, 0.5, 0.5}, []float64{0.2, 0.2, 0.2}
			SGDStep(w, g, v, segs, 0.1, 0.9, 0.1, tc.nesterov)
			checkClose(t, "w", w, tc.wantW, 1e-15, 0)
			checkClose(t, "v", v, []float64{0.78, 0.68, 0.2}, 1e-15, 0)
		})
	}
	t.Run("no momentum", func(t *testing.T) {
		w := []float64{1, 1}
		SGDStep(w, []float64{0.5, 0.5}, nil, segs, 0.1, 0, 0.1, false)
		checkClose(t, "w", w, []float64{0.94, 0.95}, 1e-15, 0)
	})
}

func TestLARSStep(t *testing.T) {
	// lr 2, momentum 0.9, wd 0.1, eta 0.001. Segments:
	//   0: w = (3, 4), g = (0.3, 0.4), v = (0.1, -0.1): g' = g + 0.1 w = (0.6, 0.8), ||w|| = 5, ||g'|| = 1,
	//      trust = 0.005, lr*trust = 0.01; v = 0.9 v + 0.01 g' = (0.096, -0.082).
	//   1: excluded, w = 1, g = 0.25: no decay, trust 1; v = 2*0.25 = 0.5.
	//   2: w = (0, 0), g = (0.3, 0.4): ||w|| = 0 so trust 1; v = 2 g = (0.6, 0.8).
	//   element 5 is outside every segment and keeps its values.
	segs := []Segment{{Offset: 0, Len: 2}, {Offset: 2, Len: 1, Exclude: true}, {Offset: 3, Len: 2}}
	wantV := []float64{0.096, -0.082, 0.5, 0.6, 0.8, 0}
	cases := []struct {
		name     string
		nesterov bool
		wantW    []float64
	}{
		// w -= v
		{"plain", false, []float64{3 - 0.096, 4 + 0.082, 0.5, -0.6, -0.8, 7}},
		// w -= 0.9 v + lr*trust*g'
		{"nesterov", true, []float64{3 - 0.0864 - 0.006, 4 + 0.0738 - 0.008, 1 - 0.45 - 0.5, -0.54 - 0.6, -0.72 - 0.8, 7}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := []float64{3, 4, 1, 0, 0, 7}
			g := []float64{0.3, 0.4, 0.25, 0.3, 0.4, 9}
			v := []float64{0.1, -0.1, 0, 0, 0, 0}
			LARSStep(w, g, v, segs, 2, 0.9, 0.1, DefaultLARSEta, tc.nesterov)
			checkClose(t, "w", w, tc.wantW, 1e-14, 0)
			checkClose(t, "v", v, wantV, 1e-14, 1e-17)
		})
	}
	t.Run("exclusion", func(t *testing.T) {
		// The same tensor, adapted and not: w = (3, 4), g = (0.3, 0.4), v = 0, lr 1, wd 0.1.
		// Adapted: g' = (0.6, 0.8), trust 0.005, w -= 0.005 g'. Excluded: w -= g.
		w := []float64{3, 4, 3, 4}
		LARSStep(w, []float64{0.3, 0.4, 0.3, 0.4}, make([]float64, 4),
			[]Segment{{Offset: 0, Len: 2}, {Offset: 2, Len: 2, Exclude: true}}, 1, 0.9, 0.1, DefaultLARSEta, false)
		checkClose(t, "w", w, []float64{2.997, 3.996, 2.7, 3.6}, 1e-15, 0)
	})
}

func TestAdamWStep(t *testing.T) {
	// lr 0.1, betas (0.9, 0.999), eps 1e-8, wd 0.01; element 0 decayed, element 1 excluded.
	segs := []Segment{{Offset: 0, Len: 1}, {Offset: 1, Len: 1, Exclude: true}}
	w, m, v := []float64{1, 1}, []float64{0, 0}, []float64{0, 0}
	AdamWStep(w, []float64{0.5, 0.5}, m, v, segs, 0.1, 0.9, 0.999, 1e-8, 0.01, 1)
	// Step 1: m = 0.05, v = 0.00025, bias corrections 0.1 and 0.001: update = 0.1/0.1 * 0.05/(0.5 + 1e-8).
	up1 := 0.05 / (0.5 + 1e-8)
	checkClose(t, "m", m, []float64{0.05, 0.05}, 1e-15, 0)
	checkClose(t, "v", v, []float64{0.00025, 0.00025}, 1e-15, 0)
	checkClose(t, "w step 1", w, []float64{0.999 - up1, 1 - up1}, 1e-15, 0)

	AdamWStep(w, []float64{-0.25, -0.25}, m, v, segs, 0.1, 0.9, 0.999, 1e-8, 0.01, 2)
	// Step 2: m = 0.045 - 0.025 = 0.02, v = 0.999*0.00025 + 0.001*0.0625 = 0.00031225,
	// bias corrections 1 - 0.81 = 0.19 and 1 - 0.998001 = 0.001999.
	up2 := 0.1 / 0.19 * 0.02 / (math.Sqrt(0.00031225)/math.Sqrt(0.001999) + 1e-8)
	checkClose(t, "m", m, []float64{0.02, 0.02}, 1e-14, 0)
	checkClose(t, "v", v, []float64{0.00031225, 0.00031225}, 1e-14, 0)
	checkClose(t, "w step 2", w, []float64{(0.999-up1)*0.999 - up2, 1 - up1 - up2}, 1e-14, 0)
}

func TestReductions(t *testing.T) {
	x := []float64{3, 4, 1, 2, 2, 100}
	if got := Sum(x); got != 112 {
		t.Errorf("Sum: got %g, want 112", got)
	}
	norms := make([]float64, 3)
	SegmentNorms(x, []Segment{{Offset: 0, Len: 2}, {Offset: 2, Len: 3}, {Offset: 5, Len: 0}}, norms)
	checkClose(t, "norms", norms, []float64{5, 3, 0}, 1e-15, 0)
	cases := []struct {
		name string
		x    []float32
		want bool
	}{
		{"empty", nil, true},
		{"finite", []float32{1, -2, 3e38}, true},
		{"nan", []float32{1, float32(math.NaN())}, false},
		{"+inf", []float32{float32(math.Inf(1)), 0}, false},
		{"-inf", []float32{0, float32(math.Inf(-1))}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := AllFinite(tc.x); got != tc.want {
				t.Errorf("AllFinite(%v) = %v, want %v", tc.x, got, tc.want)
			}
		})
	}
}
