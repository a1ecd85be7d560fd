package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/vk"
)

// TestDeviceMatchesCPU runs a narrow network forward and backward on the
// device and on the float64 CPU reference with the same weights and inputs:
// the output, every parameter gradient and the running statistics agree.
func TestDeviceMatchesCPU(t *testing.T) {
	c := openDevice(t)
	for _, tc := range []struct {
		cfg   Config
		batch int
	}{
		{Config{Arch: "resnet18", Width: 4, Stem: "cifar", InChannels: 3, ImageSize: 12, ProjHidden: 16, ProjDim: 8}, 6},
		// Sizes keep every batchnorm over at least 16 values: with fewer, a
		// near-constant channel amplifies float32 rounding far beyond any tolerance.
		{Config{Arch: "resnet50", Width: 4, Stem: "cifar", InChannels: 3, ImageSize: 16, ProjHidden: 12, ProjDim: 8, ProjBN: true}, 8},
		{Config{Arch: "resnet18", Width: 4, Stem: "imagenet", InChannels: 1, ImageSize: 48, ProjHidden: 12, ProjDim: 8}, 4},
	} {
		compareVariants(t, c, tc.cfg, tc.batch)
	}
}

// openDevice opens a validating context closed at the end of the test,
// failing it on any validation message; it skips without a device.
func openDevice(t *testing.T) *vk.Context {
	before := vk.ValidationMessages()
	c, err := vk.Open(vk.Options{Validate: true, NoPipelineCache: true})
	if errors.Is(err, vk.ErrNoDevice) {
		t.Skipf("no Vulkan device on this machine: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		if n := vk.ValidationMessages() - before; n != 0 {
			t.Errorf("%d validation messages", n)
		}
	})
	return c
}

// compareVariants runs compareDevice with the cpu and the gpu kernels.
func compareVariants(t *testing.T, c *vk.Context, cfg Config, batch int) {
	for _, variant := range []string{"cpu", "gpu"} {
		t.Run(fmt.Sprintf("%s-%s/%s", cfg.Arch, cfg.Stem, variant), func(t *testing.T) {
			k, err := ops.New(c, ops.Options{Variant: variant})
			if err != nil {
				t.Fatal(err)
			}
			compareDevice(t, k, cfg, batch)
		})
	}
}

func compareDevice(t *testing.T, k *ops.Kernels, cfg Config, batch int) {
	c := k.Ctx
	g, err := Build(cfg, batch)
	if err != nil {
		t.Fatal(err)
	}
	p32, s32 := make([]float32, g.NParams), make([]float32, g.NState)
	g.Init(3, p32, s32)
	w, err := NewWeights(c, g)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Release()
	if err := w.Upload(c, p32, s32); err != nil {
		t.Fatal(err)
	}
	d, err := NewDevice(k, g, w, true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	r := rand.New(rand.NewPCG(4, 5))
	x := make([]float32, g.Tensors[g.Input].Len())
	for i := range x {
		if i%4 < cfg.InChannels {
			x[i] = float32(r.NormFloat64())
		}
	}
	cpu := NewCPU[float64](g)
	for i, v := range p32 {
		cpu.Params[i] = float64(v)
	}
	for i, v := range s32 {
		cpu.State[i] = float64(v)
	}
	x64 := make([]float64, len(x))
	for i, v := range x {
		x64[i] = float64(v)
	}
	out := cpu.Forward(x64, true)
	D := g.Tensors[g.Output].C
	loss, _, dOut := SimCLRLoss(out, batch, D, 0.5)
	cpu.Backward(dOut)

	// Device: forward, then the CPU's dLoss/dOutput, then backward.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.UploadF32(d.Act(g.Input), x))
	must(c.Run(func(s *vk.Seq) { d.RecordForward(s, true) }))
	gotOut := make([]float32, len(out))
	must(c.DownloadF32(gotOut, d.Act(g.Output)))
	// Tolerances: float32 through ~20 layers of batchnorm'd convolutions
	// against float64; batchnorm renormalizes, so relative error stays near
	// 1e-5 per layer and well under 1e-3 at the end.
	tl := ops.Tol{Atol: 1e-4, Rtol: 1e-3, Nerr: 1e-4, Why: "float32 network vs float64 reference"}
	check := func(what string, got []float32, want []float64, tl ops.Tol) {
		t.Helper()
		w32 := make([]float32, len(want))
		for i, v := range want {
			w32[i] = float32(v)
		}
		if _, _, err := ops.Compare(got, w32, tl); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	check("output", gotOut, out, tl)
	d32 := make([]float32, len(dOut))
	for i, v := range dOut {
		d32[i] = float32(v)
	}
	must(c.UploadF32(d.Grad(g.Output), d32))
	must(c.Run(func(s *vk.Seq) { d.RecordBackward(s) }))
	grads := make([]float32, g.NParams)
	must(c.DownloadF32(grads, d.Grads.All()))
	// Gradients pass through every layer twice; the scale of each tensor's
	// gradient differs, so the check is the normalized error per tensor
	// plus an absolute floor relative to the tensor's largest value.
	for _, p := range g.Params {
		want := cpu.Grads[p.Offset : p.Offset+p.Len]
		var m float64
		for _, v := range want {
			m = math.Max(m, math.Abs(v))
		}
		gt := ops.Tol{Atol: 2e-3*m + 1e-7, Nerr: 2e-3, Why: "float32 gradients through the whole network vs float64"}
		check("grad "+p.Name, grads[p.Offset:p.Offset+p.Len], want, gt)
	}
	state := make([]float32, g.NState)
	must(c.DownloadF32(state, w.State.All()))
	check("running stats", state, cpu.State, ops.Tol{Atol: 1e-4, Rtol: 1e-3, Why: "float32 statistics"})
	t.Logf("loss %.6f", loss)
}

// TestDeviceSplitsOversizedTensors: with the device's storage-buffer range
// lowered to 64 KiB (vk checks every binding against it), activations of
// 128-256 KiB are allocated and every op runs over bindings that fit, and
// the network still matches the CPU reference, as the paper's batch of 512
// must on lavapipe's 128 MiB.
func TestDeviceSplitsOversizedTensors(t *testing.T) {
	c := openDevice(t)
	c.Caps.MaxStorageBufferRange = 64 << 10
	for _, tc := range []struct {
		cfg   Config
		batch int
	}{
		// layer1 activations: 16 views x 32x32 x 4 channels = 256 KiB.
		{Config{Arch: "resnet18", Width: 4, Stem: "cifar", InChannels: 3, ImageSize: 32, ProjHidden: 16, ProjDim: 8}, 8},
		// the stem's output before the max pool: 8 views x 32x32 x 4 = 128 KiB.
		{Config{Arch: "resnet18", Width: 4, Stem: "imagenet", InChannels: 1, ImageSize: 64, ProjHidden: 12, ProjDim: 8}, 4},
	} {
		compareVariants(t, c, tc.cfg, tc.batch)
	}
}
