// Drawing on a host image: rectangles, lines, text, zoomed thumbnails.
package view

import (
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Colours of the viewer (light theme, like the PNG plots of a run folder).
var (
	colBackground = color.RGBA{250, 250, 250, 255}
	colText       = color.RGBA{30, 30, 30, 255}
	colDim        = color.RGBA{110, 110, 110, 255}
	colFrame      = color.RGBA{190, 190, 190, 255}
	colHeader     = color.RGBA{228, 232, 240, 255}
	colQuery      = color.RGBA{214, 39, 40, 255}
	colNeighbour  = color.RGBA{31, 119, 180, 255}
	// Curve colours: loss, learning rate, contrastive accuracy, kNN accuracy.
	colCurves = [4]color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}}
)

// face is the text font: 7x13 pixels, ascent 11.
var face = basicfont.Face7x13

const (
	charW = 7
	lineH = 14
)

func fillRect(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r, &image.Uniform{c}, image.Point{}, draw.Src)
}

// frameRect draws r's one-pixel outline.
func frameRect(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	fillRect(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), c)
	fillRect(img, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), c)
	fillRect(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), c)
	fillRect(img, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), c)
}

// line draws a one-pixel line from (x0, y0) to (x1, y1), both ends included (Bresenham).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		if (image.Point{x0, y0}).In(img.Rect) {
			img.SetRGBA(x0, y0, c)
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// text draws s with its top-left corner at (x, y), cut at maxW pixels (0: no limit).
func text(img *image.RGBA, x, y int, s string, c color.RGBA, maxW int) {
	if maxW > 0 && len(s)*charW > maxW {
		n := max(maxW/charW-1, 0)
		if n < len(s) {
			s = s[:n] + "~"
		}
	}
	d := font.Drawer{Dst: img, Src: &image.Uniform{c}, Face: face, Dot: fixed.P(x, y+face.Ascent)}
	d.DrawString(s)
}

// thumb draws an (H, W, C) uint8 image at (x, y), each pixel as a z x z block, clipped to img.
func thumb(img *image.RGBA, pix []uint8, h, w, ch, x, y, z int) {
	b := img.Rect
	for oy := max(y, b.Min.Y); oy < min(y+h*z, b.Max.Y); oy++ {
		row := pix[((oy-y)/z)*w*ch:]
		for ox := max(x, b.Min.X); ox < min(x+w*z, b.Max.X); ox++ {
			p := row[((ox-x)/z)*ch:]
			d := img.Pix[img.PixOffset(ox, oy):]
			if ch >= 3 {
				d[0], d[1], d[2] = p[0], p[1], p[2]
			} else {
				d[0], d[1], d[2] = p[0], p[0], p[0]
			}
			d[3] = 255
		}
	}
}
