// Package augment makes SimCLR views of dataset images with torchvision's
// semantics (RandomResizedCrop, RandomHorizontalFlip, ColorJitter,
// RandomGrayscale, GaussianBlur, Normalize) and batches them on a goroutine
// pool one step ahead of the trainer.
//
// Dimension letters: B batch, S output side (Config.Size), C dataset
// channels, OC output channels (>= C, extra channels zero).
package augment

import (
	"fmt"
	"strconv"
	"strings"
)

// Config holds the augmentation parameters; Preset returns the usual ones.
type Config struct {
	Size int // output side S; views are S x S

	// RandomResizedCrop: area fraction and aspect-ratio ranges.
	ScaleMin, ScaleMax float64
	RatioMin, RatioMax float64

	FlipP float64 // RandomHorizontalFlip probability

	// ColorJitter, applied with probability JitterP in a random order:
	// factors uniform in [max(0, 1-x), 1+x], hue shift uniform in [-Hue, Hue].
	Brightness, Contrast, Saturation, Hue float64
	JitterP                               float64

	GrayP float64 // RandomGrayscale probability

	// GaussianBlur, applied with probability BlurP when Blur is set: sigma
	// uniform in [BlurSigmaMin, BlurSigmaMax], kernel side BlurKernel (odd;
	// 0 means about a tenth of Size, as in the SimCLR paper).
	Blur                       bool
	BlurP                      float64
	BlurSigmaMin, BlurSigmaMax float64
	BlurKernel                 int
}

// SimCLR returns the SimCLR pipeline at color strength s: jitter (0.8s, 0.8s,
// 0.8s, 0.2s) applied with probability 0.8, grayscale 0.2, flip 0.5, crops
// of 8-100% of the area, no blur; size is the output side.
func SimCLR(size int, s float64) Config {
	return Config{
		Size:     size,
		ScaleMin: 0.08, ScaleMax: 1,
		RatioMin: 3.0 / 4, RatioMax: 4.0 / 3,
		FlipP:      0.5,
		Brightness: 0.8 * s, Contrast: 0.8 * s, Saturation: 0.8 * s, Hue: 0.2 * s,
		JitterP: 0.8, GrayP: 0.2,
		BlurP: 0.5, BlurSigmaMin: 0.1, BlurSigmaMax: 2,
	}
}

// Preset returns a named configuration with output side 32 (set Size for
// other resolutions):
//
//	simclr-cifar     the paper's CIFAR-10 setting: s = 0.5, jitter p = 0.8, no blur
//	simclr-imagenet  s = 1, with blur (p = 0.5), size 224
//	none             evaluation: the whole image resized, no augmentation
//	s=0.5            simclr-cifar at another strength
//
// A name may be followed by comma-separated overrides: s=, p= (jitter
// probability), gray=, flip=, size=, blur=true|false, scale=MIN (the smallest
// crop area), e.g. "simclr-cifar,size=64,blur=true".
func Preset(spec string) (Config, error) {
	parts := strings.Split(spec, ",")
	base := strings.TrimSpace(parts[0])
	if strings.Contains(base, "=") {
		base = "simclr-cifar"
	} else {
		parts = parts[1:]
	}
	var c Config
	switch base {
	case "simclr-cifar":
		c = SimCLR(32, 0.5)
	case "simclr-imagenet":
		c = SimCLR(224, 1)
		c.Blur = true
	case "none":
		c = Config{Size: 32, ScaleMin: 1, ScaleMax: 1, RatioMin: 1, RatioMax: 1}
	default:
		return Config{}, fmt.Errorf("augment: unknown preset %q (want simclr-cifar, simclr-imagenet, none or s=X)", base)
	}
	for _, kv := range parts {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return Config{}, fmt.Errorf("augment: preset %q: %q is not key=value", spec, kv)
		}
		var err error
		var f float64
		if k != "blur" {
			f, err = strconv.ParseFloat(v, 64)
		}
		switch {
		case err != nil:
		case k == "s":
			c.Brightness, c.Contrast, c.Saturation, c.Hue = 0.8*f, 0.8*f, 0.8*f, 0.2*f
		case k == "p":
			c.JitterP = f
		case k == "gray":
			c.GrayP = f
		case k == "flip":
			c.FlipP = f
		case k == "scale":
			c.ScaleMin = f
		case k == "size":
			c.Size = int(f)
			if float64(c.Size) != f {
				err = fmt.Errorf("not an integer")
			}
		case k == "blur":
			c.Blur, err = strconv.ParseBool(v)
			if c.BlurP == 0 {
				c.BlurP, c.BlurSigmaMin, c.BlurSigmaMax = 0.5, 0.1, 2
			}
		default:
			err = fmt.Errorf("unknown key")
		}
		if err != nil {
			return Config{}, fmt.Errorf("augment: preset %q: %s: %w", spec, kv, err)
		}
	}
	return c, c.Validate()
}

// Validate reports parameters outside their meaningful ranges.
func (c Config) Validate() error {
	prob := func(p float64) bool { return p >= 0 && p <= 1 }
	switch {
	case c.Size <= 0:
		return fmt.Errorf("augment: size %d, want > 0", c.Size)
	case !(c.ScaleMin > 0 && c.ScaleMin <= c.ScaleMax && c.ScaleMax <= 1):
		return fmt.Errorf("augment: scale (%v, %v), want 0 < min <= max <= 1", c.ScaleMin, c.ScaleMax)
	case !(c.RatioMin > 0 && c.RatioMin <= c.RatioMax):
		return fmt.Errorf("augment: ratio (%v, %v), want 0 < min <= max", c.RatioMin, c.RatioMax)
	case !prob(c.FlipP) || !prob(c.JitterP) || !prob(c.GrayP) || !prob(c.BlurP):
		return fmt.Errorf("augment: probabilities flip %v, jitter %v, gray %v, blur %v must lie in [0, 1]", c.FlipP, c.JitterP, c.GrayP, c.BlurP)
	case c.Brightness < 0 || c.Contrast < 0 || c.Saturation < 0:
		return fmt.Errorf("augment: jitter strengths (%v, %v, %v) must be >= 0", c.Brightness, c.Contrast, c.Saturation)
	case c.Hue < 0 || c.Hue > 0.5:
		return fmt.Errorf("augment: hue %v, want in [0, 0.5]", c.Hue)
	case c.Blur && !(c.BlurSigmaMin > 0 && c.BlurSigmaMin <= c.BlurSigmaMax):
		return fmt.Errorf("augment: blur sigma (%v, %v), want 0 < min <= max", c.BlurSigmaMin, c.BlurSigmaMax)
	case c.Blur && c.BlurKernel != 0 && (c.BlurKernel < 0 || c.BlurKernel%2 == 0):
		return fmt.Errorf("augment: blur kernel %d, want odd", c.BlurKernel)
	}
	return nil
}

// String gives the configuration in one line, for logs.
func (c Config) String() string {
	s := fmt.Sprintf("size %d, crop scale [%g, %g] ratio [%.3g, %.3g], flip %g, jitter (%g, %g, %g, %g) p %g, gray %g",
		c.Size, c.ScaleMin, c.ScaleMax, c.RatioMin, c.RatioMax, c.FlipP,
		c.Brightness, c.Contrast, c.Saturation, c.Hue, c.JitterP, c.GrayP)
	if c.Blur {
		s += fmt.Sprintf(", blur p %g sigma [%g, %g] kernel %d", c.BlurP, c.BlurSigmaMin, c.BlurSigmaMax, c.blurKernel())
	}
	return s
}

// blurKernel returns the odd kernel side: BlurKernel, or about Size/10.
func (c Config) blurKernel() int {
	if c.BlurKernel > 0 {
		return c.BlurKernel
	}
	k := c.Size / 10
	if k%2 == 0 {
		k++
	}
	return max(k, 3)
}
