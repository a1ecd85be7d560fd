// Optimizers over flat parameter buffers: SGD, LARS and AdamW, each one step over every segment.
// params, grads and optimizer state share one layout, described by the segment (offset) table.

package ref

import (
	"fmt"
	"math"
)

// Segment is one parameter tensor inside the flat buffers: elements [Offset, Offset+Len).
// Exclude marks biases and batchnorm parameters: no weight decay and, for LARS, no trust-ratio adaptation.
// Elements not covered by any segment are left untouched by the optimizers.
type Segment struct {
	Offset, Len int
	Exclude     bool
}

// DefaultLARSEta is the LARS trust coefficient of the SimCLR reference code.
const DefaultLARSEta = 0.001

func checkSegments(op string, n int, segs []Segment) {
	for i, s := range segs {
		if s.Offset < 0 || s.Len < 0 || s.Offset+s.Len > n {
			panic(fmt.Sprintf("ref.%s: segment %d %+v outside a buffer of %d elements", op, i, s, n))
		}
	}
}

// SGDStep applies one step of PyTorch's SGD (dampening 0): g = grad + wd*w; v = momentum*v + g;
// w -= lr*v, or w -= lr*(g + momentum*v) with Nesterov. Excluded segments get no weight decay (PyTorch
// applies wd to every tensor of a param group; SimCLR puts biases and BN parameters in a group with wd 0).
// With momentum 0 there is no state and mom may be nil. mom starts at zero, which equals PyTorch's
// first-step buf = g.
func SGDStep[T Float](params, grads, mom []T, segs []Segment, lr, momentum, wd float64, nesterov bool) {
	const op = "SGDStep"
	checkLen(op, "grads", grads, len(params))
	if momentum != 0 {
		checkLen(op, "mom", mom, len(params))
	}
	if nesterov && momentum <= 0 {
		panic("ref.SGDStep: Nesterov momentum requires momentum > 0")
	}
	checkSegments(op, len(params), segs)
	for _, s := range segs {
		for i := s.Offset; i < s.Offset+s.Len; i++ {
			w, g := float64(params[i]), float64(grads[i])
			if !s.Exclude {
				g += wd * w
			}
			d := g
			if momentum != 0 {
				v := momentum*float64(mom[i]) + g
				mom[i] = T(v)
				d = v
				if nesterov {
					d = g + momentum*v
				}
			}
			params[i] = T(w - lr*d)
		}
	}
}

// LARSStep applies one step of LARS as the SimCLR reference code does it. Per segment: if not excluded,
// g = grad + wd*w and trust = eta*||w||/||g|| when both norms are > 0, else 1; excluded segments use the
// raw gradient and trust 1. Then v = momentum*v + lr*trust*g and w -= v, or with Nesterov
// w -= momentum*v + lr*trust*g (v already updated). Norms are taken before the update, in float64.
func LARSStep[T Float](params, grads, mom []T, segs []Segment, lr, momentum, wd, eta float64, nesterov bool) {
	const op = "LARSStep"
	checkLen(op, "grads", grads, len(params))
	checkLen(op, "mom", mom, len(params))
	checkSegments(op, len(params), segs)
	for _, s := range segs {
		trust := 1.0
		if !s.Exclude {
			var ww, gg float64
			for i := s.Offset; i < s.Offset+s.Len; i++ {
				w := float64(params[i])
				g := float64(grads[i]) + wd*w
				ww += w * w
				gg += g * g
			}
			if ww > 0 && gg > 0 {
				trust = eta * math.Sqrt(ww) / math.Sqrt(gg)
			}
		}
		scaled := lr * trust
		for i := s.Offset; i < s.Offset+s.Len; i++ {
			w, g := float64(params[i]), float64(grads[i])
			if !s.Exclude {
				g += wd * w
			}
			v := momentum*float64(mom[i]) + scaled*g
			mom[i] = T(v)
			update := v
			if nesterov {
				update = momentum*v + scaled*g
			}
			params[i] = T(w - update)
		}
	}
}

// AdamWStep applies PyTorch's AdamW at step (1 for the first call): w *= 1 - lr*wd (not for excluded
// segments); m = beta1*m + (1-beta1)*g; v = beta2*v + (1-beta2)*g^2;
// w -= lr/(1-beta1^step) * m / (sqrt(v)/sqrt(1-beta2^step) + eps).
func AdamWStep[T Float](params, grads, m, v []T, segs []Segment, lr, beta1, beta2, eps, wd float64, step int) {
	const op = "AdamWStep"
	checkLen(op, "grads", grads, len(params))
	checkLen(op, "m", m, len(params))
	checkLen(op, "v", v, len(params))
	checkPositive(op, "step", step)
	checkSegments(op, len(params), segs)
	bc1 := 1 - math.Pow(beta1, float64(step))
	bc2sqrt := math.Sqrt(1 - math.Pow(beta2, float64(step)))
	stepSize := lr / bc1
	for _, s := range segs {
		for i := s.Offset; i < s.Offset+s.Len; i++ {
			w, g := float64(params[i]), float64(grads[i])
			if !s.Exclude {
				w *= 1 - lr*wd
			}
			mi := beta1*float64(m[i]) + (1-beta1)*g
			vi := beta2*float64(v[i]) + (1-beta2)*g*g
			m[i], v[i] = T(mi), T(vi)
			params[i] = T(w - stepSize*mi/(math.Sqrt(vi)/bc2sqrt+eps))
		}
	}
}
