// The run panels: curves that follow metrics.jsonl as it grows, the run's
// settings, and augmented pairs of its data.
package view

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vkclr/vkclr/train"
	"github.com/vkclr/vkclr/train/augment"
	"github.com/vkclr/vkclr/train/data"
)

// runView follows one run folder.
type runView struct {
	dir      string
	cfg      train.Config
	settings []string // "key: value" lines of config.json
	recs     []train.Record
	off      int64  // bytes of metrics.jsonl parsed so far
	partial  []byte // a last line still being written
	badLines int

	ds       *data.Dataset // the run's training data, for the augmented pairs (nil: see dsErr)
	dsErr    string
	aug      augment.Config
	pairs    *image.RGBA
	pairsKey [3]int // epoch, width, height the pairs were drawn for
}

// openRun checks that dir is a run folder and reads what it holds so far.
func openRun(dir string) (*runView, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not a run folder: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a run folder (a file, not a folder); 'vkclr train --out DIR' makes one", dir)
	}
	cfgPath := filepath.Join(dir, train.ConfigFile)
	if _, err := os.Stat(cfgPath); err != nil {
		return nil, fmt.Errorf("%s is not a run folder: it has no %s ('vkclr train --out DIR' writes one when a run starts)", dir, train.ConfigFile)
	}
	cfg, err := train.ReadConfig(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("%s is not a readable run folder: %w", dir, err)
	}
	r := &runView{dir: dir, cfg: cfg, settings: settingLines(cfg)}
	if _, err := r.poll(); err != nil {
		return nil, err
	}
	r.aug, err = cfg.AugmentConfig()
	if err != nil {
		r.dsErr = fmt.Sprintf("augmentation %q: %v", cfg.Augment, err)
		return r, nil
	}
	// The views are a picture, not the run: a missing dataset is said in the panel, not fatal.
	ds, err := data.Load(cfg.Data, cfg.DataDir, "train")
	if err != nil {
		r.dsErr = strings.SplitN(err.Error(), "\n", 2)[0]
		return r, nil
	}
	if cfg.Subset > 0 && cfg.Subset < ds.N {
		ds = ds.Subset(cfg.Subset)
	}
	r.ds = ds
	return r, nil
}

// settingLines flattens config.json into sorted "key: value" lines.
func settingLines(cfg train.Config) []string {
	b, _ := json.Marshal(cfg)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if mm, ok := v.(map[string]any); ok {
			for k, x := range mm {
				walk(prefix+k+".", x)
			}
			return
		}
		if s, ok := v.(string); ok && s == "" {
			v = `""`
		}
		out = append(out, fmt.Sprintf("%s: %v", strings.TrimSuffix(prefix, "."), v))
	}
	walk("", m)
	sort.Strings(out)
	return out
}

// poll reads what metrics.jsonl gained since the last call; it reports
// whether there is something new to draw. A file that shrank (a new run in
// the same folder) is read again from the start.
func (r *runView) poll() (bool, error) {
	f, err := os.Open(filepath.Join(r.dir, train.MetricsFile))
	if os.IsNotExist(err) {
		return false, nil // no step logged yet
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if st.Size() == r.off {
		return false, nil
	}
	if st.Size() < r.off {
		r.recs, r.off, r.partial, r.badLines = nil, 0, nil, 0
	}
	if _, err := f.Seek(r.off, io.SeekStart); err != nil {
		return false, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return false, err
	}
	r.off += int64(len(b))
	b = append(r.partial, b...)
	last := bytes.LastIndexByte(b, '\n')
	r.partial = append([]byte(nil), b[last+1:]...)
	sc := bufio.NewScanner(bytes.NewReader(b[:last+1]))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var rec train.Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			r.badLines++
			continue
		}
		r.recs = append(r.recs, rec)
	}
	return true, nil
}

// Curve is one metric against step, as the curves panel draws it.
type Curve struct {
	Name string
	X, Y []float64
}

// Curves extracts the four plotted metrics from metrics.jsonl records: the
// step loss, the learning rate and the contrastive accuracy (%) of "step"
// lines, and the kNN top-1 accuracy (%) of "epoch" lines that carry one.
func Curves(recs []train.Record) [4]Curve {
	c := [4]Curve{{Name: "NT-Xent loss"}, {Name: "learning rate"}, {Name: "contrastive accuracy %"}, {Name: "kNN top-1 %"}}
	add := func(i int, x, y float64) {
		if !math.IsNaN(y) && !math.IsInf(y, 0) {
			c[i].X, c[i].Y = append(c[i].X, x), append(c[i].Y, y)
		}
	}
	for _, r := range recs {
		switch r.Kind {
		case "step":
			add(0, float64(r.Step), r.Loss)
			add(1, float64(r.Step), r.LR)
			add(2, float64(r.Step), 100*r.Acc)
		case "epoch":
			if v, ok := r.Extra["knn_top1"]; ok {
				add(3, float64(r.Step), 100*v)
			}
		}
	}
	return c
}

// XRange is the step axis shared by the four charts: 0 to the last step.
func XRange(c [4]Curve) (lo, hi float64) {
	for _, s := range c {
		for _, x := range s.X {
			hi = max(hi, x)
		}
	}
	if hi <= 0 {
		hi = 1
	}
	return 0, hi
}

// YRange is a chart's value axis: the data's minimum to its maximum (one unit
// either side of a constant).
func YRange(y []float64) (lo, hi float64) {
	if len(y) == 0 {
		return 0, 1
	}
	lo, hi = y[0], y[0]
	for _, v := range y {
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	return lo, hi
}

// Plot maps a data point to a pixel of plot area a: x from a.Min.X (lo) to
// a.Max.X-1 (hi), y from a.Max.Y-1 (lo) up to a.Min.Y (hi), rounded.
func Plot(a image.Rectangle, xlo, xhi, ylo, yhi, x, y float64) image.Point {
	px := float64(a.Min.X) + (x-xlo)/(xhi-xlo)*float64(a.Dx()-1)
	py := float64(a.Max.Y-1) - (y-ylo)/(yhi-ylo)*float64(a.Dy()-1)
	return image.Pt(int(math.Round(px)), int(math.Round(py)))
}

// headerH is the height of the title bar of every panel.
const headerH = 24

// ChartAreas are the plot areas (inside the axes) of the four charts of a
// w x h curves panel, in Curves' order, laid out 2 x 2.
func ChartAreas(w, h int) [4]image.Rectangle {
	var out [4]image.Rectangle
	cw, ch := w/2, (h-headerH)/2
	for i := range 4 {
		x0, y0 := (i%2)*cw, headerH+(i/2)*ch
		out[i] = image.Rect(x0+70, y0+26, x0+cw-16, y0+ch-26)
	}
	return out
}

func header(img *image.RGBA, title, keys string) {
	w := img.Rect.Dx()
	fillRect(img, image.Rect(0, 0, w, headerH), colHeader)
	text(img, 8, 5, title, colText, w-16-len(keys)*charW)
	text(img, w-8-len(keys)*charW, 5, keys, colDim, 0)
}

// status is the one-line state of the run shown in the header.
func (r *runView) status() string {
	s := fmt.Sprintf("run %s", r.dir)
	for i := len(r.recs) - 1; i >= 0; i-- {
		if rec := r.recs[i]; rec.Kind == "step" {
			s += fmt.Sprintf("  step %d  epoch %d  loss %.4f", rec.Step, rec.Epoch, rec.Loss)
			break
		}
	}
	if len(r.recs) == 0 {
		s += "  (no metrics yet)"
	}
	return s
}

func fmtTick(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case a >= 1e4 || a < 1e-2:
		return fmt.Sprintf("%.2g", v)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// drawCurves composes the curves panel.
func (r *runView) drawCurves(img *image.RGBA, keys string) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	fillRect(img, img.Rect, colBackground)
	header(img, r.status(), keys)
	curves := Curves(r.recs)
	xlo, xhi := XRange(curves)
	for i, a := range ChartAreas(w, h) {
		if a.Dx() < 8 || a.Dy() < 8 {
			continue
		}
		c := curves[i]
		frameRect(img, a.Inset(-1), colFrame)
		text(img, a.Min.X, a.Min.Y-19, c.Name, colText, a.Dx())
		ylo, yhi := YRange(c.Y)
		if len(c.Y) == 0 {
			msg := "no data yet"
			if i == 3 {
				msg = "no kNN evaluation (train --eval-every N)"
			}
			text(img, a.Min.X+8, a.Min.Y+a.Dy()/2-7, msg, colDim, a.Dx()-16)
			continue
		}
		for _, t := range []struct {
			v float64
			y int
		}{{yhi, a.Min.Y - 6}, {ylo, a.Max.Y - 8}} {
			s := fmtTick(t.v)
			text(img, a.Min.X-6-len(s)*charW, t.y, s, colDim, 0)
		}
		text(img, a.Min.X, a.Max.Y+4, "0", colDim, 0)
		s := fmt.Sprintf("step %d", int(xhi))
		text(img, a.Max.X-len(s)*charW, a.Max.Y+4, s, colDim, 0)
		prev := Plot(a, xlo, xhi, ylo, yhi, c.X[0], c.Y[0])
		for j := range c.X {
			p := Plot(a, xlo, xhi, ylo, yhi, c.X[j], c.Y[j])
			line(img, prev.X, prev.Y, p.X, p.Y, colCurves[i])
			prev = p
		}
	}
}

// drawSettings composes the settings-and-views panel: config.json on the
// left, images beside their two augmented views (at the run's current
// epoch) on the right.
func (r *runView) drawSettings(img *image.RGBA, keys string) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	fillRect(img, img.Rect, colBackground)
	header(img, "settings and augmented views of "+r.dir, keys)
	const colW = 300
	y := headerH + 8
	for _, s := range r.settings {
		if y+lineH > h {
			break
		}
		text(img, 8, y, s, colText, colW-16)
		y += lineH
	}
	x0, y0 := colW, headerH+8
	if r.ds == nil {
		text(img, x0, y0, "augmented views unavailable:", colText, w-x0-8)
		text(img, x0, y0+lineH, r.dsErr, colDim, w-x0-8)
		return
	}
	epoch := 0
	if n := len(r.recs); n > 0 {
		epoch = max(r.recs[n-1].Epoch-1, 0) // records count epochs from 1
	}
	text(img, x0, y0, fmt.Sprintf("image, view 1, view 2 (%s, epoch %d): %s", r.cfg.Data, epoch+1, r.aug), colText, w-x0-8)
	if key := [3]int{epoch, w, h}; r.pairs == nil || r.pairsKey != key {
		S := r.aug.Size
		z := max(1, 64/S)
		cellW := 3*S*z + 4 + 10
		cols := max(1, (w-x0)/cellW)
		rows := max(1, (h-y0-lineH-10)/(S*z+10))
		n := min(cols*rows, r.ds.N)
		r.pairs = augment.PairsGrid(r.ds, r.aug, 0, n, cols, r.cfg.Seed, epoch, z)
		r.pairsKey = key
	}
	b := r.pairs.Bounds()
	draw.Draw(img, image.Rect(x0-10, y0+lineH, x0-10+b.Dx(), y0+lineH+b.Dy()), r.pairs, b.Min, draw.Src)
}
