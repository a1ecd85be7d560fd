// Image folders: root/CLASS/*.png|jpg (labeled) or root/*.png|jpg (unlabeled),
// any size, center-cropped to a square and scaled to one resolution.
package data

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // register the decoders image.Decode uses
	_ "image/png"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	xdraw "golang.org/x/image/draw"
)

// DefaultFolderSize is the side Load scales image folders to; call LoadFolder
// directly for another resolution.
const DefaultFolderSize = 32

// maxImagePixels bounds one decoded image (a variable so fuzzing can lower it):
// a corrupt header must not make the decoder allocate gigabytes.
var maxImagePixels = 1 << 26

// imageExts are the file extensions LoadFolder reads; other files are skipped.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true}

func isImageFile(name string) bool {
	return imageExts[strings.ToLower(filepath.Ext(name))]
}

// LoadFolder reads every image of root/CLASS/*.png|jpg|jpeg (labels are the
// sorted class folder names) or, when root holds images directly and no class
// folders, root/*.png|jpg|jpeg without labels. Each image is converted to
// RGB, center-cropped to a square and scaled to size x size; mean and std are
// computed from the result. Any unreadable image fails the whole load.
func LoadFolder(root string, size int) (*Dataset, error) {
	if size <= 0 {
		return nil, fmt.Errorf("data: %s: image size %d, want > 0", root, size)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("data: image folder: %w", err)
	}
	var classes, loose []string
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "."):
		case e.IsDir():
			classes = append(classes, e.Name())
		case isImageFile(e.Name()):
			loose = append(loose, filepath.Join(root, e.Name()))
		}
	}
	var paths []string
	var labels []int32
	switch {
	case len(classes) > 0 && len(loose) > 0:
		return nil, fmt.Errorf("data: %s: holds both class folders (%s, ...) and images (%s, ...); "+
			"want root/CLASS/*.png or root/*.png", root, classes[0], filepath.Base(loose[0]))
	case len(classes) > 0:
		sort.Strings(classes)
		for k, c := range classes {
			files, err := os.ReadDir(filepath.Join(root, c))
			if err != nil {
				return nil, fmt.Errorf("data: image folder: %w", err)
			}
			n := 0
			for _, f := range files {
				if !f.IsDir() && isImageFile(f.Name()) && !strings.HasPrefix(f.Name(), ".") {
					paths = append(paths, filepath.Join(root, c, f.Name()))
					labels = append(labels, int32(k))
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("data: %s: class folder %s has no .png or .jpg images", root, c)
			}
		}
	case len(loose) > 0:
		sort.Strings(loose)
		paths, classes = loose, nil
	default:
		return nil, fmt.Errorf("data: %s: no images (want root/CLASS/*.png|jpg or root/*.png|jpg): %w", root, ErrNotFound)
	}

	d := &Dataset{
		Name: filepath.Base(filepath.Clean(root)), N: len(paths), H: size, W: size, C: 3,
		Images: make([]uint8, len(paths)*size*size*3), Classes: classes, Sources: []string{root},
	}
	if len(classes) > 0 {
		d.Labels = labels
	}
	if err := decodeAll(paths, size, d.Images); err != nil {
		return nil, err
	}
	d.Mean, d.Std = channelStats(d.Images, 3)
	return d, d.Check()
}

// decodeAll decodes paths[i] into image i of dst with one worker per core and
// returns the first error in path order, so the message is deterministic.
func decodeAll(paths []string, size int, dst []uint8) error {
	n := size * size * 3
	errs := make([]error, len(paths))
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(paths)) {
		wg.Go(func() {
			for {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= len(paths) {
					return
				}
				buf, err := os.ReadFile(paths[k])
				if err != nil {
					errs[k] = fmt.Errorf("data: image folder: %w", err)
					continue
				}
				errs[k] = decodeImage(paths[k], buf, size, dst[k*n:(k+1)*n])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// decodeImage decodes a PNG or JPEG, center-crops it to a square, scales it
// to size x size with a bilinear filter (antialiased when shrinking) and
// writes (size, size, 3) RGB bytes to dst. Transparent pixels come out over black.
func decodeImage(file string, buf []byte, size int, dst []uint8) error {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(buf))
	if err != nil {
		return fmt.Errorf("data: %s: unreadable image: %w", file, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxImagePixels/max(cfg.Height, 1) {
		return fmt.Errorf("data: %s: %s of %dx%d pixels is empty or too large", file, format, cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(buf))
	if err != nil {
		return fmt.Errorf("data: %s: unreadable %s: %w", file, format, err)
	}
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	if side <= 0 {
		return fmt.Errorf("data: %s: empty %s", file, format)
	}
	x0, y0 := b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2
	src := image.Rect(x0, y0, x0+side, y0+side)
	out := image.NewRGBA(image.Rect(0, 0, size, size))
	if side == size {
		draw.Draw(out, out.Bounds(), img, src.Min, draw.Src)
	} else {
		xdraw.BiLinear.Scale(out, out.Bounds(), img, src, xdraw.Src, nil)
	}
	for p := range size * size {
		dst[3*p], dst[3*p+1], dst[3*p+2] = out.Pix[4*p], out.Pix[4*p+1], out.Pix[4*p+2]
	}
	return nil
}

// LoadFolderSplit loads one split of an image folder with LoadFolder:
// root/SPLIT when that folder exists; otherwise root is the training split
// and there is no test split (an error, not a silent reuse of the training images).
func LoadFolderSplit(root, split string, size int) (*Dataset, error) {
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("data: %q is neither a built-in dataset (%s) nor a folder: %w",
			root, strings.Join(Builtin, ", "), ErrNotFound)
	}
	sub := filepath.Join(root, split)
	if st, err := os.Stat(sub); err == nil && st.IsDir() {
		return LoadFolder(sub, size)
	}
	if split == "test" {
		return nil, fmt.Errorf("data: %s: no test split (want %s/CLASS/*.png): %w", root, sub, ErrNotFound)
	}
	return LoadFolder(root, size)
}
