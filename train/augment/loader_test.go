// Tests of the batch loader: layout, determinism across worker counts, epochs.
package augment

import (
	"errors"
	"io"
	"slices"
	"testing"
	"time"
)

func TestLoaderLayout(t *testing.T) {
	d := testDataset(10, 8, 8, 3)
	cfg := SimCLR(8, 0.5)
	l, err := NewLoader(d, cfg, LoaderOptions{Batch: 4, OutC: 4, Seed: 3, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if steps := l.Epoch(2); steps != 3 {
		t.Fatalf("%d steps, want 3 (4 + 4 + 2)", steps)
	}
	perm := Permutation(3, 2, 10)
	dst := make([]float32, l.BatchLen(4))
	per := 8 * 8 * 4
	view := make([]float32, per)
	var all []int
	for s := range 3 {
		idx, err := l.Next(dst)
		if err != nil {
			t.Fatal(err)
		}
		if want := perm[s*4 : min(s*4+4, 10)]; !slices.Equal(idx, want) {
			t.Fatalf("step %d indices %v, want %v", s, idx, want)
		}
		n := len(idx)
		for v := range 2 {
			for b, i := range idx {
				cfg.View(view, d, i, 3, 2, v, 4)
				got := dst[(v*n+b)*per : (v*n+b+1)*per]
				if !slices.Equal(got, view) {
					t.Fatalf("step %d view %d row %d differs from View(%d)", s, v, b, i)
				}
			}
		}
		all = append(all, idx...)
	}
	if _, err := l.Next(dst); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last step: %v, want io.EOF", err)
	}
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("epoch visited %v", all)
		}
	}
}

// TestLoaderDeterministic: the batches do not depend on the worker count.
func TestLoaderDeterministic(t *testing.T) {
	d := testDataset(37, 16, 16, 3)
	cfg := SimCLR(16, 0.5)
	run := func(workers int) [][]float32 {
		l, err := NewLoader(d, cfg, LoaderOptions{Batch: 8, Seed: 1, Workers: workers, DropLast: true})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var out [][]float32
		for e := range 2 {
			steps := l.Epoch(e)
			if steps != 4 {
				t.Fatalf("%d steps, want 4 with DropLast", steps)
			}
			for range steps {
				dst := make([]float32, l.BatchLen(8))
				if _, err := l.Next(dst); err != nil {
					t.Fatal(err)
				}
				out = append(out, dst)
			}
		}
		return out
	}
	a, b := run(1), run(3)
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Fatalf("batch %d differs between 1 and 3 workers", i)
		}
	}
	if slices.Equal(a[0], a[4]) {
		t.Fatal("epochs 0 and 1 gave the same first batch")
	}
}

func TestLoaderRestartAndClose(t *testing.T) {
	d := testDataset(50, 8, 8, 1)
	l, err := NewLoader(d, SimCLR(8, 0.5), LoaderOptions{Batch: 5, Workers: 2, Prefetch: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Next(make([]float32, l.BatchLen(5))); err == nil {
		t.Fatal("Next before Epoch succeeded")
	}
	dst := make([]float32, l.BatchLen(5))
	for e := range 5 { // abandon each epoch after one step
		l.Epoch(e)
		if _, err := l.Next(dst); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // let the producer fill its buffers
	}
	if _, err := l.Next(dst[:10]); err == nil {
		t.Fatal("short dst accepted")
	}
	done := make(chan struct{})
	go func() { l.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
}

func TestNewLoaderErrors(t *testing.T) {
	d := testDataset(3, 8, 8, 3)
	cfg := SimCLR(8, 0.5)
	cases := []struct {
		name string
		opts LoaderOptions
	}{
		{"zero batch", LoaderOptions{}},
		{"too few channels", LoaderOptions{Batch: 2, OutC: 2}},
		{"batch larger than data with DropLast", LoaderOptions{Batch: 4, DropLast: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if l, err := NewLoader(d, cfg, c.opts); err == nil {
				l.Close()
				t.Fatal("accepted")
			}
		})
	}
	bad := cfg
	bad.Size = 0
	if _, err := NewLoader(d, bad, LoaderOptions{Batch: 1}); err == nil {
		t.Fatal("size 0 accepted")
	}
}

// BenchmarkView measures one 32x32 SimCLR view on one goroutine.
func BenchmarkView(b *testing.B) {
	d := testDataset(256, 32, 32, 3)
	cfg := SimCLR(32, 0.5)
	dst := make([]float32, 32*32*4)
	s := new(scratch)
	for i := 0; b.Loop(); i++ {
		cfg.view(s, dst, d, i%256, 1, 0, i&1, 4)
	}
}

// BenchmarkLoader measures a whole pipeline step of 256 image pairs.
func BenchmarkLoader(b *testing.B) {
	d := testDataset(1024, 32, 32, 3)
	l, err := NewLoader(d, SimCLR(32, 0.5), LoaderOptions{Batch: 256, OutC: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	dst := make([]float32, l.BatchLen(256))
	e := 0
	l.Epoch(e)
	for b.Loop() {
		if _, err := l.Next(dst); errors.Is(err, io.EOF) {
			e++
			l.Epoch(e)
		}
	}
	b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "images/s")
}
