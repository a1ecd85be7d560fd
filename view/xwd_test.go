// A reader of X window dumps (xwd -root), to see what the X server shows.
package view

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"math/bits"
)

// decodeXWD reads a ZPixmap XWD file (version 7) of 24 or 32 bits per pixel
// into an RGBA image.
func decodeXWD(b []byte) (*image.RGBA, error) {
	if len(b) < 100 {
		return nil, fmt.Errorf("xwd: %d bytes, shorter than a header", len(b))
	}
	h := func(i int) uint32 { return binary.BigEndian.Uint32(b[4*i:]) } // the header is big-endian
	headerSize, version, format := h(0), h(1), h(2)
	w, ht := int(h(4)), int(h(5))
	byteOrder, bpp, bpl := h(7), int(h(11)), int(h(12))
	rmask, gmask, bmask := h(14), h(15), h(16)
	ncolors := int(h(19))
	if version != 7 || format != 2 {
		return nil, fmt.Errorf("xwd: version %d format %d, want 7 and ZPixmap (2)", version, format)
	}
	if bpp != 32 && bpp != 24 {
		return nil, fmt.Errorf("xwd: %d bits per pixel, want 24 or 32", bpp)
	}
	off := int(headerSize) + 12*ncolors
	if off+ht*bpl > len(b) {
		return nil, fmt.Errorf("xwd: %d bytes, want %d", len(b), off+ht*bpl)
	}
	chan8 := func(p, mask uint32) uint8 {
		v := (p & mask) >> bits.TrailingZeros32(mask)
		return uint8(v * 255 / (mask >> bits.TrailingZeros32(mask)))
	}
	img := image.NewRGBA(image.Rect(0, 0, w, ht))
	n := bpp / 8
	for y := range ht {
		row := b[off+y*bpl:]
		for x := range w {
			var p uint32
			for k := range n {
				v := uint32(row[x*n+k])
				if byteOrder == 0 { // LSBFirst
					p |= v << (8 * k)
				} else {
					p = p<<8 | v
				}
			}
			img.SetRGBA(x, y, color.RGBA{chan8(p, rmask), chan8(p, gmask), chan8(p, bmask), 255})
		}
	}
	return img, nil
}
