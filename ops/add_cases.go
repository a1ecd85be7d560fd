// Test and bench rows of the residual Add and AddReLU.
package ops

import (
	"fmt"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	registerCases(addCases)
	registerBench(addBench)
}

func addCases() []Case {
	exact := Tol{Why: "exact: one float32 addition, as in the reference"}
	var cs []Case
	// Tails of 1-3 scalars, one and several workgroups of 256 invocations x 4 vec4s.
	for _, n := range []int{1, 3, 4, 5, 63, 1023, 4096, 4097, 10007} {
		a, b := Randn(n, int64(n)+7), Randn(n, int64(n)+8)
		name := fmt.Sprintf("n=%d", n)
		cs = append(cs, Case{
			Op: "add", Name: name, Tol: exact,
			Bufs: []Buf{In("a", a), In("b", b), Out("out", n)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.Add(s, n, b[0], b[1], b[2]) },
			Ref:  func(b [][]float32, _ [][]int32) { ref.Add(b[0], b[1], b[2]) },
		}, Case{
			Op: "add", Name: name + "_in_place", Tol: exact,
			Bufs: []Buf{InOut("a", a), In("b", b)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.Add(s, n, b[0], b[1], b[0]) },
			Ref:  func(b [][]float32, _ [][]int32) { ref.Add(b[0], b[1], b[0]) },
		}, Case{
			Op: "add_relu", Name: name, Tol: exact,
			Bufs: []Buf{In("a", a), In("b", b), Out("out", n)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.AddReLU(s, n, b[0], b[1], b[2]) },
			Ref: func(b [][]float32, _ [][]int32) {
				ref.Add(b[0], b[1], b[2])
				ref.ReLUForward(b[2], b[2])
			},
		})
	}
	return cs
}

// addBench: the residual add + ReLU of layer1 at batch 256 (256x32x32x64).
func addBench() []BenchCase {
	n := 256 * 32 * 32 * 64
	return []BenchCase{{
		Op: "add_relu", Shape: "256x32x32x64", Bytes: float64(12 * n),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := newBuffers(k, n, n, n)
			if err != nil {
				return nil, nil, err
			}
			return func(s *vk.Seq) { k.AddReLU(s, n, b[0].All(), b[1].All(), b[2].All()) }, free, nil
		},
	}}
}
