package model

// GradPlan shares buffers among the backward pass's activation gradients.
// A tensor's gradient lives from its first contribution (the backward of
// its last consumer) to the backward of the layer that produced it, which
// reads it for the last time; a buffer freed then serves later gradients.
// Only a few gradients are alive at once, so the plan holds a small part of
// what one buffer per tensor would.
//
// Both inputs of an AddReLU get the same gradient, dy masked by the output.
// Where both get their first contribution there, they share one buffer
// (SameAs), so the second needs no copy (a full-tensor pass): the buffer is
// freed when both producers' backward passes have run. That is sound only
// while nothing adds to In2's gradient before In's producer has read In's
// for the last time, so the plan shares only when every other consumer of
// In2 comes before In's producer in the forward order (a residual block's
// conv1 before its bn2; a downsample branch has no other consumer).
type GradPlan struct {
	Slot   []int // per tensor: its buffer, -1 when it has no gradient
	Sizes  []int // per buffer: float32s
	SameAs []int // per tensor: the AddReLU input whose buffer it shares, else -1
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
	p := GradPlan{Slot: make([]int, len(g.Tensors)), SameAs: make([]int, len(g.Tensors))}
	for i := range p.Slot {
		p.Slot[i], p.SameAs[i] = -1, -1
	}
	var free []int
	users := map[int]int{} // per buffer: tensors that hold it until their producer's backward
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
	users[p.Slot[g.Output]] = 1
	for i := len(g.Layers) - 1; i >= 0; i-- {
		l := g.Layers[i]
		if l.Kind == AddReLU && p.Slot[l.In] < 0 && p.Slot[l.In2] < 0 && g.shareable(i) {
			alloc(l.In)
			p.Slot[l.In2], p.SameAs[l.In2] = p.Slot[l.In], l.In
			users[p.Slot[l.In]] = 2
		}
		for _, t := range g.written(l) {
			if p.Slot[t] < 0 {
				alloc(t)
				users[p.Slot[t]] = 1
			}
		}
		// This layer produced l.Out: its gradient is read for the last time.
		if b := p.Slot[l.Out]; b >= 0 {
			if users[b]--; users[b] == 0 {
				free = append(free, b)
			}
		}
	}
	return p
}

// shareable reports whether AddReLU layer i's inputs may share a gradient
// buffer (see GradPlan): every consumer of In2 other than layer i comes
// before the layer that produces In.
func (g *Graph) shareable(i int) bool {
	l := g.Layers[i]
	producer := -1
	for j, m := range g.Layers {
		if m.Out == l.In {
			producer = j
		}
	}
	for j, m := range g.Layers {
		if j != i && (m.In == l.In2 || (m.Kind == AddReLU && m.In2 == l.In2)) && j > producer {
			return false
		}
	}
	return producer >= 0 && l.In != l.In2
}

// Floats is the plan's total size.
func (p GradPlan) Floats() int {
	n := 0
	for _, s := range p.Sizes {
		n += s
	}
	return n
}
