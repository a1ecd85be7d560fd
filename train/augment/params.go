// Random parameters of one view, sampled as torchvision samples them.
package augment

import "math"

// Jitter operations, numbered as torchvision's ColorJitter fn_idx.
const (
	opBrightness = iota
	opContrast
	opSaturation
	opHue
)

// Params are the random choices behind one view; View applies them.
type Params struct {
	Top, Left, CropH, CropW int // crop box in the source image

	Flip bool

	Jitter                                bool
	Order                                 [4]int // brightness, contrast, saturation, hue as 0..3
	Brightness, Contrast, Saturation, Hue float64

	Gray bool

	Blur  bool
	Sigma float64
}

// Params samples the parameters of a view of an h x w image with c channels;
// they depend only on (seed, epoch, index, view).
func (c Config) Params(h, w, ch int, seed uint64, epoch, index, view int) Params {
	r := newRNG(seed, epoch, index, view)
	var p Params
	p.Top, p.Left, p.CropH, p.CropW = cropParams(&r, h, w, c.ScaleMin, c.ScaleMax, c.RatioMin, c.RatioMax)
	p.Flip = r.float64() < c.FlipP

	// Every draw happens whether or not it is used, so one parameter's
	// probability does not shift the others' streams.
	p.Jitter = r.float64() < c.JitterP
	p.Order = [4]int{0, 1, 2, 3}
	for i := 3; i > 0; i-- {
		j := r.intn(i + 1)
		p.Order[i], p.Order[j] = p.Order[j], p.Order[i]
	}
	p.Brightness = r.uniform(max(0, 1-c.Brightness), 1+c.Brightness)
	p.Contrast = r.uniform(max(0, 1-c.Contrast), 1+c.Contrast)
	p.Saturation = r.uniform(max(0, 1-c.Saturation), 1+c.Saturation)
	p.Hue = r.uniform(-c.Hue, c.Hue)
	p.Gray = r.float64() < c.GrayP
	p.Blur = r.float64() < c.BlurP && c.Blur
	p.Sigma = r.uniform(c.BlurSigmaMin, c.BlurSigmaMax)
	if ch == 1 { // color operations that mean nothing for one channel
		p.Gray = false
	}
	return p
}

// randSource is what cropParams draws from: an rng, or in tests the values
// a torchvision run drew.
type randSource interface {
	uniform(a, b float64) float64
	intn(n int) int
}

// cropParams is torchvision's RandomResizedCrop.get_params: ten tries of an
// area fraction uniform in [smin, smax] and a log-uniform aspect ratio, then
// a center crop clamped to the ratio range.
func cropParams(r randSource, h, w int, smin, smax, rmin, rmax float64) (top, left, ch, cw int) {
	area := float64(h * w)
	lrmin, lrmax := math.Log(rmin), math.Log(rmax)
	for range 10 {
		target := area * r.uniform(smin, smax)
		ratio := math.Exp(r.uniform(lrmin, lrmax))
		// Python's round() rounds halves to even.
		cw = int(math.RoundToEven(math.Sqrt(target * ratio)))
		ch = int(math.RoundToEven(math.Sqrt(target / ratio)))
		if 0 < cw && cw <= w && 0 < ch && ch <= h {
			top = r.intn(h - ch + 1)
			left = r.intn(w - cw + 1)
			return top, left, ch, cw
		}
	}
	inRatio := float64(w) / float64(h)
	switch {
	case inRatio < rmin:
		cw = w
		ch = int(math.RoundToEven(float64(cw) / rmin))
	case inRatio > rmax:
		ch = h
		cw = int(math.RoundToEven(float64(ch) * rmax))
	default:
		cw, ch = w, h
	}
	return (h - ch) / 2, (w - cw) / 2, ch, cw
}
