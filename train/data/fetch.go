// Downloading the dataset archives: resumable HTTP, md5 check, tar.gz extraction.
package data

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// OfficialBaseURL is where the CIFAR archives are published.
const OfficialBaseURL = "https://www.cs.toronto.edu/~kriz/"

// archive is one downloadable dataset file.
type archive struct {
	base string // where it is published
	file string
	md5  string
}

// archives holds the official archives and their published md5 sums. The
// STL-10 sum is the one torchvision's STL10 dataset checks (tgz_md5 in
// torchvision/datasets/stl10.py), the Imagenette one torchvision's
// Imagenette dataset (torchvision/datasets/imagenette.py, "160px").
var archives = map[string]archive{
	CIFAR10:    {OfficialBaseURL, "cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"},
	CIFAR100:   {OfficialBaseURL, "cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8"},
	STL10:      {"http://ai.stanford.edu/~acoates/stl10/", "stl10_binary.tar.gz", "91f7769df0f17e558f3565bffb0c7dfb"},
	Imagenette: {"https://s3.amazonaws.com/fast-ai-imageclas/", "imagenette2-160.tgz", "e793b78cc4c9e9a4ccc0c1155377a412"},
}

// Fetchable lists the datasets Fetch downloads.
var Fetchable = []string{CIFAR10, CIFAR100, STL10, Imagenette}

// ErrUnreachable reports that the download server could not be reached (or
// refused the file); the wrapping error says how to place the files by hand.
var ErrUnreachable = errors.New("download server unreachable")

// ErrChecksum reports a downloaded or hand-placed archive whose md5 is wrong.
var ErrChecksum = errors.New("checksum mismatch")

// FetchOptions configures Fetch; the zero value downloads from the official site.
type FetchOptions struct {
	BaseURL  string                        // "" means OfficialBaseURL; tests point it at a local server
	MD5      string                        // expected archive md5; "" means the official one
	Client   *http.Client                  // nil means a client with connection timeouts
	Attempts int                           // download attempts, each resuming the partial file; 0 means 3
	Progress func(done, total int64)       // called as bytes arrive; total is -1 when unknown
	Log      func(format string, a ...any) // progress messages; nil means silent
}

// retryDelay is the pause before the k-th retry (times k); tests shorten it.
var retryDelay = time.Second

// stallTimeout ends an attempt that receives no data for this long, so a
// dead connection is retried (resuming) instead of hanging; tests shorten it.
var stallTimeout = time.Minute

var errStalled = errors.New("no data received for a while")

// Fetch downloads a dataset archive (one of Fetchable) into dataDir
// ("" means DefaultDir(name)), resuming a partial download with an HTTP Range
// request, verifies its md5 and extracts it, so that Load(name, dataDir, ...)
// then works. It does nothing when the extracted files are already there, and
// uses an archive already placed in dataDir by hand instead of downloading.
// When the server cannot be reached the error wraps ErrUnreachable and
// explains the file layout to create by hand.
func Fetch(ctx context.Context, name, dataDir string, opts FetchOptions) error {
	ar, ok := archives[name]
	if !ok {
		if IsBuiltin(name) {
			dir := dataDir
			if dir == "" {
				dir, _ = DefaultDir(name)
			}
			return fmt.Errorf("data: fetch: %s has no download here; place the files by hand:\n%s", name, Layout(name, dir))
		}
		return fmt.Errorf("data: fetch: unknown dataset %q (fetch supports %s)", name, strings.Join(Fetchable, ", "))
	}
	if dataDir == "" {
		d, err := DefaultDir(name)
		if err != nil {
			return err
		}
		dataDir = d
	}
	logf := opts.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	want := ar.md5
	if opts.MD5 != "" {
		want = opts.MD5
	}
	if dir, err := fetchComplete(name, dataDir); err == nil {
		logf("%s already present in %s\n", name, dir)
		return nil
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("data: fetch: %w", err)
	}
	dst := filepath.Join(dataDir, ar.file)
	if _, err := os.Stat(dst); err == nil {
		logf("verifying %s\n", dst)
		got, err := fileMD5(dst)
		if err != nil {
			return fmt.Errorf("data: fetch: %w", err)
		}
		if got != want {
			return fmt.Errorf("data: fetch: %s has md5 %s, want %s (remove it and run again): %w", dst, got, want, ErrChecksum)
		}
	} else {
		base := opts.BaseURL
		if base == "" {
			base = ar.base
		}
		url := strings.TrimSuffix(base, "/") + "/" + ar.file
		if err := download(ctx, url, dst, want, opts, logf); err != nil {
			var manual string
			if errors.Is(err, ErrUnreachable) {
				manual = "\n\nWithout internet access, download the archive on another machine and place it by hand.\n" + Layout(name, dataDir)
			}
			return fmt.Errorf("data: fetch %s: %w%s", name, err, manual)
		}
	}
	logf("extracting %s\n", dst)
	if err := extractTarGz(dst, dataDir); err != nil {
		return fmt.Errorf("data: fetch %s: %w", name, err)
	}
	if _, err := fetchComplete(name, dataDir); err != nil {
		return fmt.Errorf("data: fetch %s: %s did not hold the expected files: %w", name, dst, err)
	}
	return nil
}

// Present reports whether a built-in dataset's files are in dir.
func Present(name, dir string) bool {
	if name == FashionMNIST || name == MNIST {
		for _, s := range []string{"train", "test"} {
			im, lb := idxFiles(s)
			for _, f := range []string{im, lb} {
				_, e1 := os.Stat(filepath.Join(dir, f))
				_, e2 := os.Stat(filepath.Join(dir, f+".gz"))
				if e1 != nil && e2 != nil {
					return false
				}
			}
		}
		return true
	}
	_, err := fetchComplete(name, dir)
	return err == nil
}

// fetchComplete returns the folder holding a fetched dataset's files, or
// an error saying what is missing.
func fetchComplete(name, dataDir string) (string, error) {
	switch name {
	case STL10:
		dir, err := stl10Dir(dataDir)
		if err != nil {
			return "", err
		}
		for _, s := range []string{"train", "test", "unlabeled"} {
			for k, fn := range stl10Files[s] {
				if fn == "" {
					continue
				}
				st, err := os.Stat(filepath.Join(dir, fn))
				if err != nil {
					return "", err
				}
				if unit := int64([]int{stl10Pixels, 1}[k]); st.Size() == 0 || st.Size()%unit != 0 {
					return "", fmt.Errorf("%s: %d bytes is not a whole number of %d-byte records", filepath.Join(dir, fn), st.Size(), unit)
				}
			}
		}
		return dir, nil
	case Imagenette:
		dir, err := imagenetteDir(dataDir)
		if err != nil {
			return "", err
		}
		if st, err := os.Stat(filepath.Join(dir, "val")); err != nil || !st.IsDir() {
			return "", fmt.Errorf("%s: no val folder", dir)
		}
		return dir, nil
	}
	return cifarComplete(name, dataDir)
}

// cifarComplete returns the folder holding all of a CIFAR variant's files,
// each a non-empty whole number of records, or an error saying what is missing.
func cifarComplete(name, dataDir string) (string, error) {
	f := cifarFormats[name]
	dir, err := cifarDir(f, dataDir)
	if err != nil {
		return "", err
	}
	for _, fn := range append(append([]string(nil), f.train...), f.test...) {
		st, err := os.Stat(filepath.Join(dir, fn))
		if err != nil {
			return "", err
		}
		if st.Size() == 0 || st.Size()%int64(f.recordSize()) != 0 {
			return "", fmt.Errorf("%s: %d bytes is not a whole number of %d-byte records", filepath.Join(dir, fn), st.Size(), f.recordSize())
		}
	}
	return dir, nil
}

// download fetches url into dst via dst.part, resuming what is already there,
// and renames it to dst once its md5 matches.
func download(ctx context.Context, url, dst, wantMD5 string, opts FetchOptions, logf func(string, ...any)) error {
	client := opts.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			TLSHandshakeTimeout:   30 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
		}}
	}
	attempts := opts.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	part := dst + ".part"
	var err error
	for k := range attempts {
		if k > 0 {
			logf("retrying (%d of %d): %v\n", k+1, attempts, err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(k) * retryDelay):
			}
		}
		err = downloadOnce(ctx, client, url, part, opts.Progress, logf)
		if err == nil || errors.Is(err, ErrUnreachable) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w (the partial file %s is kept; run again to resume)", ctx.Err(), part)
		}
		return err
	}
	got, err := fileMD5(part)
	if err != nil {
		return err
	}
	if got != wantMD5 {
		os.Remove(part)
		return fmt.Errorf("%s: md5 %s, want %s; the download was removed, run again: %w", url, got, wantMD5, ErrChecksum)
	}
	return os.Rename(part, dst)
}

// downloadOnce makes one request, appending to part when the server honors
// the Range request and starting over when it sends the whole file.
func downloadOnce(ctx context.Context, client *http.Client, url, part string, progress func(int64, int64), logf func(string, ...any)) error {
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := time.AfterFunc(stallTimeout, func() { cancel(errStalled) })
	defer stall.Stop()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if context.Cause(rctx) == errStalled {
			return fmt.Errorf("%s: no response within %v", url, stallTimeout)
		}
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer resp.Body.Close()

	total := int64(-1)
	flags := os.O_WRONLY | os.O_CREATE
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != have {
			return fmt.Errorf("%s: server answered range %q to a request from byte %d", url, resp.Header.Get("Content-Range"), have)
		}
		logf("resuming %s at byte %d\n", filepath.Base(part), have)
		flags |= os.O_APPEND
		total = size
	case http.StatusOK:
		flags |= os.O_TRUNC
		have = 0
		total = resp.ContentLength
	case http.StatusRequestedRangeNotSatisfiable:
		// The partial file is already whole (or longer than the file): let the md5 decide.
		_, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if ok && size == have {
			return nil
		}
		os.Remove(part)
		return fmt.Errorf("%s: partial file of %d bytes does not fit the server's file; removed it", url, have)
	default:
		return fmt.Errorf("%w: %s: HTTP %s", ErrUnreachable, url, resp.Status)
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return err
	}
	w := &progressWriter{w: f, done: have, total: total, fn: func(done, total int64) {
		stall.Reset(stallTimeout)
		if progress != nil {
			progress(done, total)
		}
	}}
	w.report()
	_, err = io.Copy(w, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if context.Cause(rctx) == errStalled {
			err = fmt.Errorf("%w (%v)", errStalled, stallTimeout)
		}
		return fmt.Errorf("%s: download interrupted after %d bytes: %w", url, w.done, err)
	}
	if total >= 0 && w.done != total {
		return fmt.Errorf("%s: download ended at %d of %d bytes", url, w.done, total)
	}
	return nil
}

// parseContentRange parses "bytes START-END/SIZE" or "bytes */SIZE"
// (SIZE may be "*", returned as -1).
func parseContentRange(s string) (start, size int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, sz, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	size = -1
	if sz != "*" {
		v, err := strconv.ParseInt(sz, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		size = v
	}
	if rng == "*" {
		return 0, size, true
	}
	a, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	return start, size, err == nil
}

// progressWriter counts bytes and reports them to fn.
type progressWriter struct {
	w           io.Writer
	done, total int64
	fn          func(done, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.report()
	return n, err
}

func (p *progressWriter) report() {
	if p.fn != nil {
		p.fn(p.done, p.total)
	}
}

func fileMD5(path string) (string, error) { return fileHash(path, md5.New()) }

func fileHash(path string, h hash.Hash) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// extractTarGz unpacks regular files and folders of a .tar.gz into dir. Names
// that would escape dir, links and devices are refused; each file is written
// to a temporary name first so an interrupted extraction leaves no truncated
// file under its real name.
func extractTarGz(archivePath, dir string) error {
	f, err := os.Open(archivePath)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: gzip: %w", archivePath, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: tar: %w", archivePath, err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("%s: entry %q points outside the target folder", archivePath, h.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := writeFileFrom(target, tr); err != nil {
				return fmt.Errorf("%s: entry %s: %w", archivePath, h.Name, err)
			}
		case tar.TypeXGlobalHeader, tar.TypeXHeader:
		default:
			return fmt.Errorf("%s: entry %q has type %q; only files and folders are extracted", archivePath, h.Name, h.Typeflag)
		}
	}
}

func writeFileFrom(target string, r io.Reader) error {
	tmp := target + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, target)
}

// Layout describes where a dataset's files go under dir, for users who
// download them by hand; error messages of Load and Fetch include it.
func Layout(name, dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Expected layout for %s:\n", name)
	switch name {
	case CIFAR10, CIFAR100:
		f, ar := cifarFormats[name], archives[name]
		fmt.Fprintf(&b, "  %s\n      the official archive from %s%s (md5 %s);\n      'vkclr data fetch %s --data-dir %s' verifies and extracts it, or extract it yourself:\n",
			filepath.Join(dir, ar.file), ar.base, ar.file, ar.md5, name, dir)
		sub := filepath.Join(dir, f.subdir)
		for _, fn := range append(append([]string(nil), f.train...), f.test...) {
			fmt.Fprintf(&b, "  %s\n", filepath.Join(sub, fn))
		}
		fmt.Fprintf(&b, "  %s   (class names, optional)\n", filepath.Join(sub, f.meta))
		fmt.Fprintf(&b, "  each .bin a sequence of %d-byte records: %d label byte(s), then 1024 R, 1024 G, 1024 B\n",
			f.recordSize(), f.labelBytes)
	case FashionMNIST, MNIST:
		for _, s := range []string{"train", "test"} {
			im, lb := idxFiles(s)
			fmt.Fprintf(&b, "  %s\n  %s\n", filepath.Join(dir, im+".gz"), filepath.Join(dir, lb+".gz"))
		}
		b.WriteString("  (idx files, gzip-compressed or raw without the .gz suffix)\n")
		if name == FashionMNIST {
			fmt.Fprintf(&b, "  On Debian: apt-get install dataset-fashion-mnist puts them in %s\n", DebianFashionMNIST)
		}
	case STL10:
		ar := archives[name]
		fmt.Fprintf(&b, "  %s\n      the official archive from %s%s (md5 %s);\n      'vkclr data fetch %s --data-dir %s' verifies and extracts it, or extract it yourself:\n",
			filepath.Join(dir, ar.file), ar.base, ar.file, ar.md5, name, dir)
		for _, s := range []string{"train", "test", "unlabeled"} {
			for _, fn := range stl10Files[s] {
				if fn != "" {
					fmt.Fprintf(&b, "  %s\n", filepath.Join(dir, stl10Subdir, fn))
				}
			}
		}
		fmt.Fprintf(&b, "  each _X.bin a sequence of %d-byte images (R, G, B planes of 96x96, column-major), each _y.bin one label byte (1-10) per image\n", stl10Pixels)
	case Imagenette:
		ar := archives[name]
		fmt.Fprintf(&b, "  %s\n      the official archive from %s%s (md5 %s), extracted to\n  %s/train/CLASS/*.JPEG and %s/val/CLASS/*.JPEG\n",
			filepath.Join(dir, ar.file), ar.base, ar.file, ar.md5, filepath.Join(dir, imagenetteSubdir), filepath.Join(dir, imagenetteSubdir))
	default:
		fmt.Fprintf(&b, "  %s/CLASS/*.jpg|png|webp, %s/*.jpg|png|webp without labels, or %s/train/CLASS/* and %s/val/CLASS/*\n", dir, dir, dir, dir)
	}
	return b.String()
}
