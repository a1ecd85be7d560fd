package vk

import (
	"runtime/debug"
	"sync/atomic"
	"testing"
)

// TestBindingCopiesSurviveGC builds pipelines and command sequences while
// another goroutine keeps the collector busy: no struct the driver reads may
// be freed under it (see ccall.h). With the binding's struct-slice calls this
// crashed or miscomputed within a few hundred builds; holding the collector
// off around them (SetGCPercent(-1)) still failed about once in hundreds of
// runs, when a cycle had started just before the hold, as CI saw with a
// garbage sType in vkQueueSubmit.
func TestBindingCopiesSurviveGC(t *testing.T) {
	c := open(t)
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		var sink [][]byte
		for !stop.Load() {
			sink = append(sink, make([]byte, 64<<10))
			if len(sink) > 64 {
				sink = sink[:0]
			}
		}
	}()
	defer func() { stop.Store(true); <-done }()
	const n = 256
	x := randFloats(n, 5)
	bx, _ := c.NewBuffer(4 * n)
	by, _ := c.NewBuffer(4 * n)
	defer bx.Release()
	defer by.Release()
	must(t, c.UploadF32(bx.All(), x))
	for it := 0; it < 300; it++ {
		add := float32(it % 7)
		p := axpy(t, c, add) // a new pipeline for the first 7 values
		s := c.NewSeq()
		s.Fill(by.All(), 0)
		for k := 0; k < 8; k++ {
			s.Dispatch(p, (n+63)/64, 1, 1, Push(n, float32(1)), bx.All(), by.All())
		}
		err := s.Run()
		s.Close()
		must(t, err)
		got := make([]float32, n)
		must(t, c.DownloadF32(got, by.All()))
		for i := range got {
			want := float32(0)
			for k := 0; k < 8; k++ {
				want += x[i] + add
			}
			if d := got[i] - want; d > 1e-4 || d < -1e-4 {
				t.Fatalf("build %d: y[%d] = %v, want %v", it, i, got[i], want)
			}
		}
	}
}
