package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestParamCounts(t *testing.T) {
	for _, tc := range []struct {
		arch, stem string
		want       int
	}{
		// torchvision's counts without fc: resnet18 11,176,512 with the 7x7 stem;
		// the CIFAR stem swaps 9,408 stem weights for 1,728.
		{"resnet18", "cifar", 11168832},
		{"resnet18", "imagenet", 11176512},
		{"resnet34", "imagenet", 21284672},
		{"resnet50", "imagenet", 23508032},
	} {
		cfg := DefaultConfig()
		cfg.Arch, cfg.Stem, cfg.ProjHidden, cfg.ProjDim = tc.arch, tc.stem, 0, 0
		g, err := Build(cfg, 2)
		if err != nil {
			t.Fatal(err)
		}
		if enc, _ := g.ParamCount(); enc != tc.want {
			t.Errorf("%s %s: %d parameters, want %d", tc.arch, tc.stem, enc, tc.want)
		}
	}
	g, _ := Build(DefaultConfig(), 2)
	if _, head := g.ParamCount(); head != 512*2048+2048+2048*128+128 {
		t.Errorf("head: %d parameters", head)
	}
}

func TestBuildRejectsBadConfigs(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.Arch = "resnet19" },
		func(c *Config) { c.Width = 0 },
		func(c *Config) { c.Stem = "tiny" },
		func(c *Config) { c.InChannels = 2 },
		func(c *Config) { c.ProjDim = 0 },
		func(c *Config) { c.ImageSize = 4 },
	} {
		c := DefaultConfig()
		mod(&c)
		if _, err := Build(c, 8); err == nil {
			t.Errorf("%+v built", c)
		}
	}
	if _, err := Build(DefaultConfig(), 1); err == nil {
		t.Error("batch 1 built")
	}
}

func tinyConfig(arch string) Config {
	return Config{Arch: arch, Width: 2, Stem: "cifar", InChannels: 3, ImageSize: 8, ProjHidden: 6, ProjDim: 5, ProjBN: arch == "resnet50"}
}

// TestCPUModelGradients checks the CPU model's backward by central
// differences on a tiny network, through the SimCLR loss.
func TestCPUModelGradients(t *testing.T) {
	for _, arch := range []string{"resnet18", "resnet50"} {
		t.Run(arch, func(t *testing.T) {
			g, err := Build(tinyConfig(arch), 4)
			if err != nil {
				t.Fatal(err)
			}
			m := NewCPU[float64](g)
			p32 := make([]float32, g.NParams)
			s32 := make([]float32, g.NState)
			g.Init(7, p32, s32)
			for i, v := range p32 {
				m.Params[i] = float64(v)
			}
			r := rand.New(rand.NewPCG(1, 2))
			x := make([]float64, g.Tensors[g.Input].Len())
			for i := range x {
				if i%4 != 3 { // the padding channel stays zero
					x[i] = r.NormFloat64()
				}
			}
			lossAt := func() float64 {
				out := m.Forward(x, true)
				l, _, _ := SimCLRLoss(out, 4, g.Cfg.ProjDim, 0.5)
				return l
			}
			out := m.Forward(x, true)
			_, _, dOut := SimCLRLoss(out, 4, g.Cfg.ProjDim, 0.5)
			m.Backward(dOut)
			analytic := append([]float64(nil), m.Grads...)
			checked := 0
			for _, p := range g.Params {
				// A few elements of every parameter tensor.
				for j := 0; j < 3; j++ {
					i := p.Offset + r.IntN(p.Len)
					if p.kind == convWeight && (i-p.Offset)/p.Shape[3]%p.Shape[2] >= p.trueC {
						continue // padding channel: its input is zero
					}
					const h = 1e-6
					old := m.Params[i]
					m.Params[i] = old + h
					up := lossAt()
					m.Params[i] = old - h
					down := lossAt()
					m.Params[i] = old
					num := (up - down) / (2 * h)
					// Tolerance: central differences are O(h^2) accurate, but a ReLU
					// kink inside [-h, h] can break one element; none did with this seed.
					if d := math.Abs(num - analytic[i]); d > 1e-6+1e-4*math.Abs(num) {
						t.Errorf("%s[%d]: analytic %.9g, numeric %.9g", p.Name, i-p.Offset, analytic[i], num)
					}
					checked++
				}
			}
			if checked < 3*len(g.Params)/2 {
				t.Fatalf("only %d elements checked", checked)
			}
		})
	}
}

func TestInitStatistics(t *testing.T) {
	g, _ := Build(DefaultConfig(), 2)
	p := make([]float32, g.NParams)
	s := make([]float32, g.NState)
	g.Init(1, p, s)
	for _, pr := range g.Params {
		v := p[pr.Offset : pr.Offset+pr.Len]
		switch pr.Name {
		case "layer1.0.conv1.weight": // Kaiming normal, fan_out = 64*9: std 0.0589
			var ss float64
			for _, x := range v {
				ss += float64(x) * float64(x)
			}
			if std := math.Sqrt(ss / float64(len(v))); math.Abs(std-math.Sqrt(2.0/576)) > 0.002 {
				t.Errorf("%s std %.4f", pr.Name, std)
			}
		case "bn1.weight":
			if v[0] != 1 || v[63] != 1 {
				t.Error("bn weight not 1")
			}
		case "conv1.weight": // (3, 3, 4, 64): padding channel 3 is zero
			for i := 0; i < 9; i++ {
				for k := 0; k < 64; k++ {
					if v[(i*4+3)*64+k] != 0 {
						t.Fatal("stem padding channel not zero")
					}
				}
			}
		}
	}
	st := g.Stats[0]
	if s[st.VarOff] != 1 || s[st.MeanOff] != 0 {
		t.Error("running stats not (0, 1)")
	}
}

// TestPlanGradsNoOverlap: no two gradients that are alive at the same time
// in the backward pass share a buffer, except an AddReLU's two inputs
// (SameAs), which every residual block's shortcut gets and whose buffer no
// layer writes before the first one's producer has read it; and every
// written gradient has one.
func TestPlanGradsNoOverlap(t *testing.T) {
	for _, arch := range []string{"resnet18", "resnet50"} {
		cfg := DefaultConfig()
		cfg.Arch, cfg.Width, cfg.ProjBN = arch, 8, arch == "resnet50"
		g, err := Build(cfg, 4)
		if err != nil {
			t.Fatal(err)
		}
		p := g.PlanGrads()
		birth, death := map[int]int{g.Output: -1}, map[int]int{}
		for step, i := 0, len(g.Layers)-1; i >= 0; step, i = step+1, i-1 {
			l := g.Layers[i]
			for _, x := range g.written(l) {
				if _, ok := birth[x]; !ok {
					birth[x] = step
				}
			}
			death[l.Out] = step
		}
		// writes[x]: the backward steps that add to x's gradient after its first contribution.
		writes := map[int][]int{}
		for step, i := 0, len(g.Layers)-1; i >= 0; step, i = step+1, i-1 {
			for _, x := range g.written(g.Layers[i]) {
				if birth[x] < step {
					writes[x] = append(writes[x], step)
				}
			}
		}
		shared := 0
		for a := range birth {
			if p.Slot[a] < 0 || p.Sizes[p.Slot[a]] < g.Tensors[a].Len() {
				t.Fatalf("%s: gradient of %s has no buffer large enough", arch, g.Tensors[a].Name)
			}
			if b := p.SameAs[a]; b >= 0 {
				shared++
				if p.Slot[a] != p.Slot[b] || birth[a] != birth[b] {
					t.Errorf("%s: %s shares %s's gradient but not its buffer or birth", arch, g.Tensors[a].Name, g.Tensors[b].Name)
				}
				for _, w := range append(writes[a], writes[b]...) {
					if w <= death[b] {
						t.Errorf("%s: the shared gradient of %s and %s is added to at step %d, before both are read", arch, g.Tensors[a].Name, g.Tensors[b].Name, w)
					}
				}
			}
			for b := range birth {
				if p.SameAs[a] == b || p.SameAs[b] == a {
					continue
				}
				if a < b && p.Slot[a] == p.Slot[b] && birth[a] <= death[b] && birth[b] <= death[a] {
					t.Errorf("%s: %s and %s share a buffer while both alive", arch, g.Tensors[a].Name, g.Tensors[b].Name)
				}
			}
		}
		blocks := 8
		if arch == "resnet50" {
			blocks = 16
		}
		if shared != blocks {
			t.Errorf("%s: %d shortcuts share their block's gradient buffer, want all %d", arch, shared, blocks)
		}
		all := 0
		for a := range birth {
			all += g.Tensors[a].Len()
		}
		if p.Floats() > all/4 {
			t.Errorf("%s: the plan holds %d floats, one buffer per gradient %d", arch, p.Floats(), all)
		}
	}
}

// TestPlanGradsSharesOnlyWhenSound: an AddReLU whose shortcut feeds a layer
// after the other input's producer (that layer's backward would add to the
// shared buffer before the producer reads it) gets two buffers.
func TestPlanGradsSharesOnlyWhenSound(t *testing.T) {
	conv := func(in, out int) Layer { return Layer{Kind: Conv, In: in, Out: out, W: -1, B: -1} }
	build := func(late bool) *Graph {
		g := &Graph{}
		for i := 0; i < 5; i++ {
			g.Tensors = append(g.Tensors, Tensor{N: 2, H: 2, W: 2, C: 4})
		}
		// 0 input -> 1 x; then y = conv(x) and z = conv(x) in either order; out = relu(y + x) + z.
		g.Layers = []Layer{conv(0, 1)}
		if late {
			g.Layers = append(g.Layers, conv(1, 2), conv(1, 3))
		} else {
			g.Layers = append(g.Layers, conv(1, 3), conv(1, 2))
		}
		g.Layers = append(g.Layers, Layer{Kind: AddReLU, In: 2, In2: 1, Out: 4, W: -1, B: -1})
		g.Input, g.Output = 0, 4
		return g
	}
	if p := build(false).PlanGrads(); p.SameAs[1] != 2 || p.Slot[1] != p.Slot[2] {
		t.Errorf("x's other consumer comes before y's producer: want x to share y's buffer, got SameAs %v slots %v", p.SameAs, p.Slot)
	}
	if p := build(true).PlanGrads(); p.SameAs[1] != -1 || p.Slot[1] == p.Slot[2] {
		t.Errorf("x's other consumer comes after y's producer: want two buffers, got SameAs %v slots %v", p.SameAs, p.Slot)
	}
}
