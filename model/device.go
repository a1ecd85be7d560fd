package model

import (
	"fmt"

	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/vk"
)

// Weights are the device buffers that outlive one batch size: parameters
// and batchnorm running statistics. A training graph and an evaluation
// graph of another batch size share them.
type Weights struct {
	Params, State *vk.Buffer
	NParams       int
	NState        int
}

// NewWeights allocates device buffers for g's parameters and statistics.
func NewWeights(c *vk.Context, g *Graph) (*Weights, error) {
	p, err := c.NewBuffer(uint64(4 * g.NParams))
	if err != nil {
		return nil, fmt.Errorf("parameters (%s): %w", vk.FormatBytes(uint64(4*g.NParams)), err)
	}
	s, err := c.NewBuffer(uint64(4 * max(g.NState, 1)))
	if err != nil {
		p.Release()
		return nil, err
	}
	return &Weights{Params: p, State: s, NParams: g.NParams, NState: g.NState}, nil
}

// Upload writes host parameters and statistics.
func (w *Weights) Upload(c *vk.Context, params, state []float32) error {
	if err := c.UploadF32(w.Params.All(), params); err != nil {
		return err
	}
	return c.UploadF32(w.State.All(), state)
}

// Download reads them back.
func (w *Weights) Download(c *vk.Context, params, state []float32) error {
	if err := c.DownloadF32(params, w.Params.All()); err != nil {
		return err
	}
	return c.DownloadF32(state, w.State.All())
}

// Release frees the buffers.
func (w *Weights) Release() {
	w.Params.Release()
	w.State.Release()
}

// Device is a graph on a Vulkan device: every activation has a buffer, and
// for training the activation gradients share the buffers of PlanGrads; all
// are planned once for the batch size and reused every step. Parameters and
// statistics come from Weights.
type Device struct {
	G     *Graph
	K     *ops.Kernels
	W     *Weights
	Grads *vk.Buffer // (NParams) parameter gradients, training only
	acts  []*vk.Buffer
	dacts []*vk.Buffer
	// sameAs[t]: the tensor whose gradient buffer t's shares (GradPlan.SameAs), else -1.
	sameAs []int
	tmp    *vk.Buffer // a gradient contribution waiting to be added
	work   *vk.Buffer // kernels' partial sums (conv weight gradient, batchnorm)
	// keep[i], for a training conv layer i, holds its Winograd input transform from the forward
	// pass for its grad weight, and for a max pool its windows' argmax (KeepFloats); unbound for
	// the others. kept: the last recorded forward pass filled them.
	keep  []vk.Binding
	kept  bool
	bytes uint64
	bufs  []*vk.Buffer
	// Sync, when set (EnableSync), spreads training batchnorm over several ranks.
	Sync *SyncBN
}

// Plan is the device memory a graph needs, in bytes.
type Plan struct {
	Params, Grads, Activations, ActGrads, Scratch, Keep, Total uint64
}

// MemoryPlan computes what NewDevice allocates (optimizer state not included); keep is KeepFloats'
// (nil: none).
func (g *Graph) MemoryPlan(train bool, scratchFloats int, keep []int) Plan {
	var p Plan
	p.Params = uint64(4 * (g.NParams + g.NState))
	maxT := 0
	unstored := g.unstored()
	for i, t := range g.Tensors {
		if !unstored[i] {
			p.Activations += uint64(4 * t.Len())
		}
		maxT = max(maxT, t.Len())
	}
	if train {
		p.ActGrads = uint64(4 * g.PlanGrads().Floats())
	}
	if train {
		p.Grads = uint64(4 * g.NParams)
		p.Scratch = uint64(4 * (maxT + scratchFloats))
	} else {
		p.Scratch = uint64(4 * scratchFloats)
	}
	if train {
		for _, n := range keep {
			p.Keep += uint64(4 * n)
		}
	}
	p.Total = p.Params + p.Grads + p.Activations + p.ActGrads + p.Scratch + p.Keep
	return p
}

// KeepBudget caps the device memory a training graph spends keeping what its backward reuses from
// the forward pass (convolutions' Winograd input transforms for their grad weight, max pooling's
// argmax): layers in order, each that still fits.
var KeepBudget uint64 = 1 << 30

// KeepFloats is, for each layer of g, the float32s a training Device keeps for it
// (ops.Conv2DKeepFloats, ops.MaxPoolKeepFloats, within KeepBudget); 0 for the rest.
func KeepFloats(k *ops.Kernels, g *Graph) []int {
	out := make([]int, len(g.Layers))
	var used uint64
	for i, l := range g.Layers {
		n := 0
		switch l.Kind {
		case Conv:
			n = k.Conv2DKeepFloats(l.Conv)
		case MaxPool:
			n = ops.MaxPoolKeepFloats(l.Pool)
		}
		if n > 0 && used+uint64(4*n) <= KeepBudget {
			out[i] = n
			used += uint64(4 * n)
		}
	}
	return out
}

// ScratchFloats is the largest partial-sum buffer any layer's kernels need.
func ScratchFloats(k *ops.Kernels, g *Graph) int {
	n := 1
	for _, l := range g.Layers {
		switch l.Kind {
		case Conv:
			n = max(n, k.Conv2DScratch(l.Conv))
		case BN:
			n = max(n, k.BatchNormScratch(l.BN))
		case Linear:
			n = max(n, k.LinearScratch(l.Lin))
		}
	}
	return n
}

// NewDevice allocates g's activations (and gradients when train) on k's device.
func NewDevice(k *ops.Kernels, g *Graph, w *Weights, train bool) (*Device, error) {
	c := k.Ctx
	d := &Device{G: g, K: k, W: w}
	// A tensor may exceed the storage-buffer range: the ops bind it in pieces.
	alloc := func(what string, floats int) (*vk.Buffer, error) {
		n := uint64(4 * max(floats, 1))
		b, err := c.NewBuffer(n)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w; try a smaller --batch-size", what, vk.FormatBytes(n), err)
		}
		d.bufs = append(d.bufs, b)
		d.bytes += n
		return b, nil
	}
	fail := func(err error) (*Device, error) {
		d.Release()
		return nil, err
	}
	d.acts = make([]*vk.Buffer, len(g.Tensors))
	d.dacts = make([]*vk.Buffer, len(g.Tensors))
	maxT := 0
	var err error
	unstored := g.unstored()
	for i, t := range g.Tensors {
		maxT = max(maxT, t.Len())
		if unstored[i] {
			continue // never written: Act(i) panics
		}
		if d.acts[i], err = alloc("activation "+t.Name, t.Len()); err != nil {
			return fail(err)
		}
	}
	if train {
		plan := g.PlanGrads()
		d.sameAs = plan.SameAs
		shared := make([]*vk.Buffer, len(plan.Sizes))
		for i := range shared {
			if shared[i], err = alloc(fmt.Sprintf("activation gradients (buffer %d of %d)", i+1, len(shared)), plan.Sizes[i]); err != nil {
				return fail(err)
			}
		}
		for t, slot := range plan.Slot {
			if slot >= 0 {
				d.dacts[t] = shared[slot]
			}
		}
	}
	if d.work, err = alloc("kernel scratch", ScratchFloats(k, g)); err != nil {
		return fail(err)
	}
	d.keep = make([]vk.Binding, len(g.Layers))
	if train {
		for i, n := range KeepFloats(k, g) {
			if n > 0 {
				b, err := alloc("kept forward data of "+g.Layers[i].Name, n)
				if err != nil {
					return fail(err)
				}
				d.keep[i] = b.All()
			}
		}
		if d.Grads, err = alloc("parameter gradients", g.NParams); err != nil {
			return fail(err)
		}
		if d.tmp, err = alloc("gradient scratch", maxT); err != nil {
			return fail(err)
		}
	}
	return d, nil
}

// Bytes is the device memory the graph's own buffers hold.
func (d *Device) Bytes() uint64 { return d.bytes }

// Release frees the graph's buffers (not the Weights).
func (d *Device) Release() {
	for _, b := range d.bufs {
		b.Release()
	}
	d.bufs = nil
}

// Act binds tensor i's activation; Grad its gradient.
func (d *Device) Act(i int) vk.Binding {
	if d.acts[i] == nil {
		panic("model: activation " + d.G.Tensors[i].Name + " is never stored (Graph.FusedResidual)")
	}
	return d.acts[i].Slice(0, uint64(4*d.G.Tensors[i].Len()))
}
func (d *Device) Grad(i int) vk.Binding { return d.dacts[i].Slice(0, uint64(4*d.G.Tensors[i].Len())) }

func (d *Device) param(i int) vk.Binding {
	p := d.G.Params[i]
	return ops.F32(d.W.Params, p.Offset, p.Len)
}

func (d *Device) grad(i int) vk.Binding {
	p := d.G.Params[i]
	return ops.F32(d.Grads, p.Offset, p.Len)
}

func (d *Device) stat(off, n int) vk.Binding { return ops.F32(d.W.State, off, n) }

func (d *Device) scratch() vk.Binding { return d.work.All() }

// RecordForward records the forward pass from Act(G.Input) to Act(G.Output).
// train uses batch statistics (and updates the running ones). It returns the
// sequence the pass ends in: s, unless Sync cut it.
func (d *Device) RecordForward(s *vk.Seq, train bool) *vk.Seq {
	g, k := d.G, d.K
	d.kept = train
	for i := 0; i < len(g.Layers); i++ {
		l := g.Layers[i]
		s.Label(l.Kind.String())
		var in, out vk.Binding
		if l.Kind != BN {
			in, out = d.Act(l.In), d.Act(l.Out)
		}
		switch l.Kind {
		case Conv:
			var keep vk.Binding
			if train {
				keep = d.keep[i]
			}
			k.Conv2DForwardAutoKeep(s, l.Conv, in, d.param(l.W), out, d.scratch(), keep)
		case BN:
			st := g.Stats[l.Stat]
			rm, rv := d.stat(st.MeanOff, st.C), d.stat(st.VarOff, st.C)
			o, in, li := ops.BNOpts{ReLU: l.ReLU}, d.Act(l.In), i
			if g.FusedResidual(li) {
				next := g.Layers[li+1]
				o, out = ops.BNOpts{ReLU: true, Residual: d.Act(next.In2)}, d.Act(next.Out)
				i++ // the AddReLU is done here
			} else {
				out = d.Act(l.Out)
			}
			if train && d.Sync != nil && d.Sync.Sync {
				s = d.syncForward(s, li, o, out)
			} else if train {
				k.BatchNormForwardTrain(s, l.BN, o, in, d.param(l.W), d.param(l.B), out, d.Act(l.Mean), d.Act(l.Istd), rm, rv, d.scratch())
			} else {
				k.BatchNormForwardEval(s, l.BN, o, in, d.param(l.W), d.param(l.B), rm, rv, out)
			}
		case AddReLU:
			k.AddReLU(s, g.Tensors[l.Out].Len(), in, d.Act(l.In2), out)
		case ReLU:
			k.ReLU(s, g.Tensors[l.Out].Len(), in, out)
		case MaxPool:
			var keep vk.Binding
			if train {
				keep = d.keep[i]
			}
			k.MaxPoolKeep(s, l.Pool, in, out, keep)
		case GAP:
			t := g.Tensors[l.In]
			k.GlobalAvgPool(s, t.N, t.H, t.W, t.C, in, out)
		case Linear:
			var b vk.Binding
			if l.B >= 0 {
				b = d.param(l.B)
			}
			k.LinearForwardScratch(s, l.Lin, in, d.param(l.W), b, out, d.scratch())
		}
	}
	return s
}

// RecordBackward records the backward pass from Grad(G.Output), which the
// caller has filled, to every parameter gradient in Grads. A tensor with
// several consumers gets its first gradient contribution written in place
// and later ones added through a scratch buffer. It returns the sequence the
// pass ends in: s, unless Sync cut it.
func (d *Device) RecordBackward(s *vk.Seq) *vk.Seq {
	g, k := d.G, d.K
	written := make([]bool, len(g.Tensors))
	written[g.Output] = true
	// dst returns where a contribution to tensor t goes, and a function that
	// folds it in afterwards when t already has one.
	dst := func(t int) (vk.Binding, func()) {
		if !written[t] {
			written[t] = true
			return d.Grad(t), func() {}
		}
		n := g.Tensors[t].Len()
		tmp := ops.F32(d.tmp, 0, n)
		return tmp, func() {
			s.Label("add")
			k.Add(s, n, d.Grad(t), tmp, d.Grad(t))
		}
	}
	for i := len(g.Layers) - 1; i >= 0; i-- {
		l := g.Layers[i]
		s.Label(l.Kind.String() + "_bwd")
		dy := d.Grad(l.Out)
		switch l.Kind {
		case Conv:
			s.Label("conv_bwd_weight")
			var kept vk.Binding
			if d.kept {
				kept = d.keep[i]
			}
			k.Conv2DBackwardWeightAutoKept(s, l.Conv, d.Act(l.In), dy, d.grad(l.W), d.scratch(), kept)
			if l.In != g.Input {
				// A second contribution (a residual block's input) is added by the kernel itself.
				s.Label("conv_bwd_data")
				if written[l.In] {
					k.Conv2DBackwardDataAutoAdd(s, l.Conv, dy, d.param(l.W), d.Grad(l.In), d.scratch())
				} else {
					written[l.In] = true
					k.Conv2DBackwardDataAuto(s, l.Conv, dy, d.param(l.W), d.Grad(l.In), d.scratch())
				}
			}
		case BN:
			to, fold := dst(l.In)
			var y vk.Binding
			if l.ReLU {
				y = d.Act(l.Out)
			}
			if d.Sync != nil && d.Sync.Sync {
				s = d.syncBackward(s, i, to)
				fold()
				break
			}
			k.BatchNormBackward(s, l.BN, ops.BNOpts{ReLU: l.ReLU}, d.Act(l.In), y, dy, d.param(l.W), d.Act(l.Mean), d.Act(l.Istd), to, d.grad(l.W), d.grad(l.B), d.scratch())
			fold()
			if d.Sync != nil {
				s = d.Sync.Cut(s, Cut{Layer: i, Backward: true, GradsFrom: g.paramsFrom(i)})
			}
		case AddReLU, ReLU:
			n := g.Tensors[l.Out].Len()
			// Both inputs of an AddReLU get the same gradient: where the
			// plan gave them one buffer, it is already there; otherwise,
			// where the first one's is fresh, the second is a buffer copy (a
			// memcpy on CPU drivers) instead of another masking pass.
			fresh := !written[l.In]
			reluBackwardInto(k, s, n, d.Act(l.Out), dy, d.Grad(l.In), written, l.In)
			if l.Kind == AddReLU {
				if len(d.sameAs) > 0 && d.sameAs[l.In2] == l.In {
					if !fresh || written[l.In2] {
						panic("model: AddReLU inputs share a gradient buffer but one already has a contribution")
					}
					written[l.In2] = true
				} else if fresh && !written[l.In2] {
					written[l.In2] = true
					s.Copy(d.Grad(l.In2), d.Grad(l.In))
				} else {
					reluBackwardInto(k, s, n, d.Act(l.Out), dy, d.Grad(l.In2), written, l.In2)
				}
			}
		case MaxPool:
			to, fold := dst(l.In)
			var kept vk.Binding
			if d.kept {
				kept = d.keep[i]
			}
			k.MaxPoolBackwardKept(s, l.Pool, d.Act(l.In), dy, to, kept)
			fold()
		case GAP:
			t := g.Tensors[l.In]
			to, fold := dst(l.In)
			k.GlobalAvgPoolBackward(s, t.N, t.H, t.W, t.C, dy, to)
			fold()
		case Linear:
			var db vk.Binding
			if l.B >= 0 {
				db = d.grad(l.B)
			}
			to, fold := dst(l.In)
			k.LinearBackwardScratch(s, l.Lin, d.Act(l.In), d.param(l.W), dy, to, d.grad(l.W), db, d.scratch())
			fold()
		}
	}
	return s
}

// reluBackwardInto writes dy*[y>0] into dx, or adds it when tensor t
// already has a gradient contribution.
func reluBackwardInto(k *ops.Kernels, s *vk.Seq, n int, y, dy, dx vk.Binding, written []bool, t int) {
	if written[t] {
		k.ReLUBackwardAdd(s, n, y, dy, dx)
		return
	}
	written[t] = true
	k.ReLUBackward(s, n, y, dy, dx)
}
