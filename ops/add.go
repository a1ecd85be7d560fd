// The residual add, plain and fused with the ReLU that follows it in a
// ResNet block.
package ops

import "github.com/vkclr/vkclr/vk"

func init() {
	S := vk.Storage
	T := vk.TexelVec4
	register("add", kernelDef{module: "add", bindings: []vk.DescKind{S, S, S}, push: 4, spec: localWideK})
	register("add_relu", kernelDef{module: "add_relu", bindings: []vk.DescKind{S, S, S}, push: 4, spec: localWideK})
	register("add_texel", kernelDef{module: "add_texel", bindings: []vk.DescKind{T, T, S}, push: 4, spec: localWideK})
	register("add_relu_texel", kernelDef{module: "add_relu_texel", bindings: []vk.DescKind{T, T, S}, push: 4, spec: localWideK})
}

// Add records out = a + b over n elements; out may alias a or b (a gradient
// accumulated in place).
func (k *Kernels) Add(s *vk.Seq, n int, a, b, out vk.Binding) { k.add(s, "Add", "add", n, a, b, out) }

// AddReLU records out = relu(a + b), the end of a residual block; its
// backward is ReLUBackward on out, passed to both branches. out may alias a or b.
func (k *Kernels) AddReLU(s *vk.Seq, n int, a, b, out vk.Binding) {
	k.add(s, "AddReLU", "add_relu", n, a, b, out)
}

func (k *Kernels) add(s *vk.Seq, op, name string, n int, a, b, out vk.Binding) {
	need(op, "a", a, n)
	need(op, "b", b, n)
	need(op, "out", out, n)
	if !vec4OK(4, a, b, out) {
		panic("ops." + op + ": bindings must be 16-byte aligned")
	}
	k.elementwise(s, name, n, 2, a, b, out)
}
