package ops

import (
	"fmt"
	"math"

	"github.com/vkclr/vkclr/ops/ref"
)

// FMAFused reports whether GLSL's fma() rounds once on this device (a fused multiply-add, as GPUs do
// and as the lavapipe tools/lavapipe/build.sh builds does) or twice (a multiply, then an add: Debian's
// lavapipe, whose gallivm lowers ffma). It runs a 1x1x2 GEMM whose last step is fma(a, a,
// -(1+2^-11)) with a = 1+2^-12, where a*a = 1 + 2^-11 + 2^-24 exactly: fused keeps the 2^-24, unfused
// rounds a*a to 1 + 2^-11 (a tie to even) and gives 0. Either is a correct fma(); any other result
// is a wrong GEMM, reported as an error. The two round the kernels' sums differently, so a model's
// digits differ between such drivers (each run to run bit-identical), and lavapipe's arithmetic peak
// nearly doubles with the fused form (BENCHMARKS.md, "fused multiply-adds"). k must be the cpu
// variant: its GEMM calls fma(), the gpu variant's writes a * b + c, which a compiler may contract.
func (k *Kernels) FMAFused() (bool, error) {
	if k.Variant != "cpu" {
		return false, fmt.Errorf("ops: FMAFused needs the cpu variant's kernels, not %q", k.Variant)
	}
	a := float32(1 + math.Pow(2, -12))
	bufs, free, err := newBuffers(k, 4, 4, 4)
	if err != nil {
		return false, err
	}
	defer free()
	if err := k.Ctx.UploadF32(bufs[0].All(), []float32{-(1 + float32(math.Pow(2, -11))), a, 0, 0}); err != nil {
		return false, err
	}
	if err := k.Ctx.UploadF32(bufs[1].All(), []float32{1, a, 0, 0}); err != nil {
		return false, err
	}
	s := k.Ctx.NewSeq()
	defer s.Close()
	k.Matmul(s, ref.Matmul{M: 1, N: 1, K: 2}, F32(bufs[0], 0, 2), F32(bufs[1], 0, 2), F32(bufs[2], 0, 1), false)
	if err := s.Run(); err != nil {
		return false, err
	}
	out := make([]float32, 4)
	if err := k.Ctx.DownloadF32(out, bufs[2].All()); err != nil {
		return false, err
	}
	return fmaClass(out[0])
}

// fmaClass classifies the probe's result: 2^-24 fused, 0 not, anything else an error.
func fmaClass(got float32) (bool, error) {
	switch fused := float32(math.Pow(2, -24)); got {
	case 0:
		return false, nil
	case fused:
		return true, nil
	default:
		return false, fmt.Errorf("ops: the fma() probe gave %g, want 0 (a multiply and an add) or %g (fused): the GEMM is wrong on this device", got, fused)
	}
}

// FMADescription is FMAFused's answer in words, for selftest's report.
func FMADescription(fused bool) string {
	if fused {
		return "fma() fused (one rounding, as on GPUs)"
	}
	return "fma() a multiply and an add (two roundings)"
}
