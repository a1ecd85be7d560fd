// Command genimages writes a synthetic image folder for benchmarks of the
// image-folder path: N random-content JPEGs in C class folders
// (DIR/cNNN/NNNNNN.jpg), each a few random smooth color waves plus noise, so
// the files compress and decode like photographs rather than like pure
// noise. The content is a function of (--seed, image index) alone; files
// already there are kept, so an interrupted run resumes.
//
//	go run ./tools/genimages --out runs/imgfolder-50k --n 50000 --classes 100 --size 256
package main

import (
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	out := flag.String("out", "", "output folder (created)")
	n := flag.Int("n", 50000, "number of images")
	classes := flag.Int("classes", 100, "number of class folders")
	size := flag.Int("size", 256, "image side in pixels")
	quality := flag.Int("quality", 90, "JPEG quality")
	seed := flag.Uint64("seed", 1, "content seed")
	flag.Parse()
	if *out == "" || *n <= 0 || *classes <= 0 || *size <= 0 {
		fmt.Fprintln(os.Stderr, "usage: genimages --out DIR [--n 50000] [--classes 100] [--size 256]")
		os.Exit(2)
	}
	for c := range *classes {
		if err := os.MkdirAll(filepath.Join(*out, fmt.Sprintf("c%03d", c)), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	var next, done atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			img := image.NewRGBA(image.Rect(0, 0, *size, *size))
			for {
				i := int(next.Add(1) - 1)
				if i >= *n {
					return
				}
				path := filepath.Join(*out, fmt.Sprintf("c%03d", i%*classes), fmt.Sprintf("%06d.jpg", i))
				if _, err := os.Stat(path); err == nil { // already written by an earlier run
					done.Add(1)
					continue
				}
				paint(img, *seed, uint64(i))
				f, err := os.Create(path + ".tmp")
				if err == nil {
					err = jpeg.Encode(f, img, &jpeg.Options{Quality: *quality})
					if cerr := f.Close(); err == nil {
						err = cerr
					}
				}
				if err == nil {
					err = os.Rename(path+".tmp", path)
				}
				if err != nil {
					failed.Store(err)
					return
				}
				if d := done.Add(1); d%5000 == 0 {
					fmt.Fprintf(os.Stderr, "%d/%d images, %.0f/s\n", d, *n, float64(d)/time.Since(start).Seconds())
				}
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "wrote %d images in %d classes to %s in %.0f s\n", *n, *classes, *out, time.Since(start).Seconds())
}

// splitmix64 step.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// paint fills img with three random waves per channel and light noise.
func paint(img *image.RGBA, seed, i uint64) {
	s := mix(seed*0x632be59bd9b4e019 + i)
	u := func() float64 { s = mix(s); return float64(s>>11) / (1 << 53) }
	type wave struct{ fx, fy, ph, amp float64 }
	var waves [3][3]wave
	var base [3]float64
	for c := range 3 {
		base[c] = 60 + 120*u()
		for k := range 3 {
			waves[c][k] = wave{(u() - 0.5) * 0.1, (u() - 0.5) * 0.1, u() * 2 * math.Pi, 20 + 40*u()}
		}
	}
	b := img.Bounds()
	// sin(fx x + ph + fy y) = sin(fx x + ph) cos(fy y) + cos(fx x + ph) sin(fy y),
	// from per-column and per-row tables.
	W, H := b.Dx(), b.Dy()
	var sx, cx [3][3][]float64
	var sy, cy [3][3][]float64
	for c := range 3 {
		for k, w := range waves[c] {
			sx[c][k], cx[c][k] = make([]float64, W), make([]float64, W)
			sy[c][k], cy[c][k] = make([]float64, H), make([]float64, H)
			for x := range W {
				sx[c][k][x], cx[c][k][x] = math.Sincos(w.fx*float64(x) + w.ph)
				sx[c][k][x] *= w.amp
				cx[c][k][x] *= w.amp
			}
			for y := range H {
				sy[c][k][y], cy[c][k][y] = math.Sincos(w.fy * float64(y))
			}
		}
	}
	for y := range H {
		for x := range W {
			s = mix(s)
			for c := range 3 {
				v := base[c]
				for k := range 3 {
					v += sx[c][k][x]*cy[c][k][y] + cx[c][k][x]*sy[c][k][y]
				}
				v += float64(int(s>>(8*c))&15) - 7.5
				img.Pix[(y*b.Dx()+x)*4+c] = uint8(min(max(v, 0), 255))
			}
			img.Pix[(y*b.Dx()+x)*4+3] = 255
		}
	}
}
