// Package resample holds the separable bilinear resampler that the image
// cache (train/data, shrinking decoded images) and the views
// (train/augment, RandomResizedCrop and Resize + CenterCrop) share: PIL's
// triangle filter, antialiased when shrinking, as torchvision's
// antialiased bilinear resize computes it.
package resample

import "math"

// Filter is a resampling filter along one axis: output i reads taps
// Start[i] .. Start[i]+K-1 of the input with weights W[i*K : i*K+K].
type Filter struct {
	K     int
	Start []int
	W     []float32
}

// Make builds PIL's bilinear (triangle) filter that maps the input
// range [off, off+n) to out samples: plain bilinear with half-pixel centers
// when enlarging, an antialiasing triangle as wide as the scale when
// shrinking; taps outside the range are dropped and the rest renormalized,
// which at the edges equals torch's clamp-to-edge. flip reverses the output.
func (f *Filter) Make(off, n, out int, flip bool) {
	f.MakeRange(off, n, out, 0, out, flip)
}

// MakeRange is Make keeping only outputs [first, first+count) of the out
// samples: a resize followed by a crop (Resize + CenterCrop).
func (f *Filter) MakeRange(off, n, out, first, count int, flip bool) {
	scale := float64(n) / float64(out)
	support := max(scale, 1)
	k := int(math.Ceil(support))*2 + 1
	f.K = k
	f.Start = f.Start[:0]
	f.W = f.W[:0]
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
		f.Start = append(f.Start, off+lo)
		for j := range k {
			v := 0.0
			if j < len(wt) && sum > 0 {
				v = wt[j] / sum
			}
			f.W = append(f.W, float32(v))
		}
	}
	if flip {
		for i, j := 0, count-1; i < j; i, j = i+1, j-1 {
			f.Start[i], f.Start[j] = f.Start[j], f.Start[i]
			a, b := f.W[i*k:(i+1)*k], f.W[j*k:(j+1)*k]
			for t := range k {
				a[t], b[t] = b[t], a[t]
			}
		}
	}
}

// Resample scales the part of an (h, w, c) uint8 image that the filters read
// into dst (len(fy.Start), len(fx.Start), c), each byte times scale: the
// horizontal pass over source rows [rowLo, rowHi) (Rows) into tmp, then the
// vertical pass. With filters made from a crop box this is F.resized_crop
// (bilinear).
func Resample(dst []float32, src []uint8, w, c int, fy, fx *Filter, rowLo, rowHi int, tmp []float32, scale float32) {
	OW, OH := len(fx.Start), len(fy.Start)
	inv := scale
	rows := rowHi - rowLo
	tmp = tmp[:rows*OW*c]
	for y := range rows {
		srow := src[(rowLo+y)*w*c:]
		trow := tmp[y*OW*c : (y+1)*OW*c]
		if c == 3 { // the common case, all channels in one pass over the taps
			for x := range OW {
				ws := fx.W[x*fx.K : (x+1)*fx.K]
				base := fx.Start[x] * 3
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
			ws := fx.W[x*fx.K : (x+1)*fx.K]
			base := fx.Start[x] * c
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
		ws := fy.W[y*fy.K : (y+1)*fy.K]
		drow := dst[y*OW*c : (y+1)*OW*c]
		clear(drow)
		r0 := fy.Start[y] - rowLo
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

// Rows returns the source rows a vertical filter reads.
func (f *Filter) Rows() (lo, hi int) {
	lo, hi = math.MaxInt, 0
	for i, s := range f.Start {
		for t := range f.K {
			if f.W[i*f.K+t] != 0 {
				lo, hi = min(lo, s+t), max(hi, s+t+1)
			}
		}
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}
