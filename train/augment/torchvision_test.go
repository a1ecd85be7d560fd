// Comparison with torchvision's own output (testdata/torchvision.json, made
// by testdata/torchvision_gen.py with torchvision 0.14).
package augment

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/vkclr/vkclr/train/data"
)

type tvFixture struct {
	H, W   int
	Image  []uint8
	H2, W2 int // a second, non-square image (20 x 45)
	Image2 []uint8
	Cases  []struct {
		Name   string
		Params map[string]float64
		Out    []float32
	}
}

func TestTorchvisionFixture(t *testing.T) {
	buf, err := os.ReadFile("testdata/torchvision.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx tvFixture
	if err := json.Unmarshal(buf, &fx); err != nil {
		t.Fatal(err)
	}
	d := &data.Dataset{Name: "tv", N: 1, H: fx.H, W: fx.W, C: 3, Images: fx.Image,
		Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}}
	// Both images in one variable-size dataset, as an image folder's cache holds them.
	both := &data.Dataset{Name: "tv2", N: 2, H: fx.H, W: fx.W, C: 3, Images: append(append([]uint8(nil), fx.Image...), fx.Image2...),
		Dims: []data.Dim{{Off: 0, H: int32(fx.H), W: int32(fx.W)}, {Off: int64(len(fx.Image)), H: int32(fx.H2), W: int32(fx.W2)}},
		Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}}
	if err := both.Check(); err != nil {
		t.Fatal(err)
	}
	float := func() []float32 {
		f := make([]float32, len(fx.Image))
		for i, v := range fx.Image {
			f[i] = float32(v) / 255
		}
		return f
	}
	// Tolerances: float32 rounding, except where torchvision's grayscale uses
	// 0.2989 for red and this package PIL's 0.299 (a difference up to 1e-4).
	const exact, grayW = 2e-6, 2e-4
	for i, c := range fx.Cases {
		var got []float32
		tol := exact
		p := c.Params
		switch c.Name {
		case "resized_crop":
			size := int(p["size"])
			cfg := Config{Size: size}
			got = make([]float32, size*size*3)
			cfg.Render(got, d, 0, Params{Top: int(p["top"]), Left: int(p["left"]), CropH: int(p["h"]), CropW: int(p["w"])}, 3)
		case "random_resized_crop":
			// The same unit draws torchvision used must give its crop box.
			src := &scripted{}
			for k := range int(p["draws"]) {
				src.u = append(src.u, p[fmt.Sprintf("u%d", k)])
			}
			img := int(p["img"])
			h, w := both.ImageSize(img)
			top, left, ch, cw := cropParams(src, h, w, p["smin"], p["smax"], p["rmin"], p["rmax"])
			if top != int(p["top"]) || left != int(p["left"]) || ch != int(p["h"]) || cw != int(p["w"]) || src.k != len(src.u) {
				t.Errorf("case %d %s: crop (%d, %d, %d, %d) after %d draws, torchvision (%v, %v, %v, %v) after %v",
					i, c.Name, top, left, ch, cw, src.k, p["top"], p["left"], p["h"], p["w"], p["draws"])
			}
			size := int(p["size"])
			got = make([]float32, size*size*3)
			Config{Size: size}.Render(got, both, img, Params{Top: top, Left: left, CropH: ch, CropW: cw}, 3)
		case "resize_center_crop":
			size := int(p["size"])
			got = make([]float32, size*size*3)
			Config{Size: size}.Plain(got, both, int(p["img"]), 3)
		case "hflip":
			// Views are square, so flip the whole image through the filters directly.
			got = make([]float32, fx.H*fx.W*3)
			var fxl, fyl filter
			makeFilter(&fxl, 0, fx.W, fx.W, true)
			makeFilter(&fyl, 0, fx.H, fx.H, false)
			lo, hi := rowRange(&fyl)
			resample(got, fx.Image, fx.W, 3, &fyl, &fxl, lo, hi, make([]float32, len(got)))
		case "brightness":
			got = float()
			adjustBrightness(got, float32(p["factor"]))
		case "contrast":
			got, tol = float(), grayW
			adjustContrast(got, 3, float32(p["factor"]))
		case "saturation":
			got, tol = float(), grayW
			adjustSaturation(got, float32(p["factor"]))
		case "hue":
			got = float()
			adjustHue(got, float32(p["factor"]))
		case "grayscale":
			got, tol = float(), grayW
			toGray(got)
		case "blur":
			n := int(p["crop"])
			all := float()
			got = make([]float32, 0, n*n*3)
			for y := range n {
				got = append(got, all[y*fx.W*3:(y*fx.W+n)*3]...)
			}
			k := make([]float32, int(p["kernel"]))
			gaussianKernel(k, p["sigma"])
			gaussianBlur(got, n, 3, k, make([]float32, len(got)))
		default:
			t.Fatalf("case %d: unknown transform %q", i, c.Name)
		}
		if len(got) != len(c.Out) {
			t.Fatalf("case %d %s %v: %d values, torchvision %d", i, c.Name, p, len(got), len(c.Out))
		}
		for j := range got {
			if d := float64(got[j] - c.Out[j]); d > tol || d < -tol {
				t.Errorf("case %d %s %v: value %d (pixel %d channel %d) = %v, torchvision %v",
					i, c.Name, p, j, j/3, j%3, got[j], c.Out[j])
				break
			}
		}
	}
}

// scripted replays unit draws u: uniform(a, b) = a + (b-a)*u, intn(n) = floor(u*n),
// as the generator's patched torch.empty().uniform_ and torch.randint.
type scripted struct {
	u []float64
	k int
}

func (s *scripted) take() float64 {
	v := s.u[s.k]
	s.k++
	return v
}

func (s *scripted) uniform(a, b float64) float64 { return a + (b-a)*s.take() }
func (s *scripted) intn(n int) int               { return int(s.take() * float64(n)) }
