// End-to-end tests of `vkclr data` against a loopback server and tiny files.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var cifar10Files = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
	"data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"}

// tinyCIFAR10 returns n CIFAR-10 records with labels i%10.
func tinyCIFAR10(n int) []byte {
	b := make([]byte, n*3073)
	for i := range n {
		b[i*3073] = byte(i % 10)
		for p := 1; p < 3073; p++ {
			b[i*3073+p] = byte(i*31 + p*7)
		}
	}
	return b
}

// writeTinyCIFAR10 lays out cifar-10-batches-bin under dir with n records a file.
func writeTinyCIFAR10(t *testing.T, dir string, n int) {
	t.Helper()
	sub := filepath.Join(dir, "cifar-10-batches-bin")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range cifar10Files {
		if err := os.WriteFile(filepath.Join(sub, f), tinyCIFAR10(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func tinyCIFAR10Archive(t *testing.T) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for _, f := range cifar10Files {
		b := tinyCIFAR10(3)
		tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-bin/" + f, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	tw.Close()
	zw.Close()
	return out.Bytes()
}

func TestDataCommand(t *testing.T) {
	archive := tinyCIFAR10Archive(t)
	sum := md5.Sum(archive)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "a.tar.gz", time.Time{}, bytes.NewReader(archive))
	}))
	defer srv.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()

	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"fetch", []string{"data", "fetch", "cifar10", "--data-dir", dir, "--base-url", srv.URL, "--md5", hex.EncodeToString(sum[:]), "-q"}, 0},
		{"info", []string{"data", "info", "--data", "cifar10", "--data-dir", dir}, 0},
		{"info test split", []string{"data", "info", "--data", "cifar10", "--data-dir", dir, "--split", "test", "--no-checksums"}, 0},
		{"fetch unreachable", []string{"data", "fetch", "cifar100", "--data-dir", t.TempDir(), "--base-url", dead, "-q"}, 1},
		{"info missing", []string{"data", "info", "--data", "cifar100", "--data-dir", t.TempDir()}, 1},
		{"no verb", []string{"data"}, 2},
		{"bad verb", []string{"data", "pull"}, 2},
		{"fetch without name", []string{"data", "fetch"}, 2},
		{"info without data lists the datasets", []string{"data", "info", "--data-dir", t.TempDir()}, 0},
		{"bad split", []string{"data", "info", "--data", "cifar10", "--split", "val"}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if code := run(c.args); code != c.code {
				t.Fatalf("vkclr %v: exit %d, want %d", c.args, code, c.code)
			}
		})
	}
}

// TestDataInfoList: `vkclr data info` lists every built-in dataset, STL-10
// and Imagenette included, with how to fetch what is missing.
func TestDataInfoList(t *testing.T) {
	r, w, _ := os.Pipe()
	stdout := os.Stdout
	os.Stdout = w
	code := run([]string{"data", "info", "--data-dir", t.TempDir()})
	w.Close()
	os.Stdout = stdout
	out, _ := io.ReadAll(r)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"stl10 ", "100,000 unlabeled", "vkclr data fetch stl10", "imagenette ", "vkclr data fetch imagenette", "cifar10 ", "FOLDER"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("data info lacks %q:\n%s", want, out)
		}
	}
}
