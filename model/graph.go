package model

import (
	"fmt"

	"github.com/vkclr/vkclr/ops/ref"
)

// ParamAlign is the alignment of every tensor in the flat buffers, in
// float32s (256 bytes): any device's storage and texel offset alignment.
const ParamAlign = 64

// Param is one trainable tensor in the flat parameter buffer. The same
// offsets index the gradient and optimizer-state buffers.
type Param struct {
	Name    string // torchvision's state_dict name ("layer1.0.conv1.weight", "projector.0.weight")
	Shape   []int  // device layout: conv (R, S, C, K), linear (I, O), vectors (C)
	Offset  int
	Len     int
	Exclude bool // biases and batchnorm parameters: no weight decay, no LARS adaptation
	kind    paramKind
	fanIn   int
	fanOut  int
	// trueC is a conv weight's input channels before device padding (1 or 3 for the stem).
	trueC int
}

type paramKind int

const (
	convWeight paramKind = iota
	bnWeight
	bnBias
	linWeight
	linBias
)

// Stat is one batchnorm's running statistics in the flat state buffer.
type Stat struct {
	Prefix          string // "bn1", "layer1.0.bn2", "projector.1"
	C               int
	MeanOff, VarOff int
}

// Tensor is an activation: (N, H, W, C), or (N, C) with H = W = 1.
type Tensor struct {
	Name       string
	N, H, W, C int
}

// Len is the tensor's element count.
func (t Tensor) Len() int { return t.N * t.H * t.W * t.C }

// LayerKind names a layer's operation.
type LayerKind int

const (
	Conv LayerKind = iota
	BN
	AddReLU
	MaxPool
	GAP
	Linear
	ReLU
)

var kindNames = [...]string{"conv", "batchnorm", "add+relu", "maxpool", "avgpool", "linear", "relu"}

func (k LayerKind) String() string { return kindNames[k] }

// Layer is one step of the forward pass. In, In2 and Out are tensor ids.
type Layer struct {
	Kind         LayerKind
	Name         string
	In, In2, Out int
	Conv         ref.Conv2D
	Pool         ref.MaxPool
	Lin          ref.Linear
	BN           ref.BatchNorm
	ReLU         bool // batchnorm followed by ReLU (fused)
	W, B         int  // param indices (-1: none); for BN, gamma and beta
	Stat         int  // BN: index into Graph.Stats
	// Mean and Istd are BN's saved statistics for backward: tensor ids of (C).
	Mean, Istd int
}

// Graph is a network built for one batch size.
type Graph struct {
	Cfg     Config
	Batch   int // images per forward pass (both views: 2x the SimCLR batch)
	Params  []Param
	NParams int // floats in the parameter buffer, with alignment
	Stats   []Stat
	NState  int
	Tensors []Tensor
	Layers  []Layer
	// Input (N, S, S, 4), Features (N, F) the encoder output, Output the head's (N, D) (Features without a head).
	Input, Features, Output int
}

func align(n int) int { return (n + ParamAlign - 1) / ParamAlign * ParamAlign }

type builder struct {
	g *Graph
}

func (b *builder) tensor(name string, n, h, w, c int) int {
	b.g.Tensors = append(b.g.Tensors, Tensor{Name: name, N: n, H: h, W: w, C: c})
	return len(b.g.Tensors) - 1
}

func (b *builder) param(name string, kind paramKind, shape []int, exclude bool) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	g := b.g
	g.Params = append(g.Params, Param{Name: name, Shape: shape, Offset: g.NParams, Len: n, Exclude: exclude, kind: kind})
	g.NParams += align(n)
	return len(g.Params) - 1
}

// conv adds a bias-free convolution from tensor in.
func (b *builder) conv(name string, in, k, r, stride, pad int, trueC int) int {
	t := b.g.Tensors[in]
	p := ref.Conv2D{N: t.N, H: t.H, W: t.W, C: t.C, K: k, R: r, S: r, Stride: stride, Pad: pad}
	if trueC < t.C {
		p.UsedC = trueC // the stem's padded input channels hold zeros
	}
	w := b.param(name+".weight", convWeight, []int{r, r, t.C, k}, false)
	pr := &b.g.Params[w]
	pr.fanIn, pr.fanOut, pr.trueC = trueC*r*r, k*r*r, trueC
	out := b.tensor(name, t.N, p.P(), p.Q(), k)
	b.g.Layers = append(b.g.Layers, Layer{Kind: Conv, Name: name, In: in, Out: out, Conv: p, W: w, B: -1})
	return out
}

// bn adds a batchnorm (optionally with ReLU) over tensor in, with torchvision's names under prefix.
func (b *builder) bn(prefix string, in int, relu bool) int {
	t := b.g.Tensors[in]
	g := b.g
	gamma := b.param(prefix+".weight", bnWeight, []int{t.C}, true)
	beta := b.param(prefix+".bias", bnBias, []int{t.C}, true)
	g.Stats = append(g.Stats, Stat{Prefix: prefix, C: t.C, MeanOff: g.NState, VarOff: g.NState + align(t.C)})
	g.NState += 2 * align(t.C)
	out := b.tensor(prefix, t.N, t.H, t.W, t.C)
	mean := b.tensor(prefix+".mean", 1, 1, 1, t.C)
	istd := b.tensor(prefix+".istd", 1, 1, 1, t.C)
	g.Layers = append(g.Layers, Layer{Kind: BN, Name: prefix, In: in, Out: out, BN: ref.NewBatchNorm(t.N*t.H*t.W, t.C),
		ReLU: relu, W: gamma, B: beta, Stat: len(g.Stats) - 1, Mean: mean, Istd: istd})
	return out
}

func (b *builder) linear(name string, in, o int, bias bool) int {
	t := b.g.Tensors[in]
	w := b.param(name+".weight", linWeight, []int{t.C, o}, false)
	b.g.Params[w].fanIn, b.g.Params[w].fanOut = t.C, o
	bi := -1
	if bias {
		bi = b.param(name+".bias", linBias, []int{o}, true)
		b.g.Params[bi].fanIn = t.C
	}
	out := b.tensor(name, t.N, 1, 1, o)
	b.g.Layers = append(b.g.Layers, Layer{Kind: Linear, Name: name, In: in, Out: out, Lin: ref.Linear{N: t.N, I: t.C, O: o}, W: w, B: bi})
	return out
}

// Build lays out the parameters and the layers of cfg for batch images.
func Build(cfg Config, batch int) (*Graph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if batch < 2 {
		return nil, fmt.Errorf("batch of %d: batchnorm in training needs at least 2 images", batch)
	}
	g := &Graph{Cfg: cfg, Batch: batch}
	b := &builder{g: g}
	spec := archs[cfg.Arch]
	S := cfg.ImageSize
	g.Input = b.tensor("input", batch, S, S, cfg.DeviceInChannels())
	var x int
	if cfg.Stem == "cifar" {
		x = b.conv("conv1", g.Input, cfg.Width, 3, 1, 1, cfg.InChannels)
		x = b.bn("bn1", x, true)
	} else {
		x = b.conv("conv1", g.Input, cfg.Width, 7, 2, 3, cfg.InChannels)
		x = b.bn("bn1", x, true)
		t := g.Tensors[x]
		p := ref.MaxPool{N: t.N, H: t.H, W: t.W, C: t.C, R: 3, S: 3, Stride: 2, Pad: 1}
		out := b.tensor("maxpool", t.N, p.P(), p.Q(), t.C)
		g.Layers = append(g.Layers, Layer{Kind: MaxPool, Name: "maxpool", In: x, Out: out, Pool: p, W: -1, B: -1})
		x = out
	}
	expansion := 1
	if spec.bottleneck {
		expansion = 4
	}
	for stage := 0; stage < 4; stage++ {
		planes := cfg.Width << stage
		for blk := 0; blk < spec.blocks[stage]; blk++ {
			stride := 1
			if stage > 0 && blk == 0 {
				stride = 2
			}
			pre := fmt.Sprintf("layer%d.%d", stage+1, blk)
			inC := g.Tensors[x].C
			shortcut := x
			if stride != 1 || inC != planes*expansion {
				d := b.conv(pre+".downsample.0", x, planes*expansion, 1, stride, 0, inC)
				shortcut = b.bn(pre+".downsample.1", d, false)
			}
			var y int
			if spec.bottleneck {
				y = b.bn(pre+".bn1", b.conv(pre+".conv1", x, planes, 1, 1, 0, inC), true)
				y = b.bn(pre+".bn2", b.conv(pre+".conv2", y, planes, 3, stride, 1, planes), true)
				y = b.bn(pre+".bn3", b.conv(pre+".conv3", y, planes*4, 1, 1, 0, planes), false)
			} else {
				y = b.bn(pre+".bn1", b.conv(pre+".conv1", x, planes, 3, stride, 1, inC), true)
				y = b.bn(pre+".bn2", b.conv(pre+".conv2", y, planes, 3, 1, 1, planes), false)
			}
			t := g.Tensors[y]
			out := b.tensor(pre, t.N, t.H, t.W, t.C)
			g.Layers = append(g.Layers, Layer{Kind: AddReLU, Name: pre, In: y, In2: shortcut, Out: out, W: -1, B: -1})
			x = out
		}
	}
	t := g.Tensors[x]
	g.Features = b.tensor("features", t.N, 1, 1, t.C)
	g.Layers = append(g.Layers, Layer{Kind: GAP, Name: "avgpool", In: x, Out: g.Features, W: -1, B: -1})
	g.Output = g.Features
	if cfg.ProjHidden > 0 {
		h := b.linear("projector.0", g.Features, cfg.ProjHidden, !cfg.ProjBN)
		if cfg.ProjBN {
			h = b.bn("projector.1", h, true)
		} else {
			ht := g.Tensors[h]
			out := b.tensor("projector.1", ht.N, 1, 1, ht.C)
			g.Layers = append(g.Layers, Layer{Kind: ReLU, Name: "projector.1", In: h, Out: out, W: -1, B: -1})
			h = out
		}
		last := "projector.2"
		if cfg.ProjBN {
			last = "projector.3"
		}
		g.Output = b.linear(last, h, cfg.ProjDim, true)
	}
	return g, nil
}

// FusedResidual reports whether layer i is a batchnorm without ReLU whose only
// consumer is the AddReLU right after it (a residual block's last batchnorm):
// the device then runs the two as one pass, relu(bn(x) + shortcut) written
// straight to the AddReLU's output (ops.BNOpts.Residual), and the batchnorm's
// own output tensor is never stored (nor allocated). The backward is
// unchanged: AddReLU's reads only its output, batchnorm's without ReLU only its
// input.
func (g *Graph) FusedResidual(i int) bool {
	if i+1 >= len(g.Layers) {
		return false
	}
	l, next := g.Layers[i], g.Layers[i+1]
	if l.Kind != BN || l.ReLU || next.Kind != AddReLU || next.In != l.Out || next.In2 == l.Out {
		return false
	}
	for j, m := range g.Layers {
		if j != i+1 && (m.In == l.Out || (m.Kind == AddReLU && m.In2 == l.Out)) {
			return false
		}
	}
	return l.Out != g.Output && l.Out != g.Features
}

// unstored reports the tensors a device never writes: the outputs of fused
// residual batchnorms (FusedResidual).
func (g *Graph) unstored() []bool {
	u := make([]bool, len(g.Tensors))
	for i, l := range g.Layers {
		if g.FusedResidual(i) {
			u[l.Out] = true
		}
	}
	return u
}

// Segments is the optimizer's offset table over the parameter buffer.
func (g *Graph) Segments() []ref.Segment {
	s := make([]ref.Segment, len(g.Params))
	for i, p := range g.Params {
		s[i] = ref.Segment{Offset: p.Offset, Len: p.Len, Exclude: p.Exclude}
	}
	return s
}

// ParamCount is the number of trainable values as PyTorch counts them
// (without device padding), for the encoder and the head.
func (g *Graph) ParamCount() (encoder, head int) {
	for _, p := range g.Params {
		n := p.Len
		if p.kind == convWeight && p.trueC != p.Shape[2] {
			n = n / p.Shape[2] * p.trueC
		}
		if isHead(p.Name) {
			head += n
		} else {
			encoder += n
		}
	}
	return
}

func isHead(name string) bool { return len(name) > 10 && name[:10] == "projector." }

// Flops is the multiply-adds x 2 of one forward pass (convolutions and linear layers).
func (g *Graph) Flops() float64 {
	var f float64
	for _, l := range g.Layers {
		switch l.Kind {
		case Conv:
			p := l.Conv
			f += 2 * float64(p.N*p.P()*p.Q()) * float64(p.K*p.R*p.S*p.C)
		case Linear:
			f += 2 * float64(l.Lin.N*l.Lin.I*l.Lin.O)
		}
	}
	return f
}
