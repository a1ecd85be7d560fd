// One view: crop and resize, flip, color jitter, grayscale, blur, normalize.
package augment

import (
	"fmt"
	"math"
	"sync"

	"github.com/vkclr/vkclr/train/data"
)

// scratch holds one worker's temporary buffers, reused across views.
type scratch struct {
	img, tmp []float32 // (S, S, C) and the resampling / blur intermediate
	fx, fy   filter
	kern     []float32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// View writes view number view (0 or 1) of image idx to dst as normalized
// (S, S, outC) float32, channels beyond d.C set to zero. Its random
// parameters depend only on (seed, epoch, idx, view). It panics when dst is
// shorter than S*S*outC or outC < d.C.
func (c Config) View(dst []float32, d *data.Dataset, idx int, seed uint64, epoch, view int, outC int) {
	s := scratchPool.Get().(*scratch)
	c.view(s, dst, d, idx, seed, epoch, view, outC)
	scratchPool.Put(s)
}

func (c Config) view(s *scratch, dst []float32, d *data.Dataset, idx int, seed uint64, epoch, view int, outC int) {
	h, w := d.ImageSize(idx)
	p := c.Params(h, w, d.C, seed, epoch, idx, view)
	c.render(s, dst, d, idx, p, outC)
}

// Plain writes image idx as torchvision's Resize(S) + CenterCrop(S) makes
// it (the shorter side scaled to S, then the central S x S), normalized,
// without augmentation: for evaluation.
func (c Config) Plain(dst []float32, d *data.Dataset, idx int, outC int) {
	c.PlainFlip(dst, d, idx, outC, false)
}

// PlainFlip is Plain, mirrored horizontally when flip is set (test-time flips).
func (c Config) PlainFlip(dst []float32, d *data.Dataset, idx int, outC int, flip bool) {
	h, w := d.ImageSize(idx)
	S := c.Size
	rh, rw := ResizeShorter(h, w, S)
	// CenterCrop: Python's int(round((size - S) / 2.0)), halves to even.
	top := int(math.RoundToEven(float64(rh-S) / 2))
	left := int(math.RoundToEven(float64(rw-S) / 2))
	s := scratchPool.Get().(*scratch)
	makeFilterRange(&s.fx, 0, w, rw, left, S, flip)
	makeFilterRange(&s.fy, 0, h, rh, top, S, false)
	c.finish(s, dst, d, idx, Params{}, outC)
	scratchPool.Put(s)
}

// ResizeShorter returns the size torchvision's Resize(side) gives an h x w
// image: the shorter side becomes side, the longer int(side * long / short).
func ResizeShorter(h, w, side int) (rh, rw int) {
	if w <= h {
		return int(float64(side) * float64(h) / float64(w)), side
	}
	return side, int(float64(side) * float64(w) / float64(h))
}

// Render applies given parameters to image idx; View and Plain call it with
// sampled or fixed ones, tests and tools with chosen ones.
func (c Config) Render(dst []float32, d *data.Dataset, idx int, p Params, outC int) {
	s := scratchPool.Get().(*scratch)
	c.render(s, dst, d, idx, p, outC)
	scratchPool.Put(s)
}

func (c Config) render(s *scratch, dst []float32, d *data.Dataset, idx int, p Params, outC int) {
	makeFilter(&s.fx, p.Left, p.CropW, c.Size, p.Flip)
	makeFilter(&s.fy, p.Top, p.CropH, c.Size, false)
	c.finish(s, dst, d, idx, p, outC)
}

// finish resamples image idx through the filters in s, then applies the
// color operations, blur and normalization of p.
func (c Config) finish(s *scratch, dst []float32, d *data.Dataset, idx int, p Params, outC int) {
	S, C := c.Size, d.C
	if outC < C || len(dst) < S*S*outC {
		panic(fmt.Sprintf("augment: view of %d channels into %d floats with %d output channels, want >= %d channels and %d floats",
			C, len(dst), outC, C, S*S*outC))
	}
	_, w := d.ImageSize(idx)
	lo, hi := rowRange(&s.fy)
	s.img = grow(s.img, S*S*C)
	s.tmp = grow(s.tmp, max(hi-lo, S)*S*C)
	img := s.img
	resample(img, d.Image(idx), w, C, &s.fy, &s.fx, lo, hi, s.tmp)

	if p.Jitter {
		for _, op := range p.Order {
			switch {
			case op == opBrightness && c.Brightness > 0:
				adjustBrightness(img, float32(p.Brightness))
			case op == opContrast && c.Contrast > 0:
				adjustContrast(img, C, float32(p.Contrast))
			case op == opSaturation && c.Saturation > 0 && C == 3:
				adjustSaturation(img, float32(p.Saturation))
			case op == opHue && c.Hue > 0 && C == 3:
				adjustHue(img, float32(p.Hue))
			}
		}
	}
	if p.Gray && C == 3 {
		toGray(img)
	}
	if p.Blur {
		k := c.blurKernel()
		if cap(s.kern) < k {
			s.kern = make([]float32, k)
		}
		s.kern = s.kern[:k]
		gaussianKernel(s.kern, p.Sigma)
		gaussianBlur(img, S, C, s.kern, s.tmp)
	}

	// Normalize: (x - mean) / std, written with the output channel stride.
	var scale, bias [4]float32
	for ch := range min(C, 4) {
		scale[ch] = 1 / d.Std[ch]
		bias[ch] = -d.Mean[ch] / d.Std[ch]
	}
	switch {
	case C == 3 && outC == 3:
		for i := 0; i < S*S*3; i += 3 {
			dst[i] = img[i]*scale[0] + bias[0]
			dst[i+1] = img[i+1]*scale[1] + bias[1]
			dst[i+2] = img[i+2]*scale[2] + bias[2]
		}
	case C == 3 && outC == 4:
		for px := range S * S {
			dst[4*px] = img[3*px]*scale[0] + bias[0]
			dst[4*px+1] = img[3*px+1]*scale[1] + bias[1]
			dst[4*px+2] = img[3*px+2]*scale[2] + bias[2]
			dst[4*px+3] = 0
		}
	default:
		for px := range S * S {
			o := dst[px*outC : (px+1)*outC]
			for ch := range C {
				o[ch] = (img[px*C+ch] - d.Mean[ch]) / d.Std[ch]
			}
			clear(o[C:])
		}
	}
}
