// Package diskio writes the run folder's files so that a crash, a kill -9 or
// a full disk never leaves a half-written file where a good one was: whole
// files are replaced atomically (temporary file, fsync, rename, directory
// fsync), and every failure is returned, never dropped.
//
// Two environment variables exist for tests only: VKCLR_TEST_SLOW_WRITES
// ("DURATION" or "DURATION,NAME") pauses inside every write (of files whose
// name contains NAME), so a test can kill the process there;
// VKCLR_TEST_FAIL_WRITES (a file-name substring) makes writes of matching
// files fail with ENOSPC, as a full disk would.
package diskio

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// WriteAtomic replaces path with what write produces. Until it returns nil
// the old file (if any) is untouched; a failed or interrupted write leaves
// at most a hidden temporary file beside it, never a truncated path.
func WriteAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("save %s: create a temporary file (does the directory exist and is it writable?): %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := Check(tmp, path)
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := write(bw); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if h, ok := w.(hooked); ok {
		h.pause()
	}
	// CreateTemp makes the file 0600; give it the mode os.Create would.
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("save %s: sync (disk full or failing?): %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	// Sync the directory so the rename itself survives a power loss.
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("save %s: sync the directory: %w", path, err)
	}
	return nil
}

// WriteFileAtomic is WriteAtomic of a byte slice.
func WriteFileAtomic(path string, data []byte) error {
	return WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// SyncDir flushes a directory's entries (a rename or a new file) to disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Check wraps w, the writer of the file at path, with the test hooks: it
// pauses in every write under VKCLR_TEST_SLOW_WRITES and fails every write
// under VKCLR_TEST_FAIL_WRITES when path matches. Without them it returns w.
func Check(w io.Writer, path string) io.Writer {
	base := filepath.Base(path)
	h := hooked{w: w}
	if fail := os.Getenv("VKCLR_TEST_FAIL_WRITES"); fail != "" && strings.Contains(base, fail) {
		h.fail = true
	}
	if spec := os.Getenv("VKCLR_TEST_SLOW_WRITES"); spec != "" {
		d, name, _ := strings.Cut(spec, ",")
		if p, err := time.ParseDuration(d); err == nil && strings.Contains(base, name) {
			h.slow = p
		}
	}
	if !h.fail && h.slow == 0 {
		return w
	}
	return h
}

type hooked struct {
	w    io.Writer
	fail bool
	slow time.Duration
}

func (h hooked) Write(p []byte) (int, error) {
	if h.fail {
		return 0, syscall.ENOSPC
	}
	// Pause halfway, so a kill can land with the data partly written.
	half := len(p) / 2
	n, err := h.w.Write(p[:half])
	if err != nil {
		return n, err
	}
	h.pause()
	m, err := h.w.Write(p[half:])
	return n + m, err
}

func (h hooked) pause() { time.Sleep(h.slow) }
