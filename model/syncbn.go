// Synchronized batchnorm: a training Device whose batchnorms take their
// statistics over the batches of several ranks. The recorded pass is cut at
// every batchnorm (Cutter): the sequence before the cut ends by copying the
// layer's per-chunk partials to host memory, the host combines every
// rank's in rank order (float64, so all ranks get the same bits), and the
// sequence after the cut starts by copying the combined chunk back.
package model

import (
	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/vk"
)

// Cut is one place where the recorded pass stops for host work.
type Cut struct {
	Layer    int  // index in Graph.Layers
	Backward bool // in the backward pass
	// GradsFrom is the offset in Grads from which every parameter gradient
	// is final when the sequence before the cut has run (backward cuts).
	GradsFrom int
	// Host combines the ranks' statistics; the caller runs it after the
	// sequence before the cut and before the one after it.
	Host func() error
}

// Cutter ends sequence s at c and returns the sequence to record the rest in.
type Cutter func(s *vk.Seq, c Cut) *vk.Seq

// SyncBN configures a Device's batchnorms for several ranks.
type SyncBN struct {
	Ranks int
	// Sync combines statistics over the ranks; without it every rank keeps
	// its own and the backward pass is still cut after each batchnorm (so
	// that gradients can be reduced in buckets).
	Sync bool
	// Gather puts every rank's send, in rank order, into recv (all-gather).
	Gather func(send, recv []float64) error
	Cut    Cutter

	host map[int]*bnHost // by layer
}

// bnHost is one batchnorm's host staging: the rank's partials (chunks, 2, C)
// down, the combined chunk (2, C) up.
type bnHost struct {
	down, up *vk.Buffer
}

// StatBytes is what one step's synchronized statistics send per rank:
// (2 C) float64 per batchnorm, forward and backward.
func (g *Graph) StatBytes() int {
	n := 0
	for _, l := range g.Layers {
		if l.Kind == BN {
			n += 2 * 2 * 8 * l.BN.C
		}
	}
	return n
}

// paramsFrom is the smallest parameter offset of layers from index i on
// (NParams when none has parameters): layers lay out their parameters in
// order, so those are the gradients final once the backward pass is past i.
func (g *Graph) paramsFrom(i int) int {
	lo := g.NParams
	for _, l := range g.Layers[i:] {
		for _, p := range []int{l.W, l.B} {
			if p >= 0 {
				lo = min(lo, g.Params[p].Offset)
			}
		}
	}
	return lo
}

// BNParamRanges returns the (offset, length) of every batchnorm gamma and
// beta in the parameter buffer: with synchronized statistics their
// gradients are already sums over all ranks.
func (g *Graph) BNParamRanges() [][2]int {
	var r [][2]int
	for _, l := range g.Layers {
		if l.Kind == BN {
			for _, p := range []int{l.W, l.B} {
				r = append(r, [2]int{g.Params[p].Offset, g.Params[p].Len})
			}
		}
	}
	return r
}

// EnableSync makes the training passes recorded from now on follow sb,
// allocating each batchnorm's host staging.
func (d *Device) EnableSync(sb *SyncBN) error {
	sb.host = map[int]*bnHost{}
	d.Sync = sb
	if !sb.Sync {
		return nil
	}
	c := d.K.Ctx
	for i, l := range d.G.Layers {
		if l.Kind != BN {
			continue
		}
		chunks, _ := d.K.BatchNormChunks(l.BN)
		down, err := c.NewHostBuffer(uint64(4 * 2 * chunks * l.BN.C))
		if err != nil {
			return err
		}
		d.bufs = append(d.bufs, down)
		up, err := c.NewHostBuffer(uint64(4 * 2 * l.BN.C))
		if err != nil {
			return err
		}
		d.bufs = append(d.bufs, up)
		sb.host[i] = &bnHost{down: down, up: up}
	}
	return nil
}

// syncForward records layer i's training batchnorm with statistics over all ranks, applied with o
// into out (the layer's output, or with a residual the next AddReLU's).
func (d *Device) syncForward(s *vk.Seq, i int, o ops.BNOpts, out vk.Binding) *vk.Seq {
	g, k, l := d.G, d.K, d.G.Layers[i]
	h := d.Sync.host[i]
	p, C := l.BN, l.BN.C
	chunks, R := k.BatchNormChunks(p)
	k.BatchNormStats(s, p, d.Act(l.In), d.scratch())
	s.Label("bn_sync")
	s.Copy(h.down.All(), ops.F32(d.work, 0, 2*chunks*C))
	total := p.M * d.Sync.Ranks
	s = d.Sync.Cut(s, Cut{Layer: i, GradsFrom: -1, Host: func() error {
		return d.combine(h, p.M, chunks, R, C, false)
	}})
	s.Label("bn_sync")
	s.Copy(ops.F32(d.work, 0, 2*C), h.up.All())
	st := g.Stats[l.Stat]
	s.Label(l.Kind.String())
	k.BatchNormFoldCombined(s, p, total, d.scratch(), d.Act(l.Mean), d.Act(l.Istd), d.stat(st.MeanOff, C), d.stat(st.VarOff, C))
	k.BatchNormApply(s, p, o, d.Act(l.In), d.param(l.W), d.param(l.B), d.Act(l.Mean), d.Act(l.Istd), out)
	return s
}

// syncBackward records layer i's batchnorm backward with the gradient sums
// over all ranks, writing dx into to.
func (d *Device) syncBackward(s *vk.Seq, i int, to vk.Binding) *vk.Seq {
	k, l := d.K, d.G.Layers[i]
	h := d.Sync.host[i]
	p, C := l.BN, l.BN.C
	o := ops.BNOpts{ReLU: l.ReLU}
	var y vk.Binding
	if l.ReLU {
		y = d.Act(l.Out)
	}
	chunks, R := k.BatchNormChunks(p)
	dy := d.Grad(l.Out)
	k.BatchNormBackwardStats(s, p, o, d.Act(l.In), y, dy, d.Act(l.Mean), d.Act(l.Istd), d.scratch())
	s.Label("bn_sync")
	s.Copy(h.down.All(), ops.F32(d.work, 0, 2*chunks*C))
	s = d.Sync.Cut(s, Cut{Layer: i, Backward: true, GradsFrom: d.G.paramsFrom(i + 1), Host: func() error {
		return d.combine(h, p.M, chunks, R, C, true)
	}})
	s.Label("bn_sync")
	s.Copy(ops.F32(d.work, 0, 2*C), h.up.All())
	s.Label(l.Kind.String() + "_bwd")
	k.BatchNormBackwardFoldCombined(s, p, p.M*d.Sync.Ranks, d.scratch(), d.param(l.W), d.Act(l.Mean), d.Act(l.Istd), d.grad(l.W), d.grad(l.B))
	k.BatchNormBackwardApply(s, p, o, d.Act(l.In), y, dy, d.scratch(), to)
	return s
}

// combine folds this rank's chunk partials of m rows into one (float64),
// gathers every rank's and writes their combination to h.up: forward
// partials are (mean, M2) pairs merged like batchnorm_final (Chan et al.),
// backward ones are sums.
func (d *Device) combine(h *bnHost, m, chunks, R, C int, backward bool) error {
	part := h.down.Float32s()[:2*chunks*C]
	mine := make([]float64, 2*C)
	for c := 0; c < C; c++ {
		var n, a, b float64
		for ch := 0; ch < chunks; ch++ {
			x, y := float64(part[2*ch*C+c]), float64(part[(2*ch+1)*C+c])
			if backward {
				a, b = a+x, b+y
				continue
			}
			n, a, b = chanMerge(n, a, b, float64(min(R, m-ch*R)), x, y)
		}
		mine[c], mine[C+c] = a, b
	}
	all := make([]float64, 2*C*d.Sync.Ranks)
	if err := d.Sync.Gather(mine, all); err != nil {
		return err
	}
	up := h.up.Float32s()[:2*C]
	for c := 0; c < C; c++ {
		var n, a, b float64
		for r := 0; r < d.Sync.Ranks; r++ {
			x, y := all[r*2*C+c], all[r*2*C+C+c]
			if backward {
				a, b = a+x, b+y
				continue
			}
			n, a, b = chanMerge(n, a, b, float64(m), x, y)
		}
		up[c], up[C+c] = float32(a), float32(b)
	}
	return nil
}

// chanMerge folds a part of nb values with mean mb and M2 m2b into (n, mean, m2).
func chanMerge(n, mean, m2, nb, mb, m2b float64) (float64, float64, float64) {
	if nb == 0 {
		return n, mean, m2
	}
	nn := n + nb
	dd := mb - mean
	return nn, mean + dd*(nb/nn), m2 + m2b + dd*dd*(n*nb/nn)
}
