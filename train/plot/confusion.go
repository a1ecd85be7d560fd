// ConfusionMatrixPNG: the evaluation's confusion matrix as a heat map.

package plot

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// n classes; counts[i][j] is how many samples of true class i were predicted
// as class j.

// Above this many classes the per-cell counts would not fit, so only the
// colors are drawn.
const maxAnnotatedClasses = 30

// ConfusionMatrixPNG draws counts as a heat map with true classes down the
// side (first class at the top) and predicted classes along the bottom, and
// writes it to path as a square PNG. Cell color is the share of the true
// class's samples (row-normalized, so rare classes are as visible as common
// ones); each cell is labelled with its raw count when there are at most 30
// classes. The title gives the overall accuracy.
func ConfusionMatrixPNG(path string, classes []string, counts [][]int) error {
	n := len(classes)
	if n == 0 {
		return fmt.Errorf("plot: %s: confusion matrix with no classes: %w", path, ErrNoData)
	}
	if len(counts) != n {
		return fmt.Errorf("plot: %s: confusion matrix has %d rows for %d classes; pass one row per true class", path, len(counts), n)
	}
	var total, correct int
	rowSum := make([]int, n)
	for i, row := range counts {
		if len(row) != n {
			return fmt.Errorf("plot: %s: confusion matrix row %d (%s) has %d columns for %d classes", path, i, classes[i], len(row), n)
		}
		for j, c := range row {
			if c < 0 {
				return fmt.Errorf("plot: %s: confusion matrix cell [%d][%d] is negative (%d); counts must be >= 0", path, i, j, c)
			}
			rowSum[i] += c
		}
		total += rowSum[i]
		correct += row[i]
	}

	g := confusionGrid{counts: counts, rowSum: rowSum}
	p := gplot.New()
	if total > 0 {
		p.Title.Text = fmt.Sprintf("Confusion matrix: accuracy %.2f%% of %d (color: share of true class)",
			100*float64(correct)/float64(total), total)
	} else {
		p.Title.Text = "Confusion matrix: no samples"
	}
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"

	hm := plotter.NewHeatMap(g, blues{})
	hm.Min, hm.Max = 0, 1
	p.Add(hm)

	xt := make([]gplot.Tick, n)
	yt := make([]gplot.Tick, n)
	for i, name := range classes {
		xt[i] = gplot.Tick{Value: float64(i), Label: name}
		yt[i] = gplot.Tick{Value: g.Y(n - 1 - i), Label: name}
	}
	p.X.Tick.Marker = gplot.ConstantTicks(xt)
	p.Y.Tick.Marker = gplot.ConstantTicks(yt)
	if n > 5 {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}

	if n <= maxAnnotatedClasses {
		var xys plotter.XYs
		var labels []string
		for c := range n {
			for r := range n {
				xys = append(xys, plotter.XY{X: g.X(c), Y: g.Y(r)})
				labels = append(labels, strconv.Itoa(g.count(c, r)))
			}
		}
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return fmt.Errorf("plot: %s: %w", path, err)
		}
		for i := range l.TextStyle {
			l.TextStyle[i].XAlign = draw.XCenter
			l.TextStyle[i].YAlign = draw.YCenter
			// Light text on dark cells so every count stays readable.
			if g.Z(i/n, i%n) > 0.5 {
				l.TextStyle[i].Color = color.White
			}
			if n > 15 {
				l.TextStyle[i].Font.Size = vg.Points(7)
			}
		}
		p.Add(l)
	}

	side := min(max(60*n+200, 500), 2000)
	return savePNG(p, path, side, side)
}

// confusionGrid adapts counts to plotter.GridXYZ: column c is predicted
// class c, row r is true class n-1-r so the first class is drawn on top.
type confusionGrid struct {
	counts [][]int
	rowSum []int
}

func (g confusionGrid) Dims() (c, r int)   { return len(g.counts), len(g.counts) }
func (g confusionGrid) X(c int) float64    { return float64(c) }
func (g confusionGrid) Y(r int) float64    { return float64(r) }
func (g confusionGrid) count(c, r int) int { return g.counts[len(g.counts)-1-r][c] }

func (g confusionGrid) Z(c, r int) float64 {
	s := g.rowSum[len(g.counts)-1-r]
	if s == 0 {
		return 0
	}
	return float64(g.count(c, r)) / float64(s)
}

// blues is a sequential white-to-dark-blue palette (ColorBrewer "Blues"
// endpoints), easier to read for shares in [0, 1] than a rainbow.
type blues struct{}

func (blues) Colors() []color.Color {
	lo := [3]float64{247, 251, 255}
	hi := [3]float64{8, 48, 107}
	const steps = 256
	cs := make([]color.Color, steps)
	for i := range cs {
		t := float64(i) / (steps - 1)
		var c [3]uint8
		for k := range c {
			c[k] = uint8(math.Round(lo[k] + t*(hi[k]-lo[k])))
		}
		cs[i] = color.RGBA{c[0], c[1], c[2], 255}
	}
	return cs
}
