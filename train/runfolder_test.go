// Tests of the run folder: what a crash, a full disk or a short run leaves.
package train

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func readRecords(t *testing.T, dir string) []Record {
	t.Helper()
	m, err := openMetrics(dir, true, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	m.close()
	return m.recs
}

// TestShortRunIsRecorded: a run shorter than --log-every records its last
// step and its (incomplete) epoch, and draws the loss plot.
func TestShortRunIsRecorded(t *testing.T) {
	s := session(t)
	c := tinyConfig(writeTinyCIFAR(t, 4), filepath.Join(t.TempDir(), "run"))
	c.Steps, c.LogEvery = 3, 10 // 4 steps per epoch
	if _, err := Run(context.Background(), s, c, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, c.Out)
	if len(recs) != 2 || recs[0].Kind != "step" || recs[0].Step != 3 || recs[1].Kind != "epoch" || recs[1].Step != 3 || recs[1].Epoch != 1 {
		t.Fatalf("records %+v, want step 3 and the end of epoch 1", recs)
	}
	if _, err := os.Stat(filepath.Join(c.Out, "loss.png")); err != nil {
		t.Error("no loss.png")
	}
}

// TestConfigWrittenOnlyWhenChanged: a resume with the same settings leaves
// config.json untouched; changed settings replace it atomically.
func TestConfigWrittenOnlyWhenChanged(t *testing.T) {
	s := session(t)
	c := tinyConfig(writeTinyCIFAR(t, 4), filepath.Join(t.TempDir(), "run"))
	c.Steps = 1
	if _, err := Run(context.Background(), s, c, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.Out, ConfigFile)
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	r, err := LoadRun(c.Out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), s, r, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); !fi.ModTime().Equal(old) {
		t.Fatalf("config.json rewritten on a resume with the same settings (mtime %v)", fi.ModTime())
	}
	r.Steps = 2
	if _, err := Run(context.Background(), s, r, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadConfig(path); err != nil || got.Steps != 2 {
		t.Fatalf("changed settings not saved: %+v, %v", got.Steps, err)
	}
	assertNoTemp(t, c.Out)
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left in the run folder", e.Name())
		}
	}
}

// TestMetricsAppendOnly: a resume keeps the lines up to the checkpoint's
// step byte for byte, drops the later ones and a line cut short by a
// crash, and appends.
func TestMetricsAppendOnly(t *testing.T) {
	s := session(t)
	c := tinyConfig(writeTinyCIFAR(t, 4), filepath.Join(t.TempDir(), "run"))
	c.Steps = 2
	if _, err := Run(context.Background(), s, c, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.Out, MetricsFile)
	b, _ := os.ReadFile(path)
	// Hand-spaced lines are still records; a rewrite would re-encode them.
	b = bytes.ReplaceAll(b, []byte(`"kind":`), []byte(`"kind" : `))
	kept := append([]byte(nil), b...)
	b = append(b, `{"kind":"step","step":3,"epoch":1,"loss":9,"time_s":1}`+"\n"+`{"kind":"step","st`...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ := LoadRun(c.Out)
	r.Steps = 3
	if _, err := Run(context.Background(), s, r, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.HasPrefix(got, kept) {
		t.Fatalf("the records up to the checkpoint were rewritten:\n%s", got)
	}
	recs := readRecords(t, c.Out)
	var steps []int
	for _, r := range recs {
		if r.Kind == "step" {
			steps = append(steps, r.Step)
			if r.Loss == 9 {
				t.Error("the record after the checkpoint's step was kept")
			}
		}
	}
	if len(steps) != 3 || steps[2] != 3 {
		t.Fatalf("step records %v, want 1 2 3", steps)
	}
}

// TestFullDiskStopsRun: when a metrics or checkpoint write fails (ENOSPC
// injected through the test hook), the run stops with an error that says
// so, and the last good checkpoint stays byte for byte.
func TestFullDiskStopsRun(t *testing.T) {
	s := session(t)
	c := tinyConfig(writeTinyCIFAR(t, 4), filepath.Join(t.TempDir(), "run"))
	c.Steps = 2
	if _, err := Run(context.Background(), s, c, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(c.Out, LastCkpt)
	before, _ := os.ReadFile(ck)
	for _, file := range []string{MetricsFile, LastCkpt} {
		t.Run(file, func(t *testing.T) {
			t.Setenv("VKCLR_TEST_FAIL_WRITES", file)
			r, _ := LoadRun(c.Out)
			r.Steps = 8 // the epoch ends at step 4: a checkpoint write
			_, err := Run(context.Background(), s, r, true, io.Discard)
			if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "--resume") {
				t.Fatalf("run on a full disk: %v", err)
			}
			if after, _ := os.ReadFile(ck); sha256.Sum256(before) != sha256.Sum256(after) {
				t.Fatal("the last good checkpoint changed")
			}
			assertNoTemp(t, c.Out)
		})
	}
}

// TestBatchOverSimilarityRange: a batch whose NT-Xent similarity matrix
// would exceed one storage binding is refused with the batch that fits.
func TestBatchOverSimilarityRange(t *testing.T) {
	s := session(t)
	saved := s.Ctx.Caps.MaxStorageBufferRange
	defer func() { s.Ctx.Caps.MaxStorageBufferRange = saved }()
	s.Ctx.Caps.MaxStorageBufferRange = 1 << 10 // (2*8)^2 floats fit; (2*9)^2 do not
	c := tinyConfig("", t.TempDir())
	c.BatchSize = 9
	if _, err := NewTrainer(s, c, nil); err == nil || !strings.Contains(err.Error(), "--batch-size 8 or less") {
		t.Fatalf("batch 9 with a 1 KiB range: %v", err)
	}
}
