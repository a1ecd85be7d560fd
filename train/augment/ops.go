// The pixel operations of a view, on float32 (S, S, C) images in [0, 1].
// Each mirrors the torchvision tensor function named in its comment,
// including its clamping.
package augment

import (
	"math"

	rs "github.com/vkclr/vkclr/train/internal/resample"
)

// Grayscale weights (ITU-R 601-2 luma, as PIL's convert("L")).
const wR, wG, wB = 0.299, 0.587, 0.114

// filter is the resampling filter the views use (see package resample).
type filter = rs.Filter

func makeFilter(f *filter, off, n, out int, flip bool) { f.Make(off, n, out, flip) }

func makeFilterRange(f *filter, off, n, out, first, count int, flip bool) {
	f.MakeRange(off, n, out, first, count, flip)
}

func rowRange(f *filter) (lo, hi int) { return f.Rows() }

// resample is rs.Resample into [0, 1].
func resample(dst []float32, src []uint8, w, c int, fy, fx *filter, rowLo, rowHi int, tmp []float32) {
	rs.Resample(dst, src, w, c, fy, fx, rowLo, rowHi, tmp, 1.0/255)
}

func clamp01(v float32) float32 {
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

// adjustBrightness is F.adjust_brightness: img*f, clamped.
func adjustBrightness(img []float32, f float32) {
	for i, v := range img {
		img[i] = clamp01(v * f)
	}
}

// adjustContrast is F.adjust_contrast: blend with the mean of the grayscale image.
func adjustContrast(img []float32, c int, f float32) {
	var sum float64
	if c == 3 {
		for i := 0; i < len(img); i += 3 {
			sum += float64(wR*img[i] + wG*img[i+1] + wB*img[i+2])
		}
	} else {
		for _, v := range img {
			sum += float64(v)
		}
	}
	mean := float32(sum / float64(len(img)/c))
	off := (1 - f) * mean
	for i, v := range img {
		img[i] = clamp01(f*v + off)
	}
}

// adjustSaturation is F.adjust_saturation: blend each pixel with its gray value.
func adjustSaturation(img []float32, f float32) {
	for i := 0; i < len(img); i += 3 {
		g := (1 - f) * (wR*img[i] + wG*img[i+1] + wB*img[i+2])
		img[i] = clamp01(f*img[i] + g)
		img[i+1] = clamp01(f*img[i+1] + g)
		img[i+2] = clamp01(f*img[i+2] + g)
	}
}

// toGray is F.rgb_to_grayscale with three output channels.
func toGray(img []float32) {
	for i := 0; i < len(img); i += 3 {
		g := wR*img[i] + wG*img[i+1] + wB*img[i+2]
		img[i], img[i+1], img[i+2] = g, g, g
	}
}

// adjustHue is F.adjust_hue (RGB -> HSV, h = (h + shift) mod 1, HSV -> RGB)
// computed without leaving RGB: a hue rotation keeps the largest and smallest
// channel, so only the sector and the middle channel need computing. This
// equals torchvision's _rgb2hsv/_hsv2rgb (hueReference in the tests) since
// p = v(1-s) = min, q = v(1-sf) = v - (v-min)f, t = min + (v-min)f.
func adjustHue(img []float32, shift float32) {
	sh := 6 * shift
	for i := 0; i < len(img); i += 3 {
		r, g, b := img[i], img[i+1], img[i+2]
		v := max(r, g, b)
		m := min(r, g, b)
		cr := v - m
		if cr == 0 {
			continue // gray: hue undefined, torchvision leaves it
		}
		var h float32 // hue in sixths, in (-1, 5]
		switch {
		case v == r:
			h = (g - b) / cr
		case v == g:
			h = 2 + (b-r)/cr
		default:
			h = 4 + (r-g)/cr
		}
		h += sh
		for h < 0 {
			h += 6
		}
		// Channel n (R 5, G 3, B 1) is v - cr*clamp(min(k, 4-k), 0, 1)
		// with k = (n + h) mod 6: the sector table of _hsv2rgb, without branches.
		r = v - cr*trapezoid(h+5)
		g = v - cr*trapezoid(h+3)
		b = v - cr*trapezoid(h+1)
		img[i], img[i+1], img[i+2] = r, g, b
	}
}

// trapezoid returns clamp(min(k, 4-k), 0, 1) for k = x mod 6, x >= 0.
func trapezoid(x float32) float32 {
	k := x - 6*float32(int(x*(1.0/6)))
	return min(max(min(k, 4-k), 0), 1)
}

// gaussianKernel is torchvision's _get_gaussian_kernel1d.
func gaussianKernel(k []float32, sigma float64) {
	half := float64(len(k)-1) / 2
	sum := 0.0
	for i := range k {
		x := (float64(i) - half) / sigma
		v := math.Exp(-0.5 * x * x)
		k[i] = float32(v)
		sum += v
	}
	for i := range k {
		k[i] /= float32(sum)
	}
}

// reflect maps an index outside [0, n) as padding mode "reflect" (edge not repeated).
func reflect(i, n int) int {
	if n == 1 {
		return 0
	}
	for i < 0 || i >= n {
		if i < 0 {
			i = -i
		}
		if i >= n {
			i = 2*(n-1) - i
		}
	}
	return i
}

// gaussianBlur is F.gaussian_blur: a separable kernel with reflect padding.
func gaussianBlur(img []float32, S, c int, kern, tmp []float32) {
	r := len(kern) / 2
	tmp = tmp[:len(img)]
	for y := range S {
		for x := range S {
			for ch := range c {
				acc := float32(0)
				for t, kv := range kern {
					acc += kv * img[(y*S+reflect(x+t-r, S))*c+ch]
				}
				tmp[(y*S+x)*c+ch] = acc
			}
		}
	}
	for y := range S {
		for x := range S {
			for ch := range c {
				acc := float32(0)
				for t, kv := range kern {
					acc += kv * tmp[(reflect(y+t-r, S)*S+x)*c+ch]
				}
				img[(y*S+x)*c+ch] = acc
			}
		}
	}
}
