// Benchmarks of single ops at the shapes training uses: `vkclr bench ops`.
package ops

import (
	"fmt"
	"sort"

	"github.com/vkclr/vkclr/vk"
)

// BenchCase is one `vkclr bench ops` row. Setup allocates the op's buffers
// and returns a recorder of one op instance and a function that frees them.
// Flops (or Bytes for memory-bound ops) sets the rate column.
type BenchCase struct {
	Op, Shape    string
	Flops, Bytes float64
	Setup        func(k *Kernels) (record func(s *vk.Seq), free func(), err error)
}

// BenchResult is a case's device time per op (the median of the reps).
type BenchResult struct {
	Case    BenchCase
	Nanos   float64
	GFLOPS  float64 // 0 when the case counts bytes
	GBPerS  float64 // 0 when the case counts flops
	Variant string
	// Commands are the device commands of the median instance, in order, with their times: where
	// an op of several passes (Winograd's transforms and GEMM, a reduction's stages) spends it.
	Commands []vk.Timing
}

var benchMakers []func() []BenchCase

// registerBench adds an op's benchmark rows; call it from init.
func registerBench(f func() []BenchCase) { benchMakers = append(benchMakers, f) }

// BenchCases returns every registered row, sorted by op (stable within an op).
func BenchCases() []BenchCase {
	var all []BenchCase
	for _, f := range benchMakers {
		all = append(all, f()...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Op < all[j].Op })
	return all
}

// Bench times reps instances of c recorded in one Seq (after one warm-up
// run, which also compiles the pipeline) from device timestamps.
func Bench(k *Kernels, c BenchCase, reps int) (BenchResult, error) {
	rec, free, err := c.Setup(k)
	if err != nil {
		return BenchResult{}, fmt.Errorf("%s %s: %w", c.Op, c.Shape, err)
	}
	defer free()
	s := k.Ctx.NewSeq()
	defer s.Close()
	s.SetTiming(true)
	for i := 0; i < reps; i++ {
		s.Label(c.Op)
		n := s.Len()
		rec(s)
		if s.Len() == n {
			return BenchResult{}, fmt.Errorf("%s: recorded nothing", c.Op)
		}
	}
	if err := s.Run(); err != nil { // warm-up
		return BenchResult{}, err
	}
	if err := s.Run(); err != nil {
		return BenchResult{}, err
	}
	tm, err := s.Timings()
	if err != nil {
		return BenchResult{}, err
	}
	if tm == nil {
		return BenchResult{}, fmt.Errorf("device has no timestamps on its compute queue")
	}
	// An op may record several commands: sum per instance.
	per := len(tm) / reps
	type inst struct {
		nanos float64
		cmds  []vk.Timing
	}
	var insts []inst
	for i := 0; i < reps; i++ {
		var t float64
		for _, x := range tm[i*per : (i+1)*per] {
			t += x.Nanos
		}
		insts = append(insts, inst{t, tm[i*per : (i+1)*per]})
	}
	sort.SliceStable(insts, func(i, j int) bool { return insts[i].nanos < insts[j].nanos })
	med := insts[len(insts)/2]
	r := BenchResult{Case: c, Nanos: med.nanos, Variant: k.Variant, Commands: med.cmds}
	if c.Flops > 0 {
		r.GFLOPS = c.Flops / r.Nanos
	}
	if c.Bytes > 0 {
		r.GBPerS = c.Bytes / r.Nanos
	}
	return r, nil
}

// newBuffers allocates float32 device buffers of the given lengths, filled
// with seeded normal values, and a function that frees them.
func newBuffers(k *Kernels, sizes ...int) ([]*vk.Buffer, func(), error) {
	var bufs []*vk.Buffer
	free := func() {
		for _, b := range bufs {
			b.Release()
		}
	}
	for i, n := range sizes {
		b, err := k.Ctx.NewBuffer(uint64(4 * max(n, 1)))
		if err != nil {
			free()
			return nil, nil, err
		}
		bufs = append(bufs, b)
		if err := k.Ctx.UploadF32(b.All(), Randn(n, int64(i+1))); err != nil {
			free()
			return nil, nil, err
		}
	}
	return bufs, free, nil
}
