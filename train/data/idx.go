// MNIST and Fashion-MNIST: idx files (big-endian header, then unsigned bytes),
// raw or gzip-compressed.
package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// maxIDXBytes bounds a decompressed idx file, so a corrupt gzip stream or
// header cannot make the loader allocate without limit.
const maxIDXBytes = 1 << 30

// ParseIDX decodes an idx file with unsigned-byte data (type 0x08), raw or
// gzip-compressed (detected from the content). It returns the dimensions and
// the data, whose length is exactly their product; anything else (bad magic,
// truncated or trailing data) is an error naming file and offset.
func ParseIDX(file string, buf []byte) (dims []int, payload []byte, err error) {
	if len(buf) >= 2 && buf[0] == 0x1f && buf[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(buf))
		if err != nil {
			return nil, nil, fmt.Errorf("data: %s: gzip: %w", file, err)
		}
		raw, err := io.ReadAll(io.LimitReader(zr, maxIDXBytes+1))
		if err != nil {
			return nil, nil, fmt.Errorf("data: %s: gzip (after %d decompressed bytes): %w", file, len(raw), err)
		}
		if len(raw) > maxIDXBytes {
			return nil, nil, fmt.Errorf("data: %s: decompresses to more than %d bytes", file, maxIDXBytes)
		}
		buf = raw
		file += " (decompressed)"
	}
	if len(buf) < 4 {
		return nil, nil, fmt.Errorf("data: %s: %d bytes, too short for an idx header", file, len(buf))
	}
	if buf[0] != 0 || buf[1] != 0 {
		return nil, nil, fmt.Errorf("data: %s: offset 0: magic % x is not an idx file", file, buf[:4])
	}
	if buf[2] != 0x08 {
		return nil, nil, fmt.Errorf("data: %s: offset 2: data type 0x%02x, only unsigned bytes (0x08) are supported", file, buf[2])
	}
	nd := int(buf[3])
	if nd == 0 {
		return nil, nil, fmt.Errorf("data: %s: offset 3: zero dimensions", file)
	}
	hdr := 4 + 4*nd
	if len(buf) < hdr {
		return nil, nil, fmt.Errorf("data: %s: header of %d dimensions needs %d bytes, file has %d", file, nd, hdr, len(buf))
	}
	total := 1
	dims = make([]int, nd)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(buf[4+4*i:]))
		if dims[i] > maxIDXBytes || (dims[i] != 0 && total > maxIDXBytes/dims[i]) {
			return nil, nil, fmt.Errorf("data: %s: offset %d: dimension %d is %d, implausibly large", file, 4+4*i, i, dims[i])
		}
		total *= dims[i]
	}
	if got := len(buf) - hdr; got != total {
		what := "truncated"
		if got > total {
			what = "trailing data"
		}
		return nil, nil, fmt.Errorf("data: %s: %s: dimensions %v need %d data bytes from offset %d, file has %d",
			file, what, dims, total, hdr, got)
	}
	return dims, buf[hdr:], nil
}

// idxFiles returns the image and label file base names of a split.
func idxFiles(split string) (images, labels string) {
	p := "train"
	if split == "test" {
		p = "t10k"
	}
	return p + "-images-idx3-ubyte", p + "-labels-idx1-ubyte"
}

var idxClasses = map[string][]string{
	FashionMNIST: {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
		"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
	MNIST: {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
}

// readIDXFile reads dir/base, or dir/base.gz when the raw file is absent.
func readIDXFile(name, dir, base string) (path string, dims []int, payload []byte, err error) {
	for _, p := range []string{filepath.Join(dir, base), filepath.Join(dir, base+".gz")} {
		buf, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return p, nil, nil, fmt.Errorf("data: %s: %w", name, err)
		}
		dims, payload, err := ParseIDX(p, buf)
		return p, dims, payload, err
	}
	return "", nil, nil, fmt.Errorf("data: %s: no %s or %s.gz in %s:\n%s%w",
		name, base, base, dir, Layout(name, dir), ErrNotFound)
}

// loadIDX reads one split of MNIST or Fashion-MNIST; see Load.
func loadIDX(name, dir, split string) (*Dataset, error) {
	imBase, lbBase := idxFiles(split)
	imPath, imDims, images, err := readIDXFile(name, dir, imBase)
	if err != nil {
		return nil, err
	}
	lbPath, lbDims, labels, err := readIDXFile(name, dir, lbBase)
	if err != nil {
		return nil, err
	}
	if len(imDims) != 3 || imDims[1] == 0 || imDims[2] == 0 {
		return nil, fmt.Errorf("data: %s: image dimensions %v, want (N, H, W)", imPath, imDims)
	}
	if len(lbDims) != 1 {
		return nil, fmt.Errorf("data: %s: label dimensions %v, want (N)", lbPath, lbDims)
	}
	if imDims[0] != lbDims[0] {
		return nil, fmt.Errorf("data: %s has %d images but %s has %d labels", imPath, imDims[0], lbPath, lbDims[0])
	}
	classes := idxClasses[name]
	d := &Dataset{
		Name: name, N: imDims[0], H: imDims[1], W: imDims[2], C: 1,
		Images: images, Labels: make([]int32, len(labels)),
		Classes: append([]string(nil), classes...), Sources: []string{imPath, lbPath},
	}
	for i, l := range labels {
		if int(l) >= len(classes) {
			return nil, fmt.Errorf("data: %s: offset %d: label %d of image %d, want < %d", lbPath, 8+i, l, i, len(classes))
		}
		d.Labels[i] = int32(l)
	}
	return d, nil
}
