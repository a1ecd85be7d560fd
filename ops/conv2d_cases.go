// Test rows and benchmarks of Conv2DForward, Conv2DBackwardData and Conv2DBackwardWeight.
package ops

import (
	"fmt"
	"math"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	registerCases(conv2dCases)
	registerBench(conv2dBench)
}

func nan32() float32 { return float32(math.NaN()) }

// refAdd adds to dst what f writes into a buffer of dst's length: the reference of a kernel that
// accumulates into its output.
func refAdd(dst []float32, f func([]float32)) {
	t := make([]float32, len(dst))
	f(t)
	for i := range dst {
		dst[i] += t[i]
	}
}

func convName(p ref.Conv2D) string {
	name := fmt.Sprintf("N%d_%dx%d_C%d_K%d_%dx%d_s%d_p%d", p.N, p.H, p.W, p.C, p.K, p.R, p.S, p.Stride, p.Pad)
	if p.UsedC > 0 {
		name += fmt.Sprintf("_used%d", p.UsedC)
	}
	return name
}

// conv2dShapes: odd sizes on purpose. C and K multiples of 4 (the vec4 kernels) and not (the scalar
// ones), tiles of 8 with tails, batch 1 to 8, 1x1 to 7x7 kernels, strides 1 to 3, padding 0 to 3,
// images smaller than a tile, and grad-weight reductions long enough to be split into chunks and blocks.
var conv2dShapes = []ref.Conv2D{
	{N: 1, H: 5, W: 5, C: 4, K: 8, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 3, H: 7, W: 6, C: 3, K: 5, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 2, H: 9, W: 9, C: 8, K: 12, R: 3, S: 3, Stride: 2, Pad: 1},
	{N: 1, H: 8, W: 8, C: 16, K: 16, R: 1, S: 1, Stride: 2, Pad: 0},
	{N: 2, H: 7, W: 7, C: 8, K: 8, R: 1, S: 1, Stride: 1, Pad: 0},
	{N: 2, H: 11, W: 10, C: 4, K: 20, R: 7, S: 7, Stride: 2, Pad: 3},
	{N: 1, H: 6, W: 6, C: 12, K: 4, R: 3, S: 3, Stride: 1, Pad: 0},
	{N: 3, H: 5, W: 7, C: 5, K: 7, R: 3, S: 3, Stride: 2, Pad: 2},
	{N: 1, H: 4, W: 4, C: 64, K: 64, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 2, H: 16, W: 16, C: 16, K: 36, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 1, H: 1, W: 1, C: 4, K: 4, R: 1, S: 1, Stride: 1, Pad: 0},
	{N: 1, H: 1, W: 2, C: 4, K: 4, R: 3, S: 3, Stride: 2, Pad: 1},
	{N: 1, H: 9, W: 9, C: 4, K: 8, R: 5, S: 5, Stride: 2, Pad: 0},
	{N: 1, H: 6, W: 6, C: 6, K: 10, R: 2, S: 2, Stride: 2, Pad: 0},
	{N: 1, H: 10, W: 10, C: 4, K: 4, R: 3, S: 3, Stride: 3, Pad: 1},
	{N: 3, H: 8, W: 8, C: 20, K: 3, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 5, H: 29, W: 29, C: 4, K: 8, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 8, H: 24, W: 24, C: 3, K: 16, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 8, H: 16, W: 16, C: 64, K: 64, R: 3, S: 3, Stride: 1, Pad: 1}, // cpu grad weight: 2 blocks
	{N: 8, H: 24, W: 24, C: 32, K: 36, R: 3, S: 3, Stride: 1, Pad: 1}, // cpu grad weight: 2 chunks of 3 uneven blocks
	// Columns past the gpu variant's 128-wide block: K (forward, grad weight) and C (backward data).
	{N: 2, H: 6, W: 5, C: 6, K: 132, R: 3, S: 3, Stride: 1, Pad: 1},
	{N: 1, H: 5, W: 5, C: 136, K: 12, R: 3, S: 3, Stride: 2, Pad: 1},
	// Stems of a 1-, 3- and 2-channel image padded to 4 channels (UsedC): the cpu forward's c1 and c3
	// kernels skip the zero channels' products.
	{N: 2, H: 11, W: 10, C: 4, K: 20, R: 7, S: 7, Stride: 2, Pad: 3, UsedC: 1},
	{N: 3, H: 9, W: 9, C: 4, K: 8, R: 3, S: 3, Stride: 1, Pad: 1, UsedC: 3},
	{N: 1, H: 6, W: 7, C: 4, K: 36, R: 3, S: 3, Stride: 1, Pad: 1, UsedC: 2},
	{N: 2, H: 9, W: 8, C: 4, K: 40, R: 7, S: 7, Stride: 2, Pad: 3, UsedC: 1}, // three column tiles
	// CIFAR stems the cpu forward takes a pixel a lane (rowForward): two column blocks, a partial workgroup.
	{N: 3, H: 9, W: 7, C: 4, K: 32, R: 3, S: 3, Stride: 1, Pad: 1, UsedC: 3},
	{N: 1, H: 5, W: 6, C: 4, K: 16, R: 3, S: 3, Stride: 1, Pad: 1, UsedC: 2},
	// 16 and 32 input channels: a stride-2 3x3 with two column blocks (the tiles), and a 1x1
	// downsampling, which the cpu forward takes a pixel a lane (rowForward).
	{N: 3, H: 9, W: 7, C: 16, K: 32, R: 3, S: 3, Stride: 2, Pad: 1},
	{N: 2, H: 8, W: 6, C: 32, K: 16, R: 1, S: 1, Stride: 2, Pad: 0},
}

// convData is a case's seeded x, w and dy for p, and their lengths. With p.UsedC, x's channels from
// UsedC on are zero (a padded image) and w's are not, so a kernel that reads or skips the wrong
// channels fails.
func convData(p ref.Conv2D, seed int64) (x, w, dy []float32, nx, nw, ny int) {
	nx, nw, ny = p.N*p.H*p.W*p.C, p.R*p.S*p.C*p.K, p.N*p.P()*p.Q()*p.K
	x = Randn(nx, seed)
	if p.UsedC > 0 {
		for j := range x {
			if j%p.C >= p.UsedC {
				x[j] = 0
			}
		}
	}
	return x, Randn(nw, seed+1), Randn(ny, seed+2), nx, nw, ny
}

func conv2dCases() []Case {
	var cs []Case
	for i, p := range conv2dShapes {
		P, Q := p.P(), p.Q()
		x, w, dy, nx, nw, ny := convData(p, int64(2000+10*i))
		name := convName(p)
		// Partial sums: at most one chunk per output row (n, p), whatever the device chooses.
		maxScratch := p.N * P * nw
		cs = append(cs, Case{
			Op: "conv2d_fwd", Name: name, Tol: sumTol(p.R*p.S*p.C, 1),
			Bufs: []Buf{In("x", x), In("w", w), Out("y", ny)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.Conv2DForward(s, p, b[0], b[1], b[2]) },
			Ref:  func(b [][]float32, _ [][]int32) { ref.Conv2DForward(p, b[0], b[1], b[2]) },
		}, Case{
			Op: "conv2d_bwd_data", Name: name, Tol: sumTol(p.R*p.S*p.K, 1),
			Bufs: []Buf{In("dy", dy), In("w", w), Out("dx", nx)},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.Conv2DBackwardData(s, p, b[0], b[1], b[2]) },
			Ref:  func(b [][]float32, _ [][]int32) { ref.Conv2DBackwardData(p, b[0], b[1], b[2]) },
		}, Case{
			// dx holds a first contribution the kernel adds to.
			Op: "conv2d_bwd_data_add", Name: name, Tol: sumTol(p.R*p.S*p.K+1, 1),
			Bufs: []Buf{In("dy", dy), In("w", w), InOut("dx", Randn(nx, int64(2003+10*i)))},
			GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.Conv2DBackwardDataAdd(s, p, b[0], b[1], b[2]) },
			Ref: func(b [][]float32, _ [][]int32) {
				refAdd(b[2], func(dx []float32) { ref.Conv2DBackwardData(p, b[0], b[1], dx) })
			},
		}, Case{
			Op: "conv2d_bwd_weight", Name: name, Tol: sumTol(p.N*P*Q, 1),
			Bufs: []Buf{In("x", x), In("dy", dy), Out("dw", nw), {Name: "scratch", N: maxScratch}},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				scratch := b[3]
				if n := k.Conv2DWeightScratch(p); n == 0 {
					scratch = vk.Binding{}
				} else if n > maxScratch {
					panic(fmt.Sprintf("scratch of %d float32s exceeds the bound %d", n, maxScratch))
				}
				k.Conv2DBackwardWeight(s, p, b[0], b[1], b[2], scratch)
			},
			Ref: func(b [][]float32, _ [][]int32) { ref.Conv2DBackwardWeight(p, b[0], b[1], b[2]) },
		})
		// More than two column tiles: lavapipe takes the subgroup-shuffle forms (sharedConv), so
		// these rows run the plain kernels as well (Kernels.Plain).
		if max(p.C, p.K) > 32 {
			for _, c := range cs[len(cs)-4 : len(cs)-1] {
				c.Name += "_plain"
				c.GPU = plainForms(c.GPU)
				cs = append(cs, c)
			}
		}
	}
	// Tensors one float32 past an aligned offset: the cpu kernels fall back from vec4 to scalar texels.
	p := ref.Conv2D{N: 2, H: 6, W: 5, C: 8, K: 8, R: 3, S: 3, Stride: 1, Pad: 1}
	nx, nw, ny := p.N*p.H*p.W*p.C, p.R*p.S*p.C*p.K, p.N*p.P()*p.Q()*p.K
	x, w, dy := Randn(1+nx, 1), Randn(1+nw, 2), Randn(1+ny, 3)
	skip := func(b []vk.Binding) []vk.Binding {
		out := make([]vk.Binding, len(b))
		for i := range b {
			out[i] = shift(b[i], 1)
		}
		return out
	}
	cs = append(cs, Case{
		Op: "conv2d_fwd", Name: convName(p) + "_misaligned", Tol: sumTol(p.R*p.S*p.C, 1),
		Bufs: []Buf{In("x", x), In("w", w), Out("y", 1+ny)},
		GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
			b = skip(b)
			k.Conv2DForward(s, p, b[0], b[1], b[2])
		},
		Ref: func(b [][]float32, _ [][]int32) {
			b[2][0] = nan32()
			ref.Conv2DForward(p, b[0][1:], b[1][1:], b[2][1:])
		},
	}, Case{
		Op: "conv2d_bwd_data", Name: convName(p) + "_misaligned", Tol: sumTol(p.R*p.S*p.K, 1),
		Bufs: []Buf{In("dy", dy), In("w", w), Out("dx", 1+nx)},
		GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
			b = skip(b)
			k.Conv2DBackwardData(s, p, b[0], b[1], b[2])
		},
		Ref: func(b [][]float32, _ [][]int32) {
			b[2][0] = nan32()
			ref.Conv2DBackwardData(p, b[0][1:], b[1][1:], b[2][1:])
		},
	}, Case{
		Op: "conv2d_bwd_weight", Name: convName(p) + "_misaligned", Tol: sumTol(p.N*p.P()*p.Q(), 1),
		Bufs: []Buf{In("x", x), In("dy", dy), Out("dw", 1+nw), {Name: "scratch", N: 1 + p.N*p.P()*nw}},
		GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
			b = skip(b)
			if k.Conv2DWeightScratch(p) == 0 {
				b[3] = vk.Binding{}
			}
			k.Conv2DBackwardWeight(s, p, b[0], b[1], b[2], b[3])
		},
		Ref: func(b [][]float32, _ [][]int32) {
			b[2][0] = nan32()
			ref.Conv2DBackwardWeight(p, b[0][1:], b[1][1:], b[2][1:])
		},
	})
	return cs
}

// convBench is one direction of a conv at one shape; flops count 2 per multiply-add of the direct
// convolution (taps in the padding included, as cuDNN and PyTorch count them).
func convBench(dir string, p ref.Conv2D, label string) BenchCase {
	P, Q := p.P(), p.Q()
	nx, nw, ny := p.N*p.H*p.W*p.C, p.R*p.S*p.C*p.K, p.N*P*Q*p.K
	shape := fmt.Sprintf("N%d %dx%d %d->%d %dx%d/%d", p.N, p.H, p.W, p.C, p.K, p.R, p.S, p.Stride)
	if label != "" {
		shape += " (" + label + ")"
	}
	return BenchCase{
		Op: "conv2d_" + dir, Shape: shape, Flops: 2 * float64(ny) * float64(p.R*p.S*p.C),
		Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
			sizes := []int{nx, nw, ny}
			if dir == "bwd_weight" {
				sizes = append(sizes, k.Conv2DWeightScratch(p))
			}
			b, free, err := newBuffers(k, sizes...)
			if err != nil {
				return nil, nil, err
			}
			x, w, y := b[0].All(), b[1].All(), b[2].All()
			switch dir {
			case "fwd":
				return func(s *vk.Seq) { k.Conv2DForward(s, p, x, w, y) }, free, nil
			case "bwd_data":
				return func(s *vk.Seq) { k.Conv2DBackwardData(s, p, y, w, x) }, free, nil
			}
			scratch := vk.Binding{}
			if sizes[3] > 0 {
				scratch = b[3].All()
			}
			return func(s *vk.Seq) { k.Conv2DBackwardWeight(s, p, x, y, w, scratch) }, free, nil
		},
	}
}

// conv2dBench: the done-when shape (64->64 3x3 at 32x32, batch 64), then the convolutions of a CIFAR
// ResNet-18 at batch 256, and the demo preset's ImageNet stem (7x7 stride 2 on 28x28 grayscale, whose
// one channel is padded to four, batch 2x128).
func conv2dBench() []BenchCase {
	c := func(n, hw, cin, cout, r, st int) ref.Conv2D {
		return ref.Conv2D{N: n, H: hw, W: hw, C: cin, K: cout, R: r, S: r, Stride: st, Pad: r / 2}
	}
	shapes := []struct {
		p     ref.Conv2D
		label string
	}{
		{c(64, 32, 64, 64, 3, 1), ""},
		{c(256, 32, 4, 64, 3, 1), "stem"},
		{c(256, 32, 64, 64, 3, 1), "layer1"},
		{c(256, 32, 64, 128, 3, 2), "layer2 in"},
		{c(256, 32, 64, 128, 1, 2), "layer2 downsample"},
		{c(256, 16, 128, 128, 3, 1), "layer2"},
		{c(256, 8, 256, 256, 3, 1), "layer3"},
		{c(256, 4, 512, 512, 3, 1), "layer4"},
		{c(256, 28, 4, 64, 7, 2), "demo stem"},
	}
	var out []BenchCase
	for _, dir := range []string{"fwd", "bwd_data", "bwd_weight"} {
		for _, s := range shapes {
			out = append(out, convBench(dir, s.p, s.label))
		}
	}
	return out
}
