// ReLU forward and backward (the mask comes from the output, so x need not be kept).
package ops

import "github.com/vkclr/vkclr/vk"

func init() {
	S, T := vk.Storage, vk.TexelVec4
	register("relu", kernelDef{module: "relu", bindings: []vk.DescKind{S, S}, push: 4, spec: localWideK})
	register("relu_texel", kernelDef{module: "relu_texel", bindings: []vk.DescKind{T, S}, push: 4, spec: localWideK})
	for _, v := range []string{"relu_bwd", "relu_bwd_acc"} {
		register(v, kernelDef{module: v, bindings: []vk.DescKind{S, S, S}, push: 4, spec: localWideK})
		register(v+"_texel", kernelDef{module: v + "_texel", bindings: []vk.DescKind{T, T, S}, push: 4, spec: localWideK})
	}
}

// ReLU records y = max(x, 0) over n elements, keeping NaN (x and y may alias).
func (k *Kernels) ReLU(s *vk.Seq, n int, x, y vk.Binding) {
	need("ReLU", "x", x, n)
	need("ReLU", "y", y, n)
	k.elementwise(s, "relu", n, 1, x, y)
}

// ReLUBackward records dx = dy * [y > 0] (dy and dx may alias).
func (k *Kernels) ReLUBackward(s *vk.Seq, n int, y, dy, dx vk.Binding) {
	k.reluBackward(s, "ReLUBackward", "relu_bwd", n, y, dy, dx)
}

// ReLUBackwardAdd records dx += dy * [y > 0]: a second gradient contribution
// folded in place (the other branch of a residual AddReLU) without a
// temporary and an Add. dx may not alias y or dy.
func (k *Kernels) ReLUBackwardAdd(s *vk.Seq, n int, y, dy, dx vk.Binding) {
	k.reluBackward(s, "ReLUBackwardAdd", "relu_bwd_acc", n, y, dy, dx)
}

func (k *Kernels) reluBackward(s *vk.Seq, op, name string, n int, y, dy, dx vk.Binding) {
	need(op, "y", y, n)
	need(op, "dy", dy, n)
	need(op, "dx", dx, n)
	if !vec4OK(4, y, dy, dx) {
		panic("ops." + op + ": bindings must be 16-byte aligned")
	}
	k.elementwise(s, name, n, 2, y, dy, dx)
}
