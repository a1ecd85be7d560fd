// The pixel operations of a view, on float32 (S, S, C) images in [0, 1].
// Each mirrors the torchvision tensor function named in its comment,
// including its clamping.
package augment

import "math"

// Grayscale weights (ITU-R 601-2 luma, as PIL's convert("L")).
const wR, wG, wB = 0.299, 0.587, 0.114

// filter is a resampling filter along one axis: output i reads taps
// start[i] .. start[i]+k-1 of the input with weights w[i*k : i*k+k].
type filter struct {
	k     int
	start []int
	w     []float32
}

// makeFilter builds PIL's bilinear (triangle) filter that maps the input
// range [off, off+n) to out samples: plain bilinear with half-pixel centers
// when enlarging, an antialiasing triangle as wide as the scale when
// shrinking; taps outside the range are dropped and the rest renormalized,
// which at the edges equals torch's clamp-to-edge. flip reverses the output.
func makeFilter(f *filter, off, n, out int, flip bool) {
	makeFilterRange(f, off, n, out, 0, out, flip)
}

// makeFilterRange is makeFilter keeping only outputs [first, first+count)
// of the out samples: a resize followed by a crop (Resize + CenterCrop).
func makeFilterRange(f *filter, off, n, out, first, count int, flip bool) {
	scale := float64(n) / float64(out)
	support := max(scale, 1)
	k := int(math.Ceil(support))*2 + 1
	f.k = k
	f.start = f.start[:0]
	f.w = f.w[:0]
	for i := first; i < first+count; i++ {
		center := (float64(i) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), n)
		var ws [64]float64 // k <= 64 for shrink factors below 31
		wt := ws[:0]
		if k > len(ws) {
			wt = make([]float64, 0, k)
		}
		sum := 0.0
		for x := lo; x < hi; x++ {
			v := 1 - math.Abs((float64(x)+0.5-center)/support)
			v = max(v, 0)
			wt = append(wt, v)
			sum += v
		}
		f.start = append(f.start, off+lo)
		for j := range k {
			v := 0.0
			if j < len(wt) && sum > 0 {
				v = wt[j] / sum
			}
			f.w = append(f.w, float32(v))
		}
	}
	if flip {
		for i, j := 0, count-1; i < j; i, j = i+1, j-1 {
			f.start[i], f.start[j] = f.start[j], f.start[i]
			a, b := f.w[i*k:(i+1)*k], f.w[j*k:(j+1)*k]
			for t := range k {
				a[t], b[t] = b[t], a[t]
			}
		}
	}
}

// resample scales the part of an (h, w, c) uint8 image that the filters read
// into dst (len(fy.start), len(fx.start), c) in [0, 1]: the horizontal pass
// over source rows [rowLo, rowHi) into tmp, then the vertical pass.
// With filters made from a crop box this is F.resized_crop (bilinear).
func resample(dst []float32, src []uint8, w, c int, fy, fx *filter, rowLo, rowHi int, tmp []float32) {
	OW, OH := len(fx.start), len(fy.start)
	const inv = 1.0 / 255
	rows := rowHi - rowLo
	tmp = tmp[:rows*OW*c]
	for y := range rows {
		srow := src[(rowLo+y)*w*c:]
		trow := tmp[y*OW*c : (y+1)*OW*c]
		if c == 3 { // the common case, all channels in one pass over the taps
			for x := range OW {
				ws := fx.w[x*fx.k : (x+1)*fx.k]
				base := fx.start[x] * 3
				var a0, a1, a2 float32
				for t, wt := range ws {
					if wt != 0 {
						p := srow[base+3*t : base+3*t+3]
						a0 += wt * float32(p[0])
						a1 += wt * float32(p[1])
						a2 += wt * float32(p[2])
					}
				}
				trow[3*x], trow[3*x+1], trow[3*x+2] = a0*inv, a1*inv, a2*inv
			}
			continue
		}
		for x := range OW {
			ws := fx.w[x*fx.k : (x+1)*fx.k]
			base := fx.start[x] * c
			for ch := range c {
				acc := float32(0)
				for t, wt := range ws {
					if wt != 0 {
						acc += wt * float32(srow[base+t*c+ch])
					}
				}
				trow[x*c+ch] = acc * inv
			}
		}
	}
	for y := range OH {
		ws := fy.w[y*fy.k : (y+1)*fy.k]
		drow := dst[y*OW*c : (y+1)*OW*c]
		clear(drow)
		r0 := fy.start[y] - rowLo
		for t, wt := range ws {
			if wt == 0 {
				continue
			}
			trow := tmp[(r0+t)*OW*c : (r0+t+1)*OW*c]
			for i, v := range trow {
				drow[i] += wt * v
			}
		}
	}
}

// rowRange returns the source rows a vertical filter reads.
func rowRange(f *filter) (lo, hi int) {
	lo, hi = math.MaxInt, 0
	for i, s := range f.start {
		for t := range f.k {
			if f.w[i*f.k+t] != 0 {
				lo, hi = min(lo, s+t), max(hi, s+t+1)
			}
		}
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
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
