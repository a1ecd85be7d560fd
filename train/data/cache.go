// The decoded-image cache (the idea behind FFCV): a folder's images are
// decoded once, in parallel, into one file that later runs memory-map, so
// neither decoding nor the pixels weigh on training: the pages live in the
// kernel's page cache, not in the process's heap.
//
// File layout (little-endian):
//
//	[0, 16)        "VKCLRIMG", format version (uint64)
//	pixels         each image (h, w, 3) bytes, back to back, in the order decoded
//	index          per image 24 bytes: offset int64, h int32, w int32, label int32, source int32
//	meta           JSON cacheMeta: key, classes, statistics, bad files
//	trailer        index offset, image count, meta offset, meta length (int64 each), "VKCLREND"
//
// The key hashes the format version, the stored side and every source's
// name, size and modification time (and label), so a changed folder gives
// another key and the file is rebuilt; an unchanged one is reused. A build
// writes FILE.partial under an exclusive lock (FILE.lock) and renames it
// when complete, so a reader never sees a partial file and an interrupted
// build leaves only FILE.partial, which the next build starts over.
package data

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vkclr/vkclr/train/progress"
)

const (
	cacheMagic    = "VKCLRIMG"
	cacheEndMagic = "VKCLREND"
	cacheVersion  = 1
	cacheHeader   = 16
	cacheEntry    = 24
	cacheTrailer  = 40
	// badShown is how many bad files the summary names.
	badShown = 5
)

// BadFile is a source that could not be decoded.
type BadFile struct {
	Path string `json:"path"`
	Err  string `json:"error"`
}

// cacheMeta is the JSON part of a cache file.
type cacheMeta struct {
	Key     string    `json:"key"`
	Name    string    `json:"name"`
	Root    string    `json:"root"`
	Side    int       `json:"side"`
	Classes []string  `json:"classes,omitempty"`
	Labeled bool      `json:"labeled"`
	Mean    []float32 `json:"mean"`
	Std     []float32 `json:"std"`
	Bad     []BadFile `json:"bad,omitempty"`
	Sources int       `json:"sources"`
	Built   string    `json:"built"`
	Seconds float64   `json:"build_seconds"`
}

// cacheSpec describes the images of one cache and how to decode them.
type cacheSpec struct {
	path    string // the cache file
	key     string
	name    string // the dataset's name
	root    string
	side    int
	names   []string // per source, for messages (paths relative to root)
	labels  []int32  // per source; nil when unlabeled
	classes []string
	decode  func(i int) (pix []uint8, h, w int, err error)
	strict  bool
	workers int
	log     io.Writer
	ctx     context.Context // nil means never cancelled
}

// ErrBadImage reports an image that could not be decoded under --strict-data.
var ErrBadImage = errors.New("bad image")

// openCache returns the dataset in spec's cache file, building the file first
// when it is missing or its key differs.
func openCache(spec cacheSpec) (*Dataset, []int32, error) {
	if err := os.MkdirAll(filepath.Dir(spec.path), 0o755); err != nil {
		return nil, nil, fmt.Errorf("data: cache folder: %w", err)
	}
	lock, err := os.OpenFile(spec.path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("data: cache: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fmt.Fprintf(logOrDiscard(spec.log), "waiting for another process building %s\n", spec.path)
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
			return nil, nil, fmt.Errorf("data: cache lock %s: %w", spec.path+".lock", err)
		}
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if d, meta, src, err := mapCache(spec.path, spec.key); err == nil {
		fmt.Fprintf(logOrDiscard(spec.log), "%s: %d images from the cache %s (side %d)\n", spec.name, d.N, spec.path, spec.side)
		reportBad(spec.log, meta.Bad, meta.Sources)
		return d, src, nil
	}
	if err := buildCache(spec); err != nil {
		return nil, nil, err
	}
	d, _, src, err := mapCache(spec.path, spec.key)
	return d, src, err
}

func logOrDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// reportBad prints the count and the first few paths of the files skipped.
func reportBad(log io.Writer, bad []BadFile, sources int) {
	if log == nil || len(bad) == 0 {
		return
	}
	fmt.Fprintf(log, "%d of %d files could not be read and were skipped (--strict-data fails instead):\n", len(bad), sources)
	for _, b := range bad[:min(len(bad), badShown)] {
		fmt.Fprintf(log, "  %s: %s\n", b.Path, b.Err)
	}
	if len(bad) > badShown {
		fmt.Fprintf(log, "  ... and %d more\n", len(bad)-badShown)
	}
}

// decoded is one worker's result.
type decoded struct {
	i    int
	pix  []uint8
	h, w int
	sum  [3]uint64
	sq   [3]uint64
	err  error
}

// buildCache decodes every source with one worker per core and writes the
// cache file atomically.
func buildCache(spec cacheSpec) (err error) {
	n := len(spec.names)
	start := time.Now()
	part := spec.path + ".partial"
	f, err := os.OpenFile(part, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("data: cache: %w", err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(part)
		}
	}()
	w := bufio.NewWriterSize(f, 4<<20)
	var hdr [cacheHeader]byte
	copy(hdr[:], cacheMagic)
	binary.LittleEndian.PutUint64(hdr[8:], cacheVersion)
	w.Write(hdr[:])
	pos := int64(cacheHeader)

	workers := spec.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, n))
	jobs := make(chan int)
	results := make(chan decoded, 2*workers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				r := decoded{i: i}
				r.pix, r.h, r.w, r.err = spec.decode(i)
				if r.err == nil {
					for p := 0; p < len(r.pix); p += 3 {
						for c := range 3 {
							v := uint64(r.pix[p+c])
							r.sum[c] += v
							r.sq[c] += v * v
						}
					}
				}
				select {
				case results <- r:
				case <-stop:
					return
				}
			}
		})
	}
	go func() {
		defer close(jobs)
		for i := range n {
			select {
			case jobs <- i:
			case <-stop:
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		for range results { // let the workers finish
		}
	}()

	type entry struct {
		off  int64
		h, w int32
	}
	entries := make([]entry, n)
	ok := make([]bool, n)
	badMsg := map[int]string{}
	var sum, sq [3]uint64
	var pixels uint64
	var bar *progress.Bar
	if spec.log != nil {
		fmt.Fprintf(spec.log, "decoding %d images of %s once into %s (shorter side %d, %d workers)\n", n, spec.root, spec.path, spec.side, workers)
		bar = progress.New(n, "cache", spec.log)
		defer bar.Finish()
	}
	done := 0
	ctx := spec.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	for {
		var r decoded
		var more bool
		select {
		case r, more = <-results:
		case <-ctx.Done():
			return fmt.Errorf("data: cache build of %s stopped after %d of %d images (the next run starts it over): %w", spec.root, done, n, ctx.Err())
		}
		if !more {
			break
		}
		done++
		if r.err != nil {
			if spec.strict {
				return fmt.Errorf("data: %v: %w (without --strict-data it would be skipped)", r.err, ErrBadImage)
			}
			badMsg[r.i] = trimPath(r.err.Error(), spec.names[r.i])
		} else {
			if _, err := w.Write(r.pix); err != nil {
				return fmt.Errorf("data: cache %s: %w", part, err)
			}
			entries[r.i] = entry{pos, int32(r.h), int32(r.w)}
			ok[r.i] = true
			pos += int64(len(r.pix))
			for c := range 3 {
				sum[c] += r.sum[c]
				sq[c] += r.sq[c]
			}
			pixels += uint64(r.h * r.w)
		}
		if bar != nil {
			el := time.Since(start).Seconds()
			bar.Set(done, fmt.Sprintf("%.0f img/s", float64(done)/max(el, 1e-9)))
		}
	}
	if done < n {
		return fmt.Errorf("data: cache build of %s stopped after %d of %d images", spec.root, done, n)
	}
	good := 0
	for i := range n {
		if ok[i] {
			good++
		}
	}
	if good == 0 {
		return fmt.Errorf("data: %s: none of the %d images could be read (first: %s): %w", spec.root, n, spec.names[0], ErrNotFound)
	}

	indexOff := pos
	var rec [cacheEntry]byte
	for i := range n {
		if !ok[i] {
			continue
		}
		e := entries[i]
		label := int32(-1)
		if spec.labels != nil {
			label = spec.labels[i]
		}
		binary.LittleEndian.PutUint64(rec[0:], uint64(e.off))
		binary.LittleEndian.PutUint32(rec[8:], uint32(e.h))
		binary.LittleEndian.PutUint32(rec[12:], uint32(e.w))
		binary.LittleEndian.PutUint32(rec[16:], uint32(label))
		binary.LittleEndian.PutUint32(rec[20:], uint32(i))
		w.Write(rec[:])
	}
	pos += int64(good * cacheEntry)
	var bad []BadFile // in listing order, so the report is the same run to run
	for i := range n {
		if !ok[i] {
			bad = append(bad, BadFile{Path: filepath.Join(spec.root, spec.names[i]), Err: badMsg[i]})
		}
	}
	meta := cacheMeta{Key: spec.key, Name: spec.name, Root: spec.root, Side: spec.side, Classes: spec.classes,
		Labeled: spec.labels != nil, Bad: bad, Sources: n, Built: time.Now().UTC().Format(time.RFC3339),
		Seconds: time.Since(start).Seconds()}
	meta.Mean, meta.Std = statsFromSums(sum, sq, pixels)
	mj, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	w.Write(mj)
	var tr [cacheTrailer]byte
	binary.LittleEndian.PutUint64(tr[0:], uint64(indexOff))
	binary.LittleEndian.PutUint64(tr[8:], uint64(good))
	binary.LittleEndian.PutUint64(tr[16:], uint64(pos))
	binary.LittleEndian.PutUint64(tr[24:], uint64(len(mj)))
	copy(tr[32:], cacheEndMagic)
	w.Write(tr[:])
	if err := w.Flush(); err != nil {
		return fmt.Errorf("data: cache %s: %w", part, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("data: cache %s: %w", part, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("data: cache %s: %w", part, err)
	}
	f = nil
	if err := os.Rename(part, spec.path); err != nil {
		return fmt.Errorf("data: cache: %w", err)
	}
	if dir, err := os.Open(filepath.Dir(spec.path)); err == nil {
		dir.Sync()
		dir.Close()
	}
	if bar != nil {
		bar.Finish()
		el := time.Since(start).Seconds()
		fmt.Fprintf(spec.log, "cache built: %d images in %.1f s (%.0f images/s), %.1f MB\n", good, el, float64(n)/el, float64(pos)/1e6)
	}
	reportBad(spec.log, bad, n)
	return nil
}

// trimPath drops the leading "NAME: " of a decoder message that the report
// prints beside the path already.
func trimPath(msg, name string) string {
	for _, p := range []string{name + ": ", filepath.Base(name) + ": "} {
		if i := strings.Index(msg, p); i >= 0 {
			return msg[i+len(p):]
		}
	}
	return msg
}

// statsFromSums turns per-channel byte sums into mean and std in [0, 1] units.
func statsFromSums(sum, sq [3]uint64, n uint64) (mean, std []float32) {
	mean, std = make([]float32, 3), make([]float32, 3)
	for c := range 3 {
		if n == 0 {
			mean[c], std[c] = 0, 1
			continue
		}
		m := float64(sum[c]) / float64(n)
		v := float64(sq[c])/float64(n) - m*m
		s := math.Sqrt(max(v, 0))
		if s < 1e-3 { // constant channel: avoid dividing by zero in normalization
			s = 1e-3 * 255
		}
		mean[c], std[c] = float32(m/255), float32(s/255)
	}
	return mean, std
}

// mapCache memory-maps a cache file and checks its key and structure; src
// gives each image's index among the sources.
func mapCache(path, key string) (d *Dataset, meta *cacheMeta, src []int32, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	st, err := f.Stat()
	if err != nil {
		return nil, nil, nil, err
	}
	size := st.Size()
	if size < cacheHeader+cacheTrailer || size > math.MaxInt {
		return nil, nil, nil, fmt.Errorf("%s: %d bytes is not a cache file", path, size)
	}
	var tr [cacheTrailer]byte
	if _, err := f.ReadAt(tr[:], size-cacheTrailer); err != nil {
		return nil, nil, nil, err
	}
	if string(tr[32:]) != cacheEndMagic {
		return nil, nil, nil, fmt.Errorf("%s: not a complete cache file", path)
	}
	indexOff := int64(binary.LittleEndian.Uint64(tr[0:]))
	n := int64(binary.LittleEndian.Uint64(tr[8:]))
	metaOff := int64(binary.LittleEndian.Uint64(tr[16:]))
	metaLen := int64(binary.LittleEndian.Uint64(tr[24:]))
	if indexOff < cacheHeader || n < 0 || n > size/cacheEntry || indexOff+n*cacheEntry != metaOff ||
		metaLen < 0 || metaOff+metaLen != size-cacheTrailer {
		return nil, nil, nil, fmt.Errorf("%s: inconsistent cache trailer", path)
	}
	mj := make([]byte, metaLen)
	if _, err := f.ReadAt(mj, metaOff); err != nil {
		return nil, nil, nil, err
	}
	meta = new(cacheMeta)
	if err := json.Unmarshal(mj, meta); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: cache metadata: %w", path, err)
	}
	if meta.Key != key {
		return nil, nil, nil, fmt.Errorf("%s: built for other content", path)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("data: mapping %s: %w", path, err)
	}
	d = &Dataset{Name: meta.Name, N: int(n), H: meta.Side, W: meta.Side, C: 3, Images: mem[:indexOff],
		Classes: meta.Classes, Mean: meta.Mean, Std: meta.Std, Sources: []string{meta.Root},
		Dims: make([]Dim, n), Key: key}
	if meta.Labeled {
		d.Labels = make([]int32, n)
	}
	idx := mem[indexOff:metaOff]
	src = make([]int32, n)
	for i := range d.Dims {
		src[i] = int32(binary.LittleEndian.Uint32(idx[i*cacheEntry+20:]))
		e := idx[i*cacheEntry:]
		d.Dims[i] = Dim{Off: int64(binary.LittleEndian.Uint64(e)), H: int32(binary.LittleEndian.Uint32(e[8:])), W: int32(binary.LittleEndian.Uint32(e[12:]))}
		if d.Labels != nil {
			d.Labels[i] = int32(binary.LittleEndian.Uint32(e[16:]))
		}
	}
	if err := d.Check(); err != nil {
		syscall.Munmap(mem)
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, meta, src, nil
}
