// ReLU forward and backward (the mask comes from the output, so x need not be kept).
package ops

import "github.com/vkclr/vkclr/vk"

func init() {
	register("relu", kernelDef{module: "relu", bindings: []vk.DescKind{vk.Storage, vk.Storage}, push: 4, spec: local1D})
	register("relu_bwd", kernelDef{module: "relu_bwd", bindings: []vk.DescKind{vk.Storage, vk.Storage, vk.Storage}, push: 4, spec: local1D})
}

// ReLU records y = max(x, 0) over n elements (x and y may alias).
func (k *Kernels) ReLU(s *vk.Seq, n int, x, y vk.Binding) {
	k.dispatch1D(s, "relu", n, vk.Push(n), x, y)
}

// ReLUBackward records dx = dy * [y > 0] (dy and dx may alias).
func (k *Kernels) ReLUBackward(s *vk.Seq, n int, y, dy, dx vk.Binding) {
	k.dispatch1D(s, "relu_bwd", n, vk.Push(n), y, dy, dx)
}
