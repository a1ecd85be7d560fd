package model

// GradPlan shares buffers among the backward pass's activation gradients.
// A tensor's gradient lives from its first contribution (the backward of
// its last consumer) to the backward of the layer that produced it, which
// reads it for the last time; a buffer freed then serves later gradients.
// Only a few gradients are alive at once, so the plan holds a small part of
// what one buffer per tensor would.
type GradPlan struct {
	Slot  []int // per tensor: its buffer, -1 when it has no gradient
	Sizes []int // per buffer: float32s
}

// written lists the tensors whose gradient layer l's backward writes.
func (g *Graph) written(l Layer) []int {
	switch {
	case l.Kind == Conv && l.In == g.Input:
		return nil
	case l.Kind == AddReLU:
		return []int{l.In, l.In2}
	}
	return []int{l.In}
}

// PlanGrads assigns gradient buffers in backward order, best fit first.
func (g *Graph) PlanGrads() GradPlan {
	p := GradPlan{Slot: make([]int, len(g.Tensors))}
	for i := range p.Slot {
		p.Slot[i] = -1
	}
	var free []int
	alloc := func(t int) {
		n := g.Tensors[t].Len()
		best := -1
		for j, b := range free { // the smallest free buffer that fits, else the largest
			switch {
			case best < 0:
				best = j
			case p.Sizes[b] >= n && (p.Sizes[free[best]] < n || p.Sizes[b] < p.Sizes[free[best]]):
				best = j
			case p.Sizes[free[best]] < n && p.Sizes[b] > p.Sizes[free[best]]:
				best = j
			}
		}
		if best < 0 {
			p.Slot[t] = len(p.Sizes)
			p.Sizes = append(p.Sizes, n)
			return
		}
		b := free[best]
		free = append(free[:best], free[best+1:]...)
		p.Sizes[b] = max(p.Sizes[b], n)
		p.Slot[t] = b
	}
	alloc(g.Output)
	for i := len(g.Layers) - 1; i >= 0; i-- {
		l := g.Layers[i]
		for _, t := range g.written(l) {
			if p.Slot[t] < 0 {
				alloc(t)
			}
		}
		// This layer produced l.Out: its gradient is read for the last time.
		free = append(free, p.Slot[l.Out])
	}
	return p
}

// Floats is the plan's total size.
func (p GradPlan) Floats() int {
	n := 0
	for _, s := range p.Sizes {
		n += s
	}
	return n
}
