// Tests: charts decode as PNGs of the promised size; bad input errors, never panics.

package plot

import (
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var nan = math.NaN()

// decodePNG opens path and returns its size; it fails the test if the file
// is missing or not a PNG.
func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func lossCurve(n int) Series {
	s := Series{Name: "train loss"}
	for i := range n {
		s.X = append(s.X, float64(i))
		s.Y = append(s.Y, 5*math.Exp(-float64(i)/30)+0.2*math.Sin(float64(i)/3))
	}
	return s
}

func TestLinePlot(t *testing.T) {
	val := lossCurve(100)
	val.Name = "val loss"
	for i := range val.Y {
		val.Y[i] += 0.3
	}
	withNaN := lossCurve(100)
	withNaN.Name = "diverged"
	for i := 40; i < 50; i++ {
		withNaN.Y[i] = nan
	}
	withNaN.Y[60] = math.Inf(1)
	withNaN.Y[62] = math.Inf(-1) // leaves a lone point at x=61

	cases := []struct {
		name   string
		series []Series
	}{
		{"two series", []Series{lossCurve(100), val}},
		{"NaN and Inf break the line", []Series{withNaN}},
		{"empty series is skipped", []Series{{Name: "empty"}, lossCurve(10)}},
		{"all-NaN series is skipped", []Series{{Name: "nan", X: []float64{0, 1}, Y: []float64{nan, nan}}, lossCurve(10)}},
		{"single point", []Series{{Name: "one", X: []float64{3}, Y: []float64{0.5}}}},
		{"unnamed series", []Series{{X: []float64{0, 1}, Y: []float64{1, 0}}}},
		{"constant", []Series{{Name: "flat", X: []float64{0, 1, 2}, Y: []float64{1, 1, 1}}}},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".png")
			if err := LinePlot(path, "SimCLR loss", "step", "loss", c.series...); err != nil {
				t.Fatal(err)
			}
			b := decodePNG(t, path).Bounds()
			if b.Dx() != LineWidth || b.Dy() != LineHeight {
				t.Errorf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), LineWidth, LineHeight)
			}
		})
	}
	assertNoTemp(t, dir)
}

func TestLinePlotErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name   string
		path   string
		series []Series
		want   string
		noData bool
	}{
		{name: "no series", series: nil, want: "no finite data", noData: true},
		{name: "only empty series", series: []Series{{Name: "a"}, {Name: "b"}}, want: "no finite data", noData: true},
		{name: "only NaN", series: []Series{{Name: "a", X: []float64{0}, Y: []float64{nan}}}, want: "no finite data", noData: true},
		{name: "length mismatch", series: []Series{{Name: "a", X: []float64{0, 1}, Y: []float64{1}}}, want: `series "a" has 2 x values but 1 y values`},
		{name: "missing directory", path: filepath.Join(dir, "nope", "x.png"), series: []Series{lossCurve(3)}, want: "does the directory exist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if path == "" {
				path = filepath.Join(dir, "out.png")
			}
			err := LinePlot(path, "t", "x", "y", c.series...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			if c.noData != errors.Is(err, ErrNoData) {
				t.Errorf("errors.Is(err, ErrNoData) = %v, want %v", !c.noData, c.noData)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("%s was created despite the error", path)
			}
		})
	}
	assertNoTemp(t, dir)
}

func TestConfusionMatrixPNG(t *testing.T) {
	cifar := []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
	counts := make([][]int, 10)
	for i := range counts {
		counts[i] = make([]int, 10)
		for j := range counts[i] {
			counts[i][j] = (i*7 + j*3) % 11
		}
		counts[i][i] = 700 + 20*i
	}
	big := make([]string, 40)
	bigCounts := make([][]int, 40)
	for i := range big {
		big[i] = "c" + string(rune('A'+i%26))
		bigCounts[i] = make([]int, 40)
		bigCounts[i][i] = 5
	}
	cases := []struct {
		name    string
		classes []string
		counts  [][]int
		side    int
	}{
		{"cifar10", cifar, counts, 800},
		{"two classes", []string{"no", "yes"}, [][]int{{5, 1}, {2, 7}}, 500},
		{"all zero", []string{"a", "b", "c"}, [][]int{{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}, 500},
		{"40 classes, no annotations", big, bigCounts, 2000},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".png")
			if err := ConfusionMatrixPNG(path, c.classes, c.counts); err != nil {
				t.Fatal(err)
			}
			b := decodePNG(t, path).Bounds()
			if b.Dx() != c.side || b.Dy() != c.side {
				t.Errorf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), c.side, c.side)
			}
		})
	}
	assertNoTemp(t, dir)
}

func TestConfusionMatrixErrors(t *testing.T) {
	cases := []struct {
		name    string
		classes []string
		counts  [][]int
		want    string
	}{
		{"no classes", nil, nil, "no classes"},
		{"too few rows", []string{"a", "b"}, [][]int{{1, 2}}, "1 rows for 2 classes"},
		{"ragged row", []string{"a", "b"}, [][]int{{1, 2}, {3}}, "row 1 (b) has 1 columns"},
		{"negative", []string{"a", "b"}, [][]int{{1, 2}, {-3, 4}}, "[1][0] is negative"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ConfusionMatrixPNG(filepath.Join(dir, "cm.png"), c.classes, c.counts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
	assertNoTemp(t, dir)
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func BenchmarkLinePlot(b *testing.B) {
	path := filepath.Join(b.TempDir(), "loss.png")
	s := lossCurve(10000)
	for b.Loop() {
		if err := LinePlot(path, "loss", "step", "loss", s); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCharts: charts stacked in one PNG, one LineHeight each; a chart with nothing to draw fails.
func TestCharts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "linear.png")
	acc := lossCurve(30)
	for i := range acc.Y {
		acc.Y[i] = 100 - acc.Y[i]
	}
	if err := Charts(path, Chart{"loss", "epoch", "loss", []Series{lossCurve(30)}}, Chart{"accuracy", "epoch", "%", []Series{acc}}); err != nil {
		t.Fatal(err)
	}
	if b := decodePNG(t, path).Bounds(); b.Dx() != LineWidth || b.Dy() != 2*LineHeight {
		t.Errorf("size %v, want %dx%d", b.Size(), LineWidth, 2*LineHeight)
	}
	empty := Series{Name: "nan", X: []float64{1}, Y: []float64{nan}}
	if err := Charts(path, Chart{"loss", "epoch", "loss", []Series{lossCurve(3)}}, Chart{"acc", "epoch", "%", []Series{empty}}); !errors.Is(err, ErrNoData) {
		t.Errorf("a chart without data: %v, want ErrNoData", err)
	}
	if err := Charts(path); !errors.Is(err, ErrNoData) {
		t.Errorf("no charts: %v, want ErrNoData", err)
	}
}
