// Package plot writes the trainer's PNG charts: loss and accuracy curves,
// and the evaluation's confusion matrix. It is a thin layer over
// gonum.org/v1/plot that fixes sizes and styles and tolerates bad data.
package plot

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"

	"github.com/vkclr/vkclr/internal/diskio"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Image sizes in pixels.
const (
	LineWidth  = 800
	LineHeight = 500
	dpi        = 96
)

// ErrNoData is returned (wrapped) when nothing plottable is left.
var ErrNoData = errors.New("plot: no finite data points")

// Series is one named curve. X and Y must have the same length.
type Series struct {
	Name string
	X, Y []float64
}

// LinePlot draws series as lines on one chart and writes it to path as a
// LineWidth x LineHeight PNG. Points whose X or Y is NaN or infinite are
// skipped and break the line there, so a diverged loss shows as a gap
// instead of failing the run. Series with no finite points are left out; if
// none is left, it returns ErrNoData.
func LinePlot(path, title, xlabel, ylabel string, series ...Series) error {
	p, err := linePlot(path, title, xlabel, ylabel, series)
	if err != nil {
		return err
	}
	return savePNG(p, path, LineWidth, LineHeight)
}

// Chart is one line chart of Charts.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
}

// Charts draws each chart as LinePlot does, stacked top to bottom in one PNG of LineWidth x
// LineHeight per chart. A chart with no finite data fails the whole image (ErrNoData).
func Charts(path string, charts ...Chart) error {
	if len(charts) == 0 {
		return fmt.Errorf("plot: %s: %w: no charts", path, ErrNoData)
	}
	ps := make([][]*gplot.Plot, len(charts))
	for i, ch := range charts {
		p, err := linePlot(path, ch.Title, ch.XLabel, ch.YLabel, ch.Series)
		if err != nil {
			return err
		}
		ps[i] = []*gplot.Plot{p}
	}
	c := vgimg.NewWith(
		vgimg.UseWH(vg.Length(LineWidth)*vg.Inch/dpi, vg.Length(LineHeight*len(charts))*vg.Inch/dpi),
		vgimg.UseDPI(dpi),
		vgimg.UseBackgroundColor(color.White),
	)
	m := vg.Points(8)
	dc := draw.Crop(draw.New(c), m, -m, m, -m)
	tiles := draw.Tiles{Rows: len(charts), Cols: 1, PadY: vg.Points(16)}
	for i, cs := range gplot.Align(ps, tiles, dc) {
		ps[i][0].Draw(cs[0])
	}
	return writePNG(c, path)
}

// linePlot builds LinePlot's chart.
func linePlot(path, title, xlabel, ylabel string, series []Series) (*gplot.Plot, error) {
	p := gplot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true

	drawn := 0
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plot: %s: series %q has %d x values but %d y values; pass one x per y", path, s.Name, len(s.X), len(s.Y))
		}
		runs := finiteRuns(s.X, s.Y)
		if len(runs) == 0 {
			continue
		}
		c := plotutil.Color(i)
		var legend gplot.Thumbnailer
		for _, run := range runs {
			if len(run) == 1 {
				// A lone point has no line to draw; mark it instead.
				sc, err := plotter.NewScatter(run)
				if err != nil {
					return nil, fmt.Errorf("plot: %s: series %q: %w", path, s.Name, err)
				}
				sc.GlyphStyle.Color = c
				sc.GlyphStyle.Shape = draw.CircleGlyph{}
				p.Add(sc)
				if legend == nil {
					legend = sc
				}
				continue
			}
			l, err := plotter.NewLine(run)
			if err != nil {
				return nil, fmt.Errorf("plot: %s: series %q: %w", path, s.Name, err)
			}
			l.LineStyle.Color = c
			l.LineStyle.Width = vg.Points(1.5)
			p.Add(l)
			if legend == nil {
				legend = l
			}
		}
		if s.Name != "" {
			p.Legend.Add(s.Name, legend)
		}
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("plot: %s: %w in %d series; check the metrics being logged", path, ErrNoData, len(series))
	}
	return p, nil
}

// finiteRuns splits the points into maximal runs of finite (x, y) pairs.
func finiteRuns(x, y []float64) []plotter.XYs {
	var runs []plotter.XYs
	var cur plotter.XYs
	for i := range x {
		if finite(x[i]) && finite(y[i]) {
			cur = append(cur, plotter.XY{X: x[i], Y: y[i]})
			continue
		}
		if len(cur) > 0 {
			runs = append(runs, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		runs = append(runs, cur)
	}
	return runs
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// savePNG renders p at w x h pixels and replaces path with it. The file is
// written under a temporary name and renamed, so an image viewer watching a
// chart that the trainer redraws every epoch never sees half a PNG.
func savePNG(p *gplot.Plot, path string, w, h int) error {
	c := vgimg.NewWith(
		vgimg.UseWH(vg.Length(w)*vg.Inch/dpi, vg.Length(h)*vg.Inch/dpi),
		vgimg.UseDPI(dpi),
		vgimg.UseBackgroundColor(color.White),
	)
	// A small margin keeps the title and edge tick labels off the border.
	m := vg.Points(8)
	p.Draw(draw.Crop(draw.New(c), m, -m, m, -m))
	return writePNG(c, path)
}

// writePNG encodes a rendered canvas and replaces path with it.
func writePNG(c *vgimg.Canvas, path string) error {
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return fmt.Errorf("plot: %s: encode PNG: %w", path, err)
	}
	if err := diskio.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}
