package ops

import (
	"math"
	"testing"

	"github.com/vkclr/vkclr/ops/ref"
)

// TestFMAFusion: a 1x1x2 GEMM whose last step is fma(a, a, -(1+2^-11)) with a = 1+2^-12, where
// a*a = 1 + 2^-11 + 2^-24 exactly. A fused multiply-add keeps the 2^-24; a multiply rounded before
// the add (lavapipe: gallivm lowers ffma) ties to 1 + 2^-11 and gives 0. Either is a correct
// fma() in GLSL; anything else is a wrong GEMM. `go test ./ops -run TestFMAFusion -v` says which
// the device does (BENCHMARKS.md, "the ceiling").
func TestFMAFusion(t *testing.T) {
	k := kernels(t, "cpu")
	a := float32(1 + math.Pow(2, -12))
	bufs, free, err := newBuffers(k, 4, 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer free()
	if err := k.Ctx.UploadF32(bufs[0].All(), []float32{-(1 + float32(math.Pow(2, -11))), a, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if err := k.Ctx.UploadF32(bufs[1].All(), []float32{1, a, 0, 0}); err != nil {
		t.Fatal(err)
	}
	s := k.Ctx.NewSeq()
	defer s.Close()
	k.Matmul(s, ref.Matmul{M: 1, N: 1, K: 2}, F32(bufs[0], 0, 2), F32(bufs[1], 0, 2), F32(bufs[2], 0, 1), false)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, 4)
	if err := k.Ctx.DownloadF32(out, bufs[2].All()); err != nil {
		t.Fatal(err)
	}
	switch fused := float32(math.Pow(2, -24)); out[0] {
	case 0:
		t.Logf("%s: fma() is a multiply and an add (rounds twice)", k.Ctx.Caps.Name)
	case fused:
		t.Logf("%s: fma() is fused (rounds once)", k.Ctx.Caps.Name)
	default:
		t.Errorf("%s: got %g, want 0 (unfused) or %g (fused)", k.Ctx.Caps.Name, out[0], fused)
	}
}
