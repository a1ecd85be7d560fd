package ops

import (
	"errors"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/vkclr/vkclr/vk"
	"github.com/vkclr/vkclr/vk/vktest"
)

// Both kernel variants run every row on whatever device runs the tests
// (lavapipe in CI), under the validation layer.
var (
	testKernels map[string]*Kernels
	noDevice    error
)

func TestMain(m *testing.M) {
	os.Exit(vktest.Main(m, "ops", func() func() {
		c, err := vk.Open(vk.Options{Validate: true, NoPipelineCache: true})
		if errors.Is(err, vk.ErrNoDevice) {
			noDevice = err
			return nil
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "ops tests: opening the device:", err)
			os.Exit(1)
		}
		testKernels = map[string]*Kernels{}
		for _, v := range []string{"cpu", "gpu"} {
			k, err := New(c, Options{Variant: v})
			if err != nil {
				fmt.Fprintln(os.Stderr, "ops tests:", err)
				os.Exit(1)
			}
			testKernels[v] = k
		}
		return c.Close
	}))
}

func kernels(t *testing.T, variant string) *Kernels {
	t.Helper()
	if noDevice != nil {
		t.Skipf("no Vulkan device on this machine: %v", noDevice)
	}
	return testKernels[variant]
}

// TestCompileAll compiles every registered pipeline of both variants on the device: a command
// compiles only what it dispatches, so a module the driver rejects would otherwise hide until
// some run first used it.
func TestCompileAll(t *testing.T) {
	for _, v := range []string{"cpu", "gpu"} {
		k := kernels(t, v)
		if err := k.CompileAll(); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		for n, p := range k.pipes {
			if !p.Compiled() {
				t.Fatalf("%s: CompileAll left %s uncompiled", v, n)
			}
		}
	}
}

// TestOps runs every registered row against its CPU reference, for both
// kernel variants: go test ./ops -run 'TestOps/conv2d_fwd/' picks one op.
func TestOps(t *testing.T) {
	for _, c := range Cases() {
		for _, v := range []string{"cpu", "gpu"} {
			t.Run(c.Op+"/"+c.Name+"/"+v, func(t *testing.T) {
				k := kernels(t, v)
				if r := Check(k, c); r.Err != nil {
					t.Fatal(r.Err)
				}
			})
		}
	}
}

// TestCheckCatchesErrors makes sure the harness fails wrong results, NaNs,
// unwritten outputs and out-of-bounds writes.
func TestCheckCatchesErrors(t *testing.T) {
	k := kernels(t, "cpu")
	x := Randn(100, 1)
	relu := func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.ReLU(s, 100, b[0], b[1]) }
	for _, tc := range []struct {
		name string
		c    Case
	}{
		{"wrong reference", Case{Bufs: []Buf{In("x", x), Out("y", 100)}, GPU: relu,
			Ref: func(b [][]float32, _ [][]int32) {
				for i, v := range b[0] {
					b[1][i] = float32(math.Abs(float64(v)))
				}
			}}},
		{"unwritten output", Case{Bufs: []Buf{In("x", x), Out("y", 101)}, GPU: relu,
			Ref: func(b [][]float32, _ [][]int32) {
				for i := range b[1] {
					b[1][i] = 0
				}
			}}},
		{"write past the end", Case{Bufs: []Buf{In("x", append(x, 1)), Out("y", 100)},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				wide := b[1]
				wide.Size += 4
				k.ReLU(s, 101, b[0], wide)
			},
			Ref: func(b [][]float32, _ [][]int32) {}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := Check(k, tc.c); r.Err == nil {
				t.Fatal("Check passed a broken case")
			} else {
				t.Log(r.Err)
			}
		})
	}
}
