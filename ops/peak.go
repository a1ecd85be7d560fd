// Peak: the multiply-add ceiling of a device (`vkclr bench ops --op peak`), the roofline the
// GEMM-shaped kernels are measured against. It computes nothing training uses.
package ops

import (
	"fmt"

	"github.com/vkclr/vkclr/vk"
)

func init() {
	register("peak", kernelDef{module: "peak", bindings: []vk.DescKind{vk.Storage}, push: 4 * 4, spec: local1D})
}

// PeakFlops is the floating-point operations of Peak(n, iters): 16 multiply-adds per round.
func PeakFlops(n, iters int) float64 { return 32 * float64(n) * float64(iters) }

// Peak records n invocations of iters rounds of a = fma(a, m, c) on 16 register accumulators each;
// out[i] is invocation i's sum (ref.Peak).
func (k *Kernels) Peak(s *vk.Seq, n, iters int, m, c float32, out vk.Binding) {
	if n < 1 || iters < 0 {
		panic(fmt.Sprintf("ops.Peak: n %d, iters %d", n, iters))
	}
	need("Peak", "out", out, n)
	k.dispatch1D(s, "peak", n, vk.Push(n, iters, m, c), out)
}
