// Elementwise ops: ReLU and the residual add. Shapes are any; the slices are flat.

package ref

// ReLUForward computes y = max(x, 0), passing NaN through like PyTorch. y may alias x.
func ReLUForward[T Float](x, y []T) {
	checkLen("ReLUForward", "y", y, len(x))
	for i, v := range x {
		if v > 0 || v != v {
			y[i] = v
		} else {
			y[i] = 0
		}
	}
}

// ReLUBackward computes dx = dy where y > 0, else 0, with the mask taken from the forward output y
// (so it also works after an in-place ReLU). dx may alias dy.
func ReLUBackward[T Float](y, dy, dx []T) {
	checkLen("ReLUBackward", "dy", dy, len(y))
	checkLen("ReLUBackward", "dx", dx, len(y))
	for i, v := range y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// Add computes out = a + b, the residual connection. Its backward passes dout to both inputs unchanged.
// out may alias a or b.
func Add[T Float](a, b, out []T) {
	checkLen("Add", "b", b, len(a))
	checkLen("Add", "out", out, len(a))
	for i := range a {
		out[i] = a[i] + b[i]
	}
}
