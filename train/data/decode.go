// Decoding one image file for the cache: JPEG, PNG or WebP of any color
// model, EXIF orientation applied, scaled so its shorter side is at most the
// cache's side, as (h, w, 3) RGB bytes.
package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // register the decoders image.Decode uses
	_ "image/png"
	"path/filepath"
	"strings"

	_ "golang.org/x/image/webp"

	"github.com/vkclr/vkclr/train/internal/resample"
)

// maxImagePixels bounds one decoded image (a variable so fuzzing can lower it):
// a corrupt header must not make the decoder allocate gigabytes.
var maxImagePixels = 1 << 28

// imageExts are the file extensions an image folder is read from; other
// files are counted and reported, not decoded.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".webp": true}

func isImageFile(name string) bool {
	return imageExts[strings.ToLower(filepath.Ext(name))]
}

// decodeImage decodes an image file's bytes into RGB with the orientation
// its EXIF tag asks for, its shorter side scaled down to side (aspect ratio
// kept as torchvision's Resize(side) keeps it; never enlarged) with an
// antialiasing bilinear filter. Transparent pixels come out over black;
// grayscale, CMYK, 16-bit and paletted images are converted.
func decodeImage(file string, buf []byte, side int) (pix []uint8, h, w int, err error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(buf))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: unreadable image: %w", file, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxImagePixels/max(cfg.Height, 1) {
		return nil, 0, 0, fmt.Errorf("%s: %s of %dx%d pixels is empty or too large", file, format, cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(buf))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: unreadable %s: %w", file, format, err)
	}
	b := img.Bounds()
	h, w = b.Dy(), b.Dx()
	if h <= 0 || w <= 0 {
		return nil, 0, 0, fmt.Errorf("%s: empty %s", file, format)
	}
	if min(h, w) > side {
		if w <= h {
			h, w = max(1, int(float64(side)*float64(h)/float64(w))), side
		} else {
			h, w = side, max(1, int(float64(side)*float64(w)/float64(h)))
		}
	}
	// Convert to RGB at full size (draw.Draw has fast paths for the decoders'
	// YCbCr, Gray, CMYK and RGBA images), then resample in two passes.
	full := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(full, full.Bounds(), img, b.Min, draw.Src)
	pix = make([]uint8, b.Dx()*b.Dy()*3)
	for p := range b.Dx() * b.Dy() {
		pix[3*p], pix[3*p+1], pix[3*p+2] = full.Pix[4*p], full.Pix[4*p+1], full.Pix[4*p+2]
	}
	if h != b.Dy() || w != b.Dx() {
		pix = resizeRGB(pix, b.Dy(), b.Dx(), h, w)
	}
	if format == "jpeg" {
		if o := exifOrientation(buf); o > 1 {
			pix, h, w = orient(pix, h, w, o)
		}
	}
	return pix, h, w, nil
}

// exifOrientation returns the EXIF orientation tag (1-8) of a JPEG file, or 1
// when there is none or it cannot be read: the segments before the image
// data are walked to an APP1 "Exif" segment, whose TIFF header and first IFD
// hold tag 0x0112.
func exifOrientation(buf []byte) int {
	if len(buf) < 4 || buf[0] != 0xff || buf[1] != 0xd8 {
		return 1
	}
	p := 2
	for p+4 <= len(buf) {
		if buf[p] != 0xff {
			return 1
		}
		marker := buf[p+1]
		if marker == 0xff { // fill byte
			p++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(buf[p+2:]))
		if n < 2 || p+2+n > len(buf) {
			return 1
		}
		seg := buf[p+4 : p+2+n]
		if marker == 0xe1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		p += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 of the first IFD of a TIFF structure.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd+2 > int64(len(t)) {
		return 1
	}
	n := int64(bo.Uint16(t[ifd:]))
	for i := range n {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(t)) {
			return 1
		}
		// Tag 0x0112, type SHORT, one value, stored in the value field.
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 {
			if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 1
		}
	}
	return 1
}

// resizeRGB resamples an (h, w, 3) image to (oh, ow, 3) with the views'
// filter (antialiased bilinear), rounding to bytes.
func resizeRGB(src []uint8, h, w, oh, ow int) []uint8 {
	var fx, fy resample.Filter
	fx.Make(0, w, ow, false)
	fy.Make(0, h, oh, false)
	lo, hi := fy.Rows()
	acc := make([]float32, oh*ow*3)
	resample.Resample(acc, src, w, 3, &fy, &fx, lo, hi, make([]float32, (hi-lo)*ow*3), 1)
	out := make([]uint8, len(acc))
	for i, v := range acc {
		out[i] = uint8(min(max(v+0.5, 0), 255))
	}
	return out
}

// orient returns the (h, w, 3) image transformed for display as EXIF
// orientation o says: 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate
// 90 clockwise, 7 transverse, 8 rotate 90 counter-clockwise.
func orient(pix []uint8, h, w, o int) ([]uint8, int, int) {
	oh, ow := h, w
	if o >= 5 {
		oh, ow = w, h
	}
	out := make([]uint8, len(pix))
	for oy := range oh {
		for ox := range ow {
			var sy, sx int
			switch o {
			case 2:
				sy, sx = oy, w-1-ox
			case 3:
				sy, sx = h-1-oy, w-1-ox
			case 4:
				sy, sx = h-1-oy, ox
			case 5:
				sy, sx = ox, oy
			case 6:
				sy, sx = h-1-ox, oy
			case 7:
				sy, sx = h-1-ox, w-1-oy
			default: // 8
				sy, sx = ox, w-1-oy
			}
			copy(out[3*(oy*ow+ox):3*(oy*ow+ox)+3], pix[3*(sy*w+sx):3*(sy*w+sx)+3])
		}
	}
	return out, oh, ow
}
