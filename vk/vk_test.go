package vk

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"strings"
	"testing"

	"github.com/vkclr/vkclr/shaders"
	vk "github.com/vulkan-go/vulkan"
)

// TestMain fails the run on any validation message, also from contexts
// opened outside open (counted from before the first one opens).
func TestMain(m *testing.M) {
	before := ValidationMessages()
	code := m.Run()
	if n := ValidationMessages() - before; n != 0 {
		fmt.Fprintf(os.Stderr, "vk tests: %d validation message(s); see the log above\n", n)
		code = 1
	}
	os.Exit(code)
}

// open returns a validating context, or skips when this machine has no
// Vulkan device at all. The test fails on any validation message, including
// leaks reported when the context closes.
func open(t *testing.T) *Context {
	t.Helper()
	before := ValidationMessages()
	c, err := Open(Options{Validate: true, NoPipelineCache: true})
	if errors.Is(err, ErrNoDevice) {
		t.Skipf("no Vulkan device on this machine: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		if n := ValidationMessages() - before; n != 0 {
			t.Errorf("%d validation message(s); see the log above", n)
		}
	})
	return c
}

func axpy(t *testing.T, c *Context, add float32) *Pipeline {
	t.Helper()
	p, err := c.Pipeline(PipelineSpec{
		Name:     "vk_axpy",
		SPIRV:    shaders.SPIRV("vk_axpy"),
		Bindings: []DescKind{Storage, Storage},
		PushSize: 8,
		Spec:     []uint32{64, 1, 1, math.Float32bits(add)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func randFloats(n int, seed int64) []float32 {
	r := rand.New(rand.NewSource(seed))
	out := make([]float32, n)
	for i := range out {
		out[i] = r.Float32()*2 - 1
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	c := open(t)
	for _, staged := range []bool{false, true} {
		for _, n := range []int{1, 3, 5, 63, 64, 65, 4093, 1 << 20, 3<<20 + 7} {
			t.Run(fmt.Sprintf("staged=%v/n=%d", staged, n), func(t *testing.T) {
				c.forceStaging = staged
				defer func() { c.forceStaging = false }()
				src := make([]byte, n)
				rand.New(rand.NewSource(int64(n))).Read(src)
				b, err := c.NewBuffer(uint64(n) + 16)
				if err != nil {
					t.Fatal(err)
				}
				defer b.Release()
				// Write at an odd offset inside the buffer.
				if err := c.Upload(b.Slice(8, uint64(n)), src); err != nil {
					t.Fatal(err)
				}
				got := make([]byte, n)
				if err := c.Download(got, b.Slice(8, uint64(n))); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, src) {
					t.Fatalf("round trip of %d bytes differs", n)
				}
			})
		}
	}
	if err := c.Upload(Binding{}, nil); err != nil {
		t.Errorf("empty upload: %v", err)
	}
	b, _ := c.NewBuffer(4)
	defer b.Release()
	if err := c.Upload(b.All(), make([]byte, 5)); err == nil {
		t.Error("upload larger than the binding did not fail")
	}
}

func TestDispatchPushAndSpecConstants(t *testing.T) {
	c := open(t)
	for _, n := range []int{1, 63, 65, 1000, 70000 * 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			p := axpy(t, c, 0.5)
			x, y := randFloats(n, 1), randFloats(n, 2)
			bx, _ := c.NewBuffer(uint64(4 * n))
			by, _ := c.NewBuffer(uint64(4 * n))
			defer bx.Release()
			defer by.Release()
			must(t, c.UploadF32(bx.All(), x))
			must(t, c.UploadF32(by.All(), y))
			gx, gy, gz := Grid1D(c, n, 64)
			must(t, c.Run(func(s *Seq) {
				s.Dispatch(p, gx, gy, gz, Push(n, float32(2)), bx.All(), by.All())
			}))
			got := make([]float32, n)
			must(t, c.DownloadF32(got, by.All()))
			for i := range got {
				// Tolerance: the device may fuse a*x+y into one FMA (one rounding fewer).
				if want := 2*x[i] + y[i] + 0.5; math.Abs(float64(got[i]-want)) > 1e-6*math.Abs(float64(want))+1e-7 {
					t.Fatalf("y[%d] = %v, want %v", i, got[i], want)
				}
			}
		})
	}
}

// TestPipelineCompiledAtFirstRun: Pipeline makes only the layouts; the first Run of a Seq that
// dispatches it compiles it (and the result is right), and Compile after that is a no-op.
func TestPipelineCompiledAtFirstRun(t *testing.T) {
	c := open(t)
	p := axpy(t, c, 0.25)
	if p.Compiled() {
		t.Fatal("Pipeline compiled the pipeline before any dispatch")
	}
	bx, _ := c.NewBuffer(4 * 64)
	by, _ := c.NewBuffer(4 * 64)
	defer bx.Release()
	defer by.Release()
	x := randFloats(64, 4)
	must(t, c.UploadF32(bx.All(), x))
	must(t, c.UploadF32(by.All(), make([]float32, 64)))
	s := c.NewSeq()
	defer s.Close()
	s.Dispatch(p, 1, 1, 1, Push(64, float32(1)), bx.All(), by.All())
	if p.Compiled() {
		t.Fatal("recording a dispatch compiled the pipeline; the first build should")
	}
	must(t, s.Run())
	if !p.Compiled() {
		t.Fatal("the pipeline is not compiled after a Run that dispatched it")
	}
	got := make([]float32, 64)
	must(t, c.DownloadF32(got, by.All()))
	for i := range got {
		if want := x[i] + 0.25; math.Abs(float64(got[i]-want)) > 1e-6 {
			t.Fatalf("y[%d] = %v, want %v", i, got[i], want)
		}
	}
	must(t, c.Compile(p))
}

func TestManyDispatchesBarriersReplayAndTimestamps(t *testing.T) {
	c := open(t)
	p := axpy(t, c, 0)
	const n, steps = 1000, 50
	x := randFloats(n, 3)
	bx, _ := c.NewBuffer(4 * n)
	by, _ := c.NewBuffer(4 * n)
	defer bx.Release()
	defer by.Release()
	must(t, c.UploadF32(bx.All(), x))
	s := c.NewSeq()
	defer s.Close()
	s.SetTiming(true)
	s.Label("zero")
	s.Fill(by.All(), 0)
	s.Label("axpy")
	for i := 0; i < steps; i++ {
		// Each dispatch reads what the previous one wrote: without barriers
		// the result would be racy on a parallel device.
		s.Dispatch(p, (n+63)/64, 1, 1, Push(n, float32(1)), bx.All(), by.All())
	}
	for rep := 0; rep < 3; rep++ {
		must(t, s.Run())
		got := make([]float32, n)
		must(t, c.DownloadF32(got, by.All()))
		for i := range got {
			want := float32(0)
			for k := 0; k < steps; k++ {
				want += x[i]
			}
			if got[i] != want {
				t.Fatalf("replay %d: y[%d] = %v, want %v", rep, i, got[i], want)
			}
		}
	}
	tm, err := s.Timings()
	must(t, err)
	if c.Caps.TimestampBits == 0 {
		t.Skip("device has no timestamps")
	}
	if len(tm) != steps+1 || tm[0].Label != "zero" || tm[1].Label != "axpy" {
		t.Fatalf("timings: %d entries, first labels %q %q", len(tm), tm[0].Label, tm[1].Label)
	}
	var total float64
	for _, x := range tm {
		if x.Nanos < 0 || x.Nanos > 10e9 {
			t.Fatalf("implausible timing %v", x)
		}
		total += x.Nanos
	}
	if total <= 0 {
		t.Fatal("timings add up to zero")
	}
}

func TestTexelBuffer(t *testing.T) {
	c := open(t)
	p, err := c.Pipeline(PipelineSpec{Name: "vk_texel", SPIRV: shaders.SPIRV("vk_texel"), Bindings: []DescKind{TexelVec4, Storage}, PushSize: 4, Spec: []uint32{32, 1, 1}})
	must(t, err)
	const n = 777
	x := randFloats(4*n, 4)
	bx, _ := c.NewBuffer(16 * n)
	bo, _ := c.NewBuffer(4 * n)
	defer bx.Release()
	defer bo.Release()
	must(t, c.UploadF32(bx.All(), x))
	must(t, c.Run(func(s *Seq) { s.Dispatch(p, (n+31)/32, 1, 1, Push(n), bx.All(), bo.All()) }))
	got := make([]float32, n)
	must(t, c.DownloadF32(got, bo.All()))
	for i := range got {
		want := x[4*i] + x[4*i+1] + x[4*i+2] + x[4*i+3]
		if math.Abs(float64(got[i]-want)) > 1e-6 {
			t.Fatalf("out[%d] = %v, want %v", i, got[i], want)
		}
	}
}

func TestSubAllocatorReusesMemory(t *testing.T) {
	c := open(t)
	var bufs []*Buffer
	for i := 0; i < 200; i++ {
		b, err := c.NewBuffer(uint64(1000 + i*37))
		must(t, err)
		bufs = append(bufs, b)
	}
	if n := len(c.alloc.blocks[bufs[0].blk.typ]); n != 1 {
		t.Errorf("200 small buffers took %d memory blocks, want 1", n)
	}
	now, _ := c.MemoryInUse()
	for _, b := range bufs {
		b.Release()
	}
	if after, _ := c.MemoryInUse(); after != 0 || now == 0 {
		t.Errorf("memory in use %d before release, %d after", now, after)
	}
	blk := bufs[0].blk
	if len(blk.free) != 1 || blk.free[0].size != blk.size {
		t.Errorf("free list not coalesced: %v", blk.free)
	}
}

func TestErrorsMatchSentinels(t *testing.T) {
	lost := fmt.Errorf("step 3: %w", &Error{Func: "vkQueueSubmit", Result: vk.ErrorDeviceLost})
	if !errors.Is(lost, ErrDeviceLost) || errors.Is(lost, ErrOutOfDeviceMemory) {
		t.Error("device lost does not match its sentinel alone")
	}
	if got := lost.Error(); got != "step 3: vk: vkQueueSubmit: VK_ERROR_DEVICE_LOST" {
		t.Errorf("message %q", got)
	}
	oom := &Error{Func: "vkAllocateMemory", Result: vk.ErrorOutOfDeviceMemory}
	if !errors.Is(oom, ErrOutOfDeviceMemory) {
		t.Error("out of device memory does not match")
	}
	if !errors.Is(&Error{Result: vk.ErrorOutOfHostMemory}, ErrOutOfHostMemory) {
		t.Error("out of host memory does not match")
	}
	if ResultName(vk.Result(-12345)) != "VkResult(-12345)" {
		t.Error("unknown result name")
	}

	// A real allocation far beyond the device's memory.
	c, err := Open(Options{Validate: true, NoPipelineCache: true})
	if errors.Is(err, ErrNoDevice) {
		t.Skipf("no Vulkan device: %v", err)
	}
	must(t, err)
	defer c.Close()
	_, err = c.NewBuffer(1 << 50)
	if err == nil {
		t.Fatal("allocating 1 PiB succeeded")
	}
	// Drivers refuse it at vkCreateBuffer or vkAllocateMemory, as device or
	// host memory; either way the caller must be able to match a sentinel.
	var ve *Error
	if !errors.As(err, &ve) || !(errors.Is(err, ErrOutOfDeviceMemory) || errors.Is(err, ErrOutOfHostMemory)) {
		t.Errorf("1 PiB allocation failed with %v (%T), want an *Error matching ErrOutOfDeviceMemory or ErrOutOfHostMemory", err, err)
	}
}

func TestDeviceSelection(t *testing.T) {
	all := []Caps{{Name: "llvmpipe (LLVM 15)", Type: "cpu"}, {Name: "NVIDIA H100", Type: "discrete"}, {Name: "Intel UHD", Type: "integrated"}}
	for _, tc := range []struct {
		sel  string
		want int
		fail bool
	}{{"", 1, false}, {"0", 0, false}, {"2", 2, false}, {"llvm", 0, false}, {"intel", 2, false}, {"7", 0, true}, {"amd", 0, true}} {
		got, err := pick(all, tc.sel)
		if (err != nil) != tc.fail || (!tc.fail && got != tc.want) {
			t.Errorf("pick(%q) = %d, %v", tc.sel, got, err)
		}
	}
	if _, err := pick(nil, ""); !errors.Is(err, ErrNoDevice) {
		t.Errorf("no devices: %v", err)
	}
}

func TestCapsReport(t *testing.T) {
	c := open(t)
	cp := c.Caps
	if cp.SubgroupSize == 0 || cp.MaxStorageBufferRange < 1<<27 || cp.MaxPushConstants < 128 || cp.SharedMemory < 16384 || len(cp.Heaps) == 0 {
		t.Errorf("implausible capability report: %+v", cp)
	}
	if lanes, ok, err := llvmpipeLanes(cp.Name); err != nil {
		t.Error(err)
	} else if ok && (!cp.IsCPU() || int(cp.SubgroupSize) != lanes) {
		t.Errorf("%s: subgroup size %d, cpu=%v; want %d lanes on a CPU device", cp.Name, cp.SubgroupSize, cp.IsCPU(), lanes)
	}
	for _, name := range []string{"", "llvm", "llvmpipe", "llvmpipe (LLVM 15)", "NVIDIA H100"} {
		if _, ok, err := llvmpipeLanes(name); ok {
			t.Errorf("llvmpipeLanes(%q) found a width (err %v)", name, err)
		}
	}
	if lanes, ok, err := llvmpipeLanes("llvmpipe (LLVM 15.0.6, 256 bits)"); lanes != 8 || !ok || err != nil {
		t.Errorf("llvmpipeLanes of a 256-bit llvmpipe: %d, %v, %v", lanes, ok, err)
	}
}

// llvmpipeLanes reads the vector width llvmpipe puts in its name
// ("llvmpipe (LLVM 15.0.6, 256 bits)"): its subgroup is one vector of 32-bit
// lanes. ok is false for other devices; err for an llvmpipe name without it.
func llvmpipeLanes(name string) (lanes int, ok bool, err error) {
	if !strings.HasPrefix(name, "llvmpipe") {
		return 0, false, nil
	}
	var bits int
	i := strings.LastIndex(name, ", ")
	if i < 0 {
		return 0, false, fmt.Errorf("llvmpipe name %q does not end in its vector width", name)
	}
	if _, err := fmt.Sscanf(name[i+2:], "%d bits)", &bits); err != nil || bits < 32 {
		return 0, false, fmt.Errorf("llvmpipe name %q does not end in its vector width", name)
	}
	return bits / 32, true, nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
