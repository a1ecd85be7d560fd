package diskio

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteAtomicKeepsOldFile: a write that fails (here ENOSPC from the
// test hook, or the producer's own error) leaves the old file as it was
// and no temporary file; a good write replaces it.
func TestWriteAtomicKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := WriteFileAtomic(path, []byte("old\n")); err != nil {
		t.Fatal(err)
	}
	errMine := errors.New("producer failed")
	for name, write := range map[string]func() error{
		"full disk": func() error {
			t.Setenv("VKCLR_TEST_FAIL_WRITES", "config")
			defer os.Unsetenv("VKCLR_TEST_FAIL_WRITES")
			return WriteFileAtomic(path, []byte("new\n"))
		},
		"producer": func() error {
			return WriteAtomic(path, func(w io.Writer) error { w.Write([]byte("ne")); return errMine })
		},
	} {
		err := write()
		if err == nil || !(errors.Is(err, syscall.ENOSPC) || errors.Is(err, errMine)) {
			t.Errorf("%s: %v", name, err)
		}
		if b, _ := os.ReadFile(path); string(b) != "old\n" {
			t.Errorf("%s: the old file became %q", name, b)
		}
	}
	t.Setenv("VKCLR_TEST_SLOW_WRITES", "1ms")
	if err := WriteFileAtomic(path, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new\n" {
		t.Errorf("replaced file holds %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the folder, want 1 (a temporary file left?)", len(ents))
	}
}
