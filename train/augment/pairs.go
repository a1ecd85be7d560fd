// PairsGrid: a picture of images beside their two augmented views.
package augment

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/vkclr/vkclr/train/data"
)

// PairsGrid draws images first..first+n-1 as triplets (original, view 0,
// view 1) in cols columns (0: a near-square grid), each tile zoomed z times
// with nearest-neighbor pixels: what the network trains on, for `vkclr
// augment` and the viewer.
func PairsGrid(d *data.Dataset, cfg Config, first, n, cols int, seed uint64, epoch, z int) *image.RGBA {
	S := cfg.Size
	tile := S * z
	const gap, cellGap = 2, 10
	if cols <= 0 {
		cols = int(math.Ceil(math.Sqrt(float64(n))))
	}
	rows := (n + cols - 1) / cols
	cellW := 3*tile + 2*gap
	W := cols*cellW + (cols+1)*cellGap
	H := rows*tile + (rows+1)*cellGap
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	buf := make([]float32, S*S*d.C)
	for k := range n {
		idx := first + k
		x0 := cellGap + (k%cols)*(cellW+cellGap)
		y0 := cellGap + (k/cols)*(tile+cellGap)
		for t := range 3 {
			if t == 0 {
				cfg.Plain(buf, d, idx, d.C)
			} else {
				cfg.View(buf, d, idx, seed, epoch, t-1, d.C)
			}
			drawTile(img, buf, d, S, z, x0+t*(tile+gap), y0)
		}
	}
	return img
}

// drawTile undoes the normalization of one (S, S, C) view and draws it.
func drawTile(img *image.RGBA, v []float32, d *data.Dataset, S, z, x0, y0 int) {
	for y := range S * z {
		for x := range S * z {
			p := ((y/z)*S + x/z) * d.C
			var c color.RGBA
			if d.C == 1 {
				g := to8(d, v[p], 0)
				c = color.RGBA{g, g, g, 255}
			} else {
				c = color.RGBA{to8(d, v[p], 0), to8(d, v[p+1], 1), to8(d, v[p+2], 2), 255}
			}
			img.SetRGBA(x0+x, y0+y, c)
		}
	}
}

// to8 undoes the normalization of one value of channel ch.
func to8(d *data.Dataset, x float32, ch int) uint8 {
	x = x*d.Std[ch] + d.Mean[ch]
	return uint8(math.Round(float64(min(max(x, 0), 1)) * 255))
}

// Thumbnails returns every image as (N, S, S, C) bytes: the images
// themselves when they are S x S already, else Resize(S) + CenterCrop(S)
// as evaluation sees them (variable-size image folders).
func Thumbnails(d *data.Dataset, S int) ([]uint8, error) {
	if d.Dims == nil && d.H == S && d.W == S {
		return d.Images, nil
	}
	cfg, err := Preset(fmt.Sprintf("none,size=%d", S))
	if err != nil {
		return nil, err
	}
	n := S * S * d.C
	out := make([]uint8, d.N*n)
	buf := make([]float32, n)
	for i := range d.N {
		cfg.Plain(buf, d, i, d.C)
		for j, x := range buf {
			out[i*n+j] = to8(d, x, j%d.C)
		}
	}
	return out, nil
}
