// Peak: the multiply-add ceiling of a device (`vkclr bench ops --op peak`), the roofline the
// GEMM-shaped kernels are measured against. It computes nothing training uses.
package ops

import (
	"fmt"

	"github.com/vkclr/vkclr/vk"
)

func init() {
	for _, v := range []string{"peak", "peak_rolled"} {
		register(v, kernelDef{module: v, bindings: []vk.DescKind{vk.Storage}, push: 4 * 4, spec: local1D})
	}
}

// PeakFlops is the floating-point operations of Peak(n, iters): 16 multiply-adds per round.
func PeakFlops(n, iters int) float64 { return 32 * float64(n) * float64(iters) }

// Peak records n invocations of iters rounds of a = fma(a, m, c) on 16 register accumulators each;
// out[i] is invocation i's sum (ref.Peak). rolled takes one round a loop trip instead of eight.
func (k *Kernels) Peak(s *vk.Seq, n, iters int, m, c float32, rolled bool, out vk.Binding) {
	if n < 1 || iters < 0 {
		panic(fmt.Sprintf("ops.Peak: n %d, iters %d", n, iters))
	}
	need("Peak", "out", out, n)
	name := "peak"
	if rolled {
		name = "peak_rolled"
	}
	k.dispatch1D(s, name, n, vk.Push(n, iters, m, c), out)
}
