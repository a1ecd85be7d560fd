package ops

import (
	"fmt"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() { registerCases(reluCases) }

func reluCases() []Case {
	exact := Tol{Why: "exact: a comparison and a copy"}
	var cs []Case
	for _, n := range []int{1, 3, 63, 64, 65, 1000, 4099} {
		x, dy, acc := Randn(n, int64(n)), Randn(n, int64(n)+1), Randn(n, int64(n)+2)
		y := make([]float32, n)
		ref.ReLUForward(x, y)
		cs = append(cs, Case{
			Op: "relu", Name: fmt.Sprintf("n=%d", n), Tol: exact,
			Bufs: []Buf{In("x", x), Out("y", n)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.ReLU(s, n, b[0], b[1]) },
			Ref:  func(b [][]float32, _ [][]int32) { ref.ReLUForward(b[0], b[1]) },
		}, Case{
			Op: "relu", Name: fmt.Sprintf("n=%d_in_place", n), Tol: exact,
			Bufs: []Buf{InOut("x", x)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.ReLU(s, n, b[0], b[0]) },
			Ref:  func(b [][]float32, _ [][]int32) { ref.ReLUForward(b[0], b[0]) },
		}, Case{
			Op: "relu_bwd", Name: fmt.Sprintf("n=%d", n), Tol: exact,
			Bufs: []Buf{In("y", y), In("dy", dy), Out("dx", n)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.ReLUBackward(s, n, b[0], b[1], b[2]) },
			Ref:  func(b [][]float32, _ [][]int32) { ref.ReLUBackward(b[0], b[1], b[2]) },
		}, Case{
			Op: "relu_bwd", Name: fmt.Sprintf("n=%d_in_place", n), Tol: exact,
			Bufs: []Buf{In("y", y), InOut("dy", dy)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.ReLUBackward(s, n, b[0], b[1], b[1]) },
			Ref:  func(b [][]float32, _ [][]int32) { ref.ReLUBackward(b[0], b[1], b[1]) },
		}, Case{
			Op: "relu_bwd", Name: fmt.Sprintf("n=%d_accumulate", n), Tol: Tol{Why: "exact: a mask and one float32 addition"},
			Bufs: []Buf{In("y", y), In("dy", dy), InOut("dx", acc)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.ReLUBackwardAdd(s, n, b[0], b[1], b[2]) },
			Ref: func(b [][]float32, _ [][]int32) {
				d := make([]float32, n)
				ref.ReLUBackward(b[0], b[1], d)
				ref.Add(b[2], d, b[2])
			},
		})
	}
	return cs
}

func init() { registerBench(reluBench) }

// reluBench: the largest ReLU of a CIFAR ResNet-18 step at batch 256 (layer1, 256x32x32x64).
func reluBench() []BenchCase {
	n := 256 * 32 * 32 * 64
	return []BenchCase{{
		Op: "relu", Shape: "256x32x32x64", Bytes: float64(8 * n),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			b, free, err := newBuffers(k, n, n)
			if err != nil {
				return nil, nil, err
			}
			return func(s *vk.Seq) { k.ReLU(s, n, b[0].All(), b[1].All()) }, free, nil
		},
	}}
}
