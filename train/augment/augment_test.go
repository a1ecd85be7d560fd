// Tests of each transform against hand-computed or analytical expectations.
package augment

import (
	"fmt"
	"math"
	"testing"

	"github.com/vkclr/vkclr/train/data"
)

// testDataset returns n images of h x w x c with bytes derived from a seed,
// mean 0 and std 1 so views are the raw [0, 1] values.
func testDataset(n, h, w, c int) *data.Dataset {
	d := &data.Dataset{Name: "test", N: n, H: h, W: w, C: c, Images: make([]uint8, n*h*w*c),
		Mean: make([]float32, c), Std: make([]float32, c)}
	r := newRNG(99, 0, 0, 0)
	for i := range d.Images {
		d.Images[i] = uint8(r.next())
	}
	for k := range c {
		d.Std[k] = 1
	}
	return d
}

// randImage returns a float image in [0, 1] of n pixels with c channels.
func randImage(n, c int, seed uint64) []float32 {
	r := newRNG(seed, 1, 2, 3)
	img := make([]float32, n*c)
	for i := range img {
		img[i] = float32(r.float64())
	}
	return img
}

func maxDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

func TestCropParams(t *testing.T) {
	cases := []struct {
		name                   string
		h, w                   int
		smin, smax, rmin, rmax float64
		top, left, ch, cw      int
	}{
		{"scale 1 ratio 1 is the whole image", 32, 32, 1, 1, 1, 1, 0, 0, 32, 32},
		{"fallback, too wide: center square", 10, 100, 1, 1, 1, 1, 0, 45, 10, 10},
		{"fallback, too narrow for ratio 2", 10, 10, 1, 1, 2, 2, 2, 0, 5, 10},
		{"fallback, ratio in range: whole image", 10, 12, 1.5, 1.5, 0.5, 3, 0, 0, 10, 12}, // area 150% never fits
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRNG(1, 2, 3, 4)
			top, left, ch, cw := cropParams(&r, c.h, c.w, c.smin, c.smax, c.rmin, c.rmax)
			if top != c.top || left != c.left || ch != c.ch || cw != c.cw {
				t.Fatalf("got (%d, %d, %d, %d), want (%d, %d, %d, %d)", top, left, ch, cw, c.top, c.left, c.ch, c.cw)
			}
		})
	}
}

// TestCropParamsDistribution checks the sampled boxes: inside the image,
// area and ratio within range up to rounding, and the log-uniform ratio
// symmetric around 1.
func TestCropParamsDistribution(t *testing.T) {
	const h, w, n = 32, 32, 20000
	cfg := SimCLR(32, 0.5)
	wider := 0
	var areaSum float64
	for i := range n {
		p := cfg.Params(h, w, 3, 7, 0, i, 0)
		if p.Top < 0 || p.Left < 0 || p.Top+p.CropH > h || p.Left+p.CropW > w || p.CropH <= 0 || p.CropW <= 0 {
			t.Fatalf("box %+v outside the image", p)
		}
		area := float64(p.CropH*p.CropW) / (h * w)
		ratio := float64(p.CropW) / float64(p.CropH)
		// Rounding each side to an integer moves area and ratio a little.
		if area < 0.08*0.7 || area > 1 || ratio < 0.75*0.7 || ratio > 4.0/3/0.7 {
			t.Fatalf("sample %d: area %.3f ratio %.3f", i, area, ratio)
		}
		if p.CropW > p.CropH {
			wider++
		}
		areaSum += area
	}
	// E[area] of uniform(0.08, 1) is 0.54; rejected large boxes pull it down a bit.
	if m := areaSum / n; m < 0.45 || m > 0.56 {
		t.Errorf("mean area %.3f, want about 0.5", m)
	}
	if f := float64(wider) / n; f < 0.35 || f > 0.5 {
		t.Errorf("%.3f of boxes wider than tall", f)
	}
}

func TestParamsProbabilities(t *testing.T) {
	cfg := SimCLR(32, 0.5)
	const n = 20000
	var flip, jit, gray int
	orders := map[[4]int]int{}
	for i := range n {
		p := cfg.Params(32, 32, 3, 3, 1, i, i%2)
		if p.Flip {
			flip++
		}
		if p.Jitter {
			jit++
		}
		if p.Gray {
			gray++
		}
		orders[p.Order]++
		if p.Brightness < 0.6 || p.Brightness > 1.4 || p.Saturation < 0.6 || p.Saturation > 1.4 ||
			p.Contrast < 0.6 || p.Contrast > 1.4 || math.Abs(p.Hue) > 0.1 {
			t.Fatalf("factors %+v outside s=0.5 ranges", p)
		}
		if p.Blur {
			t.Fatal("blur sampled with Blur off")
		}
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"flip", float64(flip) / n, 0.5}, {"jitter", float64(jit) / n, 0.8}, {"gray", float64(gray) / n, 0.2}} {
		if math.Abs(c.got-c.want) > 0.02 {
			t.Errorf("%s rate %.3f, want %.2f", c.name, c.got, c.want)
		}
	}
	if len(orders) != 24 {
		t.Errorf("%d jitter orders seen, want all 24", len(orders))
	}
	if p := cfg.Params(28, 28, 1, 3, 1, 5, 0); p.Gray {
		t.Error("grayscale sampled for one channel")
	}
}

func TestParamsDeterministic(t *testing.T) {
	cfg := SimCLR(32, 1)
	cfg.Blur, cfg.BlurP, cfg.BlurSigmaMin, cfg.BlurSigmaMax = true, 0.5, 0.1, 2
	a := cfg.Params(32, 32, 3, 11, 4, 123, 1)
	if b := cfg.Params(32, 32, 3, 11, 4, 123, 1); a != b {
		t.Fatalf("same key, different params: %+v vs %+v", a, b)
	}
	seen := map[Params]string{}
	for _, k := range [][4]int{{11, 4, 123, 1}, {12, 4, 123, 1}, {11, 5, 123, 1}, {11, 4, 124, 1}, {11, 4, 123, 0}, {11, 123, 4, 1}} {
		p := cfg.Params(32, 32, 3, uint64(k[0]), k[1], k[2], k[3])
		if prev, dup := seen[p]; dup {
			t.Fatalf("keys %v and %s give the same params", k, prev)
		}
		seen[p] = fmt.Sprint(k)
	}
}

func TestPermutation(t *testing.T) {
	p := Permutation(5, 2, 1000)
	seen := make([]bool, 1000)
	fixed := 0
	for i, v := range p {
		if seen[v] {
			t.Fatalf("%d twice", v)
		}
		seen[v] = true
		if v == i {
			fixed++
		}
	}
	if fixed > 10 {
		t.Errorf("%d fixed points: not shuffled", fixed)
	}
	q := Permutation(5, 2, 1000)
	r := Permutation(5, 3, 1000)
	same := 0
	for i := range p {
		if p[i] != q[i] {
			t.Fatal("permutation not deterministic")
		}
		if p[i] == r[i] {
			same++
		}
	}
	if same > 10 {
		t.Errorf("epochs 2 and 3 agree on %d positions", same)
	}
}

func TestMakeFilter(t *testing.T) {
	t.Run("same size is the identity", func(t *testing.T) {
		var f filter
		makeFilter(&f, 3, 8, 8, false)
		for i := range 8 {
			for tp := range f.K {
				w := f.W[i*f.K+tp]
				if want := float32(0); f.Start[i]+tp == 3+i {
					want = 1
					if w != want {
						t.Fatalf("out %d tap %d weight %v, want 1", i, tp, w)
					}
				} else if w != 0 {
					t.Fatalf("out %d reads input %d with weight %v", i, f.Start[i]+tp, w)
				}
			}
		}
	})
	t.Run("flip reverses", func(t *testing.T) {
		var f, g filter
		makeFilter(&f, 0, 5, 7, false)
		makeFilter(&g, 0, 5, 7, true)
		for i := range 7 {
			j := 6 - i
			if f.Start[i] != g.Start[j] {
				t.Fatalf("start %d vs %d", f.Start[i], g.Start[j])
			}
			for tp := range f.K {
				if f.W[i*f.K+tp] != g.W[j*f.K+tp] {
					t.Fatal("weights not mirrored")
				}
			}
		}
	})
}

// TestResample checks bilinear scaling against hand computation on one row.
func TestResample(t *testing.T) {
	cases := []struct {
		name string
		in   []uint8 // one row
		out  int
		want []float64
	}{
		// torch bilinear, align_corners=False: sources -0.25, 0.25, 0.75, 1.25 clamped.
		{"enlarge 2x", []uint8{0, 255}, 4, []float64{0, 0.25, 0.75, 1}},
		// PIL/antialiased: triangle of radius 2 centered at 1 and 3, taps at x+0.5.
		{"shrink 2x", []uint8{0, 51, 102, 255}, 2, []float64{
			(0.75*0 + 0.75*0.2 + 0.25*0.4) / 1.75,
			(0.25*0.2 + 0.75*0.4 + 0.75*1) / 1.75}},
		{"same size", []uint8{10, 20, 30}, 3, []float64{10. / 255, 20. / 255, 30. / 255}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// An out x out image whose rows all equal c.in, stretched vertically
			// from one row; vertical filter of a single source row is exact.
			w := len(c.in)
			var fx, fy filter
			makeFilter(&fx, 0, w, c.out, false)
			makeFilter(&fy, 0, 1, c.out, false)
			lo, hi := rowRange(&fy)
			dst := make([]float32, c.out*c.out)
			resample(dst, c.in, w, 1, &fy, &fx, lo, hi, make([]float32, c.out*c.out))
			for y := range c.out {
				for x := range c.out {
					if got := dst[y*c.out+x]; math.Abs(float64(got)-c.want[x]) > 1e-6 {
						t.Fatalf("(%d, %d) = %v, want %v", y, x, got, c.want[x])
					}
				}
			}
		})
	}
}

// TestViewIdentity: a crop of scale 1 and ratio 1 of a square image, with
// nothing else, returns the image itself; OC 4 pads with zeros.
func TestViewIdentity(t *testing.T) {
	for _, c := range []int{1, 3} {
		d := testDataset(2, 12, 12, c)
		cfg, err := Preset("none,size=12")
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]float32, 12*12*4)
		cfg.View(dst, d, 1, 5, 0, 0, 4)
		img := d.Image(1)
		for px := range 144 {
			for ch := range 4 {
				want := float32(0)
				if ch < c {
					want = float32(img[px*c+ch]) / 255
				}
				if got := dst[px*4+ch]; math.Abs(float64(got-want)) > 1e-6 {
					t.Fatalf("C=%d pixel %d channel %d = %v, want %v", c, px, ch, got, want)
				}
			}
		}
	}
}

func TestPlainAndNormalize(t *testing.T) {
	d := testDataset(1, 8, 8, 3)
	d.Mean = []float32{0.5, 0.25, 0}
	d.Std = []float32{0.5, 2, 1}
	cfg := Config{Size: 8}
	dst := make([]float32, 8*8*3)
	flipped := make([]float32, 8*8*3)
	cfg.Plain(dst, d, 0, 3)
	cfg.PlainFlip(flipped, d, 0, 3, true)
	img := d.Image(0)
	for y := range 8 {
		for x := range 8 {
			for ch := range 3 {
				want := (float32(img[(y*8+x)*3+ch])/255 - d.Mean[ch]) / d.Std[ch]
				if got := dst[(y*8+x)*3+ch]; math.Abs(float64(got-want)) > 1e-5 {
					t.Fatalf("(%d,%d,%d) = %v, want %v", y, x, ch, got, want)
				}
				if got := flipped[(y*8+7-x)*3+ch]; math.Abs(float64(got-want)) > 1e-5 {
					t.Fatalf("flipped (%d,%d,%d) = %v, want %v", y, 7-x, ch, got, want)
				}
			}
		}
	}
}

func TestColorOps(t *testing.T) {
	const n = 50
	gray := func(img []float32) []float32 {
		g := append([]float32(nil), img...)
		toGray(g)
		return g
	}
	cases := []struct {
		name  string
		apply func(img []float32)
		want  func(orig []float32) []float32
		tol   float64
	}{
		{"brightness 1 is the identity", func(m []float32) { adjustBrightness(m, 1) }, nil, 0},
		{"brightness 0 is black", func(m []float32) { adjustBrightness(m, 0) }, func(o []float32) []float32 { return make([]float32, len(o)) }, 0},
		{"brightness 3 clamps", func(m []float32) { adjustBrightness(m, 3) }, func(o []float32) []float32 {
			w := make([]float32, len(o))
			for i, v := range o {
				w[i] = min(3*v, 1)
			}
			return w
		}, 1e-6},
		{"contrast 1 is the identity", func(m []float32) { adjustContrast(m, 3, 1) }, nil, 1e-7},
		{"contrast 0 is the gray mean", func(m []float32) { adjustContrast(m, 3, 0) }, func(o []float32) []float32 {
			var s float64
			for i := 0; i < len(o); i += 3 {
				s += 0.299*float64(o[i]) + 0.587*float64(o[i+1]) + 0.114*float64(o[i+2])
			}
			w := make([]float32, len(o))
			for i := range w {
				w[i] = float32(s / n)
			}
			return w
		}, 1e-6},
		{"saturation 1 is the identity", func(m []float32) { adjustSaturation(m, 1) }, nil, 1e-7},
		{"saturation 0 is grayscale", func(m []float32) { adjustSaturation(m, 0) }, gray, 1e-7},
		{"hue 0 is the identity", func(m []float32) { adjustHue(m, 0) }, nil, 1e-6},
		{"hue 1 is the identity", func(m []float32) { adjustHue(m, 1) }, nil, 1e-5},
		{"hue +0.5 then -0.5", func(m []float32) { adjustHue(m, 0.5); adjustHue(m, -0.5) }, nil, 1e-5},
		{"hue keeps value (max channel)", func(m []float32) {
			adjustHue(m, 0.23)
			for i := 0; i < len(m); i += 3 {
				v := max(m[i], m[i+1], m[i+2])
				m[i], m[i+1], m[i+2] = v, v, v
			}
		}, func(o []float32) []float32 {
			w := make([]float32, len(o))
			for i := 0; i < len(o); i += 3 {
				v := max(o[i], o[i+1], o[i+2])
				w[i], w[i+1], w[i+2] = v, v, v
			}
			return w
		}, 1e-6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			orig := randImage(n, 3, 42)
			img := append([]float32(nil), orig...)
			c.apply(img)
			want := orig
			if c.want != nil {
				want = c.want(orig)
			}
			if d := maxDiff(img, want); d > c.tol {
				t.Fatalf("max difference %g > %g", d, c.tol)
			}
		})
	}
}

// TestHueShift: shifting by a third of the circle maps the primaries onto each other.
func TestHueShift(t *testing.T) {
	cases := []struct {
		in    [3]float32
		shift float32
		want  [3]float32
	}{
		{[3]float32{1, 0, 0}, 1. / 3, [3]float32{0, 1, 0}},
		{[3]float32{1, 0, 0}, 2. / 3, [3]float32{0, 0, 1}},
		{[3]float32{1, 0, 0}, -1. / 3, [3]float32{0, 0, 1}},
		{[3]float32{0, 0.5, 0}, 1. / 3, [3]float32{0, 0, 0.5}},
		{[3]float32{1, 1, 0}, 0.5, [3]float32{0, 0, 1}},             // yellow -> blue
		{[3]float32{0.4, 0.4, 0.4}, 0.3, [3]float32{0.4, 0.4, 0.4}}, // gray has no hue
		{[3]float32{1, 0.5, 0}, 1. / 6, [3]float32{0.5, 1, 0}},      // orange (h=1/12) -> chartreuse (h=1/4)
	}
	for _, c := range cases {
		img := c.in[:]
		img = append([]float32(nil), img...)
		adjustHue(img, c.shift)
		if d := maxDiff(img, c.want[:]); d > 1e-5 {
			t.Errorf("hue %v shifted by %v = %v, want %v", c.in, c.shift, img, c.want)
		}
	}
}

func TestGrayWeights(t *testing.T) {
	img := []float32{1, 0, 0, 0, 1, 0, 0, 0, 1}
	toGray(img)
	want := []float32{0.299, 0.299, 0.299, 0.587, 0.587, 0.587, 0.114, 0.114, 0.114}
	if d := maxDiff(img, want); d > 1e-7 {
		t.Fatalf("gray %v, want %v", img, want)
	}
}

func TestGaussianBlur(t *testing.T) {
	k := make([]float32, 5)
	gaussianKernel(k, 1)
	// exp(-x^2/2) at 0, 1, 2, normalized.
	e1, e2 := math.Exp(-0.5), math.Exp(-2)
	s := 1 + 2*e1 + 2*e2
	want := []float32{float32(e2 / s), float32(e1 / s), float32(1 / s), float32(e1 / s), float32(e2 / s)}
	if d := maxDiff(k, want); d > 1e-7 {
		t.Fatalf("kernel %v, want %v", k, want)
	}
	if reflect(-1, 5) != 1 || reflect(5, 5) != 3 || reflect(-2, 3) != 2 || reflect(0, 1) != 0 {
		t.Fatal("reflect padding wrong")
	}

	const S = 9
	// A constant image stays constant.
	img := make([]float32, S*S*3)
	for i := range img {
		img[i] = 0.3
	}
	gaussianBlur(img, S, 3, k, make([]float32, len(img)))
	for _, v := range img {
		if math.Abs(float64(v)-0.3) > 1e-6 {
			t.Fatalf("constant image blurred to %v", v)
		}
	}
	// A centered impulse becomes the outer product of the kernel.
	img = make([]float32, S*S)
	img[4*S+4] = 1
	gaussianBlur(img, S, 1, k, make([]float32, len(img)))
	for y := range S {
		for x := range S {
			w := float32(0)
			if dy, dx := y-4+2, x-4+2; dy >= 0 && dy < 5 && dx >= 0 && dx < 5 {
				w = k[dy] * k[dx]
			}
			if math.Abs(float64(img[y*S+x]-w)) > 1e-7 {
				t.Fatalf("(%d, %d) = %v, want %v", y, x, img[y*S+x], w)
			}
		}
	}
}

// TestOneChannel: saturation, hue and grayscale leave one-channel data alone.
func TestOneChannel(t *testing.T) {
	d := testDataset(4, 16, 16, 1)
	base := SimCLR(16, 1)
	noColor := base
	noColor.Saturation, noColor.Hue, noColor.GrayP = 0, 0, 0
	a, b := make([]float32, 16*16), make([]float32, 16*16)
	for i := range 4 {
		p := base.Params(16, 16, 1, 9, 0, i, 0)
		base.Render(a, d, i, p, 1)
		noColor.Render(b, d, i, p, 1)
		if d := maxDiff(a, b); d != 0 {
			t.Fatalf("image %d: color ops changed one-channel data by %g", i, d)
		}
	}
}

// TestViewJitterMatchesOps: View applies the jitter in the sampled order.
func TestViewJitterMatchesOps(t *testing.T) {
	d := testDataset(1, 10, 10, 3)
	cfg := SimCLR(10, 1)
	p := Params{CropH: 10, CropW: 10, Jitter: true, Order: [4]int{3, 0, 2, 1},
		Brightness: 1.3, Contrast: 0.7, Saturation: 1.5, Hue: -0.07}
	got := make([]float32, 300)
	cfg.Render(got, d, 0, p, 3)
	want := make([]float32, 300)
	for i, v := range d.Image(0) {
		want[i] = float32(v) / 255
	}
	adjustHue(want, -0.07)
	adjustBrightness(want, 1.3)
	adjustSaturation(want, 1.5)
	adjustContrast(want, 3, 0.7)
	if diff := maxDiff(got, want); diff > 1e-5 { // resampling rounds differently from v/255
		t.Fatalf("max difference %g", diff)
	}
}

func TestPreset(t *testing.T) {
	cases := []struct {
		spec  string
		check func(c Config) bool
		ok    bool
	}{
		{"simclr-cifar", func(c Config) bool {
			return c.Size == 32 && c.Brightness == 0.4 && c.Hue == 0.1 && c.JitterP == 0.8 && c.GrayP == 0.2 && !c.Blur && c.ScaleMin == 0.08
		}, true},
		{"s=1", func(c Config) bool { return c.Contrast == 0.8 && c.Hue == 0.2 && c.JitterP == 0.8 }, true},
		{"simclr-imagenet", func(c Config) bool { return c.Size == 224 && c.Blur && c.blurKernel() == 23 }, true},
		{"none", func(c Config) bool { return c.ScaleMin == 1 && c.FlipP == 0 && c.JitterP == 0 }, true},
		{"simclr-cifar,size=64,blur=true,p=0.5", func(c Config) bool { return c.Size == 64 && c.Blur && c.BlurP == 0.5 && c.JitterP == 0.5 }, true},
		{"bogus", nil, false},
		{"s=abc", nil, false},
		{"simclr-cifar,size=3.5", nil, false},
		{"simclr-cifar,flip=2", nil, false},
		{"simclr-cifar,x=1", nil, false},
		{"simclr-cifar,s", nil, false},
		{"s=5", nil, false}, // hue 1.0 > 0.5
	}
	for _, c := range cases {
		t.Run(c.spec, func(t *testing.T) {
			cfg, err := Preset(c.spec)
			if (err == nil) != c.ok {
				t.Fatalf("Preset(%q) error %v, want ok=%v", c.spec, err, c.ok)
			}
			if c.ok && !c.check(cfg) {
				t.Fatalf("Preset(%q) = %+v", c.spec, cfg)
			}
		})
	}
}

// hueReference is torchvision's adjust_hue for one pixel, formula by formula
// (_rgb2hsv, shift mod 1, _hsv2rgb), in float64.
func hueReference(r, g, b, shift float64) (float64, float64, float64) {
	maxc, minc := max(r, g, b), min(r, g, b)
	eqc := maxc == minc
	cr := maxc - minc
	div := maxc
	if eqc {
		div = 1
	}
	s := cr / div
	crd := cr
	if eqc {
		crd = 1
	}
	rc, gc, bc := (maxc-r)/crd, (maxc-g)/crd, (maxc-b)/crd
	var h float64
	switch {
	case maxc == r:
		h = bc - gc
	case maxc == g:
		h = 2 + rc - bc
	default:
		h = 4 + gc - rc
	}
	h = math.Mod(h/6+1, 1)
	h = h + shift
	h -= math.Floor(h)
	v := maxc
	i := math.Floor(h * 6)
	f := h*6 - i
	clamp := func(x float64) float64 { return min(max(x, 0), 1) }
	p, q, t := clamp(v*(1-s)), clamp(v*(1-s*f)), clamp(v*(1-s*(1-f)))
	switch int(i) % 6 {
	case 0:
		return v, t, p
	case 1:
		return q, v, p
	case 2:
		return p, v, t
	case 3:
		return p, q, v
	case 4:
		return t, p, v
	default:
		return v, p, q
	}
}

func TestHueMatchesReference(t *testing.T) {
	img := randImage(2000, 3, 7)
	// Include exact ties between channels, where the max-channel branch matters.
	img[0], img[1], img[2] = 0.5, 0.5, 0.2
	img[3], img[4], img[5] = 0.1, 0.7, 0.7
	img[6], img[7], img[8] = 0.9, 0.3, 0.9
	for _, shift := range []float32{-0.5, -0.37, -0.1, 0, 0.02, 0.25, 0.5} {
		got := append([]float32(nil), img...)
		adjustHue(got, shift)
		for i := 0; i < len(img); i += 3 {
			r, g, b := hueReference(float64(img[i]), float64(img[i+1]), float64(img[i+2]), float64(shift))
			if d := maxDiff(got[i:i+3], []float32{float32(r), float32(g), float32(b)}); d > 2e-6 {
				t.Fatalf("shift %v pixel %v: got %v, want (%v, %v, %v)", shift, img[i:i+3], got[i:i+3], r, g, b)
			}
		}
	}
}

// Thumbnails of same-size images are the images; of other sizes, the central
// square at the asked side, as evaluation's Resize + CenterCrop makes it.
func TestThumbnails(t *testing.T) {
	d := &data.Dataset{N: 2, H: 6, W: 6, C: 3, Images: make([]uint8, 2*6*6*3), Mean: []float32{0.5, 0.4, 0.3}, Std: []float32{0.2, 0.25, 0.3}}
	for i := range d.Images {
		d.Images[i] = uint8(i * 7)
	}
	same, err := Thumbnails(d, 6)
	if err != nil || &same[0] != &d.Images[0] {
		t.Fatalf("same size: %v, want the images themselves", err)
	}
	// Through the resampling path at the same side: normalization undone gives the bytes back.
	d2 := *d
	d2.Dims = []data.Dim{{Off: 0, H: 6, W: 6}, {Off: 6 * 6 * 3, H: 6, W: 6}}
	got, err := Thumbnails(&d2, 6)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != d.Images[i] {
			t.Fatalf("byte %d: %d, want %d", i, got[i], d.Images[i])
		}
	}
	if small, _ := Thumbnails(d, 3); len(small) != 2*3*3*3 {
		t.Errorf("side 3: %d bytes, want %d", len(small), 2*3*3*3)
	}
}
