package model

import (
	"fmt"

	"github.com/vkclr/vkclr/ops/ref"
)

// CPU runs a graph with the plain-Go reference ops: the ground truth the
// device model is tested against, and small enough to check by finite
// differences. T is float64 for gradient checks, float32 to mirror the device.
type CPU[T ref.Float] struct {
	G             *Graph
	Params, Grads []T
	State         []T
	Acts, DActs   [][]T
}

// NewCPU allocates a CPU model for g with zero parameters.
func NewCPU[T ref.Float](g *Graph) *CPU[T] {
	m := &CPU[T]{G: g, Params: make([]T, g.NParams), Grads: make([]T, g.NParams), State: make([]T, g.NState)}
	m.Acts = make([][]T, len(g.Tensors))
	m.DActs = make([][]T, len(g.Tensors))
	for i, t := range g.Tensors {
		m.Acts[i] = make([]T, t.Len())
		m.DActs[i] = make([]T, t.Len())
	}
	return m
}

func (m *CPU[T]) param(i int) []T {
	p := m.G.Params[i]
	return m.Params[p.Offset : p.Offset+p.Len]
}

func (m *CPU[T]) grad(i int) []T {
	p := m.G.Params[i]
	return m.Grads[p.Offset : p.Offset+p.Len]
}

// Forward runs the graph on x (N, S, S, 4). In training mode batchnorm uses
// batch statistics and updates the running ones; otherwise it uses the running ones.
func (m *CPU[T]) Forward(x []T, train bool) []T {
	g := m.G
	copy(m.Acts[g.Input], x)
	for _, l := range g.Layers {
		in, out := m.Acts[l.In], m.Acts[l.Out]
		switch l.Kind {
		case Conv:
			ref.Conv2DForward(l.Conv, in, m.param(l.W), out)
		case BN:
			st := g.Stats[l.Stat]
			rm, rv := m.State[st.MeanOff:st.MeanOff+st.C], m.State[st.VarOff:st.VarOff+st.C]
			if train {
				ref.BatchNormForwardTrain(l.BN, in, m.param(l.W), m.param(l.B), out, m.Acts[l.Mean], m.Acts[l.Istd], rm, rv)
			} else {
				ref.BatchNormForwardEval(l.BN, in, m.param(l.W), m.param(l.B), rm, rv, out)
			}
			if l.ReLU {
				ref.ReLUForward(out, out)
			}
		case AddReLU:
			ref.Add(in, m.Acts[l.In2], out)
			ref.ReLUForward(out, out)
		case ReLU:
			ref.ReLUForward(in, out)
		case MaxPool:
			ref.MaxPoolForward(l.Pool, in, out)
		case GAP:
			t := g.Tensors[l.In]
			ref.GlobalAvgPoolForward(t.N, t.H, t.W, t.C, in, out)
		case Linear:
			var b []T
			if l.B >= 0 {
				b = m.param(l.B)
			}
			ref.LinearForward(l.Lin, in, m.param(l.W), b, out)
		default:
			panic(fmt.Sprintf("model: layer kind %v", l.Kind))
		}
	}
	return m.Acts[g.Output]
}

// Backward propagates dOut (the gradient of the output tensor) after a
// training-mode Forward, setting Grads. Gradients of tensors with several
// consumers are summed.
func (m *CPU[T]) Backward(dOut []T) {
	g := m.G
	for _, d := range m.DActs {
		clear(d)
	}
	clear(m.Grads)
	copy(m.DActs[g.Output], dOut)
	add := func(dst, src []T) {
		for i := range dst {
			dst[i] += src[i]
		}
	}
	for i := len(g.Layers) - 1; i >= 0; i-- {
		l := g.Layers[i]
		dy := m.DActs[l.Out]
		tmp := make([]T, len(m.Acts[l.In]))
		switch l.Kind {
		case Conv:
			ref.Conv2DBackwardWeight(l.Conv, m.Acts[l.In], dy, m.grad(l.W))
			if l.In != g.Input {
				ref.Conv2DBackwardData(l.Conv, dy, m.param(l.W), tmp)
				add(m.DActs[l.In], tmp)
			}
		case BN:
			if l.ReLU {
				masked := make([]T, len(dy))
				ref.ReLUBackward(m.Acts[l.Out], dy, masked)
				dy = masked
			}
			ref.BatchNormBackward(l.BN, m.Acts[l.In], dy, m.param(l.W), m.Acts[l.Mean], m.Acts[l.Istd], tmp, m.grad(l.W), m.grad(l.B))
			add(m.DActs[l.In], tmp)
		case AddReLU:
			ref.ReLUBackward(m.Acts[l.Out], dy, tmp)
			add(m.DActs[l.In], tmp)
			add(m.DActs[l.In2], tmp)
		case ReLU:
			ref.ReLUBackward(m.Acts[l.Out], dy, tmp)
			add(m.DActs[l.In], tmp)
		case MaxPool:
			ref.MaxPoolBackward(l.Pool, m.Acts[l.In], dy, tmp)
			add(m.DActs[l.In], tmp)
		case GAP:
			t := g.Tensors[l.In]
			ref.GlobalAvgPoolBackward(t.N, t.H, t.W, t.C, dy, tmp)
			add(m.DActs[l.In], tmp)
		case Linear:
			var db []T
			if l.B >= 0 {
				db = m.grad(l.B)
			}
			ref.LinearBackward(l.Lin, m.Acts[l.In], m.param(l.W), dy, tmp, m.grad(l.W), db)
			add(m.DActs[l.In], tmp)
		}
	}
}

// SimCLRLoss runs the projection output through L2 normalization and
// NT-Xent and returns the loss, the contrastive accuracy and dLoss/dOutput.
func SimCLRLoss[T ref.Float](out []T, n2, dim int, temperature float64) (loss, acc T, dOut []T) {
	z := make([]T, len(out))
	norms := make([]T, n2)
	ref.L2NormalizeForward(n2, dim, out, z, norms)
	p := ref.NTXent{N: n2 / 2, D: dim, Temperature: temperature}
	loss, acc = ref.NTXentForward(p, z)
	dz := make([]T, len(z))
	ref.NTXentBackward(p, z, dz)
	dOut = make([]T, len(out))
	ref.L2NormalizeBackward(n2, dim, z, norms, dz, dOut)
	return loss, acc, dOut
}
