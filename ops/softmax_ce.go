// Softmax cross-entropy with int32 labels: the linear probe's loss.
// B rows, classes logits per row.
package ops

import "github.com/vkclr/vkclr/vk"

func init() {
	S := vk.Storage
	register("softmax_ce", kernelDef{module: "softmax_ce", bindings: []vk.DescKind{S, S, S, S}, push: 16, spec: localWide})
}

// SoftmaxCE records the mean loss over B rows of -log softmax(logits)[label]
// and the number of rows whose first argmax is the label into out (loss,
// correct as a float), and dlogits = (softmax - onehot)/B, the gradient of
// the mean loss. labels is int32 (B). One workgroup; fixed summation order.
func (k *Kernels) SoftmaxCE(s *vk.Seq, B, classes int, logits, labels, out, dlogits vk.Binding) {
	need("SoftmaxCE", "dlogits", dlogits, B*classes)
	k.softmaxCE(s, "SoftmaxCE", B, classes, logits, labels, out, dlogits, true)
}

// SoftmaxCEForward records only the loss and correct count (evaluation).
func (k *Kernels) SoftmaxCEForward(s *vk.Seq, B, classes int, logits, labels, out vk.Binding) {
	k.softmaxCE(s, "SoftmaxCEForward", B, classes, logits, labels, out, logits, false)
}

func (k *Kernels) softmaxCE(s *vk.Seq, op string, B, classes int, logits, labels, out, dlogits vk.Binding, grad bool) {
	checkDims(op, B, classes)
	need(op, "logits", logits, B*classes)
	need(op, "labels", labels, B)
	need(op, "out", out, 2)
	ob, oi := k.small(out)
	k.dispatch1D(s, "softmax_ce", 1, vk.Push(B, classes, grad, oi), logits, labels, ob, dlogits)
}
