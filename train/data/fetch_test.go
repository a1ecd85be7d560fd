// Fetch against a loopback HTTP server serving a tiny archive in the official format.
package data

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// tinyCIFARArchive returns a cifar-10-binary.tar.gz look-alike with 2 records per file.
func tinyCIFARArchive(t *testing.T) (archive []byte, sum string) {
	t.Helper()
	f := cifarFormats[CIFAR10]
	files := map[string][]byte{}
	var names []string
	for _, fn := range append(append([]string{f.meta}, f.train...), f.test...) {
		n := f.subdir + "/" + fn
		names = append(names, n)
		files[n] = cifarRecords(CIFAR10, 2)
	}
	files[f.subdir+"/"+f.meta] = []byte(strings.Join(f.classes, "\n") + "\n")
	archive = tarGz(t, names, files)
	s := md5.Sum(archive)
	return archive, hex.EncodeToString(s[:])
}

// archiveServer serves body at /cifar-10-binary.tar.gz with Range support.
// When cut > 0, the first full-body response stops after cut bytes and the
// connection is dropped, like a network failure mid-download; with stall
// set, it stops sending instead and waits until the client gives up.
type archiveServer struct {
	body   []byte
	cut    int
	stall  bool
	mu     sync.Mutex
	ranges []string // Range headers seen, "" for none
}

func (s *archiveServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/cifar-10-binary.tar.gz" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	cut := s.cut
	s.cut = 0
	s.mu.Unlock()
	if cut > 0 && r.Header.Get("Range") == "" {
		w.Header().Set("Content-Length", strconv.Itoa(len(s.body)))
		w.WriteHeader(http.StatusOK)
		w.Write(s.body[:cut])
		w.(http.Flusher).Flush()
		if s.stall {
			<-r.Context().Done()
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	http.ServeContent(w, r, "a.tar.gz", time.Time{}, bytes.NewReader(s.body))
}

func newArchiveServer(t *testing.T, s *archiveServer) string {
	t.Helper()
	srv := httptest.NewServer(s) // listens on 127.0.0.1 only
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestFetch(t *testing.T) {
	defer func(d time.Duration) { retryDelay = d }(retryDelay)
	defer func(d time.Duration) { stallTimeout = d }(stallTimeout)
	retryDelay, stallTimeout = time.Millisecond, 200*time.Millisecond
	body, sum := tinyCIFARArchive(t)
	half := len(body) / 2

	cases := []struct {
		name       string
		cut        int    // drop the first response after this many bytes
		stall      bool   // stall it instead
		part       []byte // pre-existing .part file
		wantRanges []string
	}{
		{"fresh", 0, false, nil, []string{""}},
		{"resume partial file", 0, false, body[:half], []string{"bytes=" + strconv.Itoa(half) + "-"}},
		{"retry after dropped connection", half, false, nil, []string{"", "bytes=" + strconv.Itoa(half) + "-"}},
		{"retry after stalled connection", half, true, nil, []string{"", "bytes=" + strconv.Itoa(half) + "-"}},
		{"restart a longer partial file", 0, false, append(append([]byte(nil), body...), 1, 2, 3), []string{"bytes=" + strconv.Itoa(len(body)+3) + "-", ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := &archiveServer{body: body, cut: c.cut, stall: c.stall}
			url := newArchiveServer(t, srv)
			dir := t.TempDir()
			if c.part != nil {
				writeFile(t, filepath.Join(dir, "cifar-10-binary.tar.gz.part"), c.part)
			}
			var last int64
			opts := FetchOptions{BaseURL: url, MD5: sum, Progress: func(done, total int64) { last = done }, Log: t.Logf}
			err := Fetch(context.Background(), CIFAR10, dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(srv.ranges, ",") != strings.Join(c.wantRanges, ",") {
				t.Errorf("Range headers %q, want %q", srv.ranges, c.wantRanges)
			}
			if last != int64(len(body)) {
				t.Errorf("progress ended at %d, want %d", last, len(body))
			}
			d, err := Load(CIFAR10, dir, "train")
			if err != nil || d.N != 10 {
				t.Fatalf("Load after fetch: %v", err)
			}
			// A second fetch sees the extracted files and makes no request.
			n := len(srv.ranges)
			if err := Fetch(context.Background(), CIFAR10, dir, opts); err != nil || len(srv.ranges) != n {
				t.Fatalf("second fetch: %v, %d requests", err, len(srv.ranges)-n)
			}
		})
	}
}

func TestFetchChecksumMismatch(t *testing.T) {
	body, _ := tinyCIFARArchive(t)
	url := newArchiveServer(t, &archiveServer{body: body})
	dir := t.TempDir()
	err := Fetch(context.Background(), CIFAR10, dir, FetchOptions{BaseURL: url}) // official md5: cannot match
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("err %v, want ErrChecksum", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cifar-10-binary.tar.gz.part")); !os.IsNotExist(err) {
		t.Errorf("corrupt download kept: %v", err)
	}
}

func TestFetchHandPlacedArchive(t *testing.T) {
	body, sum := tinyCIFARArchive(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "cifar-10-binary.tar.gz"), body)
	// No server at all: the archive in place is verified and extracted.
	if err := Fetch(context.Background(), CIFAR10, dir, FetchOptions{BaseURL: "http://127.0.0.1:1", MD5: sum}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(CIFAR10, dir, "test"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "cifar-10-binary.tar.gz"), body[:100])
	os.RemoveAll(filepath.Join(dir, "cifar-10-batches-bin"))
	if err := Fetch(context.Background(), CIFAR10, dir, FetchOptions{MD5: sum}); !errors.Is(err, ErrChecksum) {
		t.Fatalf("truncated archive: %v, want ErrChecksum", err)
	}
}

func TestFetchUnreachable(t *testing.T) {
	// A loopback port with nothing listening: the connection is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	err = Fetch(context.Background(), CIFAR10, dir, FetchOptions{BaseURL: "http://" + addr})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err %v, want ErrUnreachable", err)
	}
	for _, want := range []string{"Expected layout", "c32a1d4ab5d03f1284b67883e8d87530",
		filepath.Join(dir, "cifar-10-batches-bin", "data_batch_5.bin"), "3073-byte records"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%v", want, err)
		}
	}
	// 404 also explains the manual route.
	url := newArchiveServer(t, &archiveServer{})
	if err := Fetch(context.Background(), CIFAR100, dir, FetchOptions{BaseURL: url}); !errors.Is(err, ErrUnreachable) ||
		!strings.Contains(err.Error(), "cifar-100-binary") {
		t.Fatalf("404: %v", err)
	}
}

func TestFetchCanceled(t *testing.T) {
	body, sum := tinyCIFARArchive(t)
	url := newArchiveServer(t, &archiveServer{body: body})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Fetch(ctx, CIFAR10, t.TempDir(), FetchOptions{BaseURL: url, MD5: sum}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestFetchRefusesEscapingArchive(t *testing.T) {
	body := tarGz(t, []string{"../evil.txt"}, map[string][]byte{"../evil.txt": []byte("x")})
	s := md5.Sum(body)
	url := newArchiveServer(t, &archiveServer{body: body})
	dir := filepath.Join(t.TempDir(), "d")
	err := Fetch(context.Background(), CIFAR10, dir, FetchOptions{BaseURL: url, MD5: hex.EncodeToString(s[:])})
	if err == nil || !strings.Contains(err.Error(), "outside the target folder") {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "evil.txt")); !os.IsNotExist(err) {
		t.Fatal("file written outside the data folder")
	}
}

func TestFetchOtherDatasets(t *testing.T) {
	err := Fetch(context.Background(), MNIST, t.TempDir(), FetchOptions{})
	if err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte.gz") {
		t.Fatalf("mnist: %v", err)
	}
	if err := Fetch(context.Background(), "imagenet", "", FetchOptions{}); err == nil {
		t.Fatal("unknown dataset accepted")
	}
}

func TestParseContentRange(t *testing.T) {
	cases := []struct {
		in          string
		start, size int64
		ok          bool
	}{
		{"bytes 100-199/200", 100, 200, true},
		{"bytes */500", 0, 500, true},
		{"bytes 0-9/*", 0, -1, true},
		{"bits 0-9/10", 0, 0, false},
		{"bytes 0-9", 0, 0, false},
		{"bytes x-9/10", 0, 0, false},
	}
	for _, c := range cases {
		s, n, ok := parseContentRange(c.in)
		if ok != c.ok || (ok && (s != c.start || n != c.size)) {
			t.Errorf("parseContentRange(%q) = %d, %d, %v; want %d, %d, %v", c.in, s, n, ok, c.start, c.size, c.ok)
		}
	}
}
