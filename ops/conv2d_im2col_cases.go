// Test rows and benchmarks of Conv2DBackwardWeightIm2col (conv2d_im2col.go), checked against the
// float64 grad weight of ops/ref.
package ops

import (
	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	registerCases(im2colCases)
	registerBench(im2colBench)
}

// im2colShapes: conv2dShapes' rows with C and K multiples of 4 (1x1 to 7x7 filters, strides 1 to 3,
// padding 0 to 3, images smaller than a tap, batch 1 to 8), then the shapes the path is chosen for:
// a stride-2 3x3 onto a 1x1 and a 2x2 map, 1x1 stride-1 (x is the matrix, no im2col) onto a 1x1 map,
// a 7x7/2 stem on 4 channels, and reductions long enough to split into chunks.
func im2colShapes() []ref.Conv2D {
	var out []ref.Conv2D
	for _, p := range conv2dShapes {
		if Im2colOK(p) {
			out = append(out, p)
		}
	}
	return append(out,
		ref.Conv2D{N: 3, H: 2, W: 2, C: 16, K: 20, R: 3, S: 3, Stride: 2, Pad: 1},
		ref.Conv2D{N: 2, H: 4, W: 3, C: 8, K: 12, R: 3, S: 3, Stride: 2, Pad: 1},
		ref.Conv2D{N: 5, H: 1, W: 1, C: 24, K: 8, R: 1, S: 1, Stride: 1, Pad: 0},
		ref.Conv2D{N: 3, H: 14, W: 13, C: 4, K: 16, R: 7, S: 7, Stride: 2, Pad: 3},
		ref.Conv2D{N: 9, H: 12, W: 12, C: 8, K: 8, R: 3, S: 3, Stride: 2, Pad: 1},
		ref.Conv2D{N: 4, H: 20, W: 20, C: 4, K: 4, R: 1, S: 1, Stride: 1, Pad: 0},
		// Stems of a 1-, 3- and 2-channel image padded to 4 (UsedC: im2col's _u variant and
		// colsum_expand), the last with 2 chunks.
		ref.Conv2D{N: 3, H: 14, W: 13, C: 4, K: 16, R: 7, S: 7, Stride: 2, Pad: 3, UsedC: 1},
		ref.Conv2D{N: 2, H: 9, W: 9, C: 4, K: 8, R: 3, S: 3, Stride: 2, Pad: 1, UsedC: 3},
		ref.Conv2D{N: 9, H: 12, W: 12, C: 4, K: 12, R: 3, S: 3, Stride: 1, Pad: 1, UsedC: 2},
	)
}

func im2colCases() []Case {
	var cs []Case
	for i, p := range im2colShapes() {
		x, _, dy, _, nw, _ := convData(p, int64(9000+10*i))
		// The most any device's plan takes: every image's cols, a chunk per 256 rows.
		rows := p.N * p.P() * p.Q()
		scratch := rows*p.R*p.S*p.C + (rows/256+1)*nw
		// dw starts as NaN (the harness fills outputs): an element the GEMM leaves unwritten fails.
		cs = append(cs, Case{
			Op: "conv2d_im2col_bwd_weight", Name: convName(p), Tol: sumTol(p.N*p.P()*p.Q(), 1),
			Bufs: []Buf{In("x", x), In("dy", dy), Out("dw", nw), {Name: "scratch", N: scratch}},
			GPU: func(k *Kernels, s *vk.Seq, b []vk.Binding) {
				need("conv2d_im2col_bwd_weight", "scratch", b[3], k.Conv2DIm2colScratch(p))
				k.Conv2DBackwardWeightIm2col(s, p, b[0], b[1], b[2], b[3])
			},
			Ref: func(b [][]float32, _ [][]int32) { ref.Conv2DBackwardWeight(p, b[0], b[1], b[2]) },
		})
	}
	return cs
}

// im2colBench: conv2dBench's grad-weight rows with C and K multiples of 4 through the im2col GEMM,
// under the same op name so `vkclr bench ops --op conv2d_bwd_weight` lists both, plus the CIFAR
// ResNet-18's other two stride-2 convolutions and the demo preset's shapes the path is chosen for (width 64, batch 2x128, 28 px, ImageNet stem): its stride-2
// convolutions onto 4x4, 2x2 and 1x1 maps, its 1x1 downsamples, and its 1x1-map layer4 convolution
// (the centre tap: a 1x1 convolution, x as the matrix).
func im2colBench() []BenchCase {
	demo := []BenchCase{
		convBench("bwd_weight", ref.Conv2D{N: 256, H: 16, W: 16, C: 128, K: 256, R: 3, S: 3, Stride: 2, Pad: 1}, "layer3 in"),
		convBench("bwd_weight", ref.Conv2D{N: 256, H: 8, W: 8, C: 256, K: 512, R: 3, S: 3, Stride: 2, Pad: 1}, "layer4 in"),
		convBench("bwd_weight", ref.Conv2D{N: 256, H: 7, W: 7, C: 64, K: 128, R: 3, S: 3, Stride: 2, Pad: 1}, "demo layer2 in"),
		convBench("bwd_weight", ref.Conv2D{N: 256, H: 4, W: 4, C: 128, K: 256, R: 3, S: 3, Stride: 2, Pad: 1}, "demo layer3 in"),
		convBench("bwd_weight", ref.Conv2D{N: 256, H: 2, W: 2, C: 256, K: 512, R: 3, S: 3, Stride: 2, Pad: 1}, "demo layer4 in"),
		convBench("bwd_weight", ref.Conv2D{N: 256, H: 2, W: 2, C: 256, K: 512, R: 1, S: 1, Stride: 2, Pad: 0}, "demo layer4 downsample"),
		convBench("bwd_weight", ref.Conv2D{N: 256, H: 1, W: 1, C: 512, K: 512, R: 1, S: 1, Stride: 1, Pad: 0}, "demo layer4 centre tap"),
	}
	out := demo
	// Width 16's stem and 16-channel layer1 (their direct rows are winogradBench's).
	w16 := []BenchCase{
		convBench("bwd_weight", ref.Conv2D{N: 512, H: 32, W: 32, C: 4, K: 16, R: 3, S: 3, Stride: 1, Pad: 1}, "w16 stem"),
		convBench("bwd_weight", ref.Conv2D{N: 512, H: 32, W: 32, C: 16, K: 16, R: 3, S: 3, Stride: 1, Pad: 1}, "w16 layer1"),
	}
	for _, d := range append(append(conv2dBench(), demo...), w16...) {
		p, ok := benchConvShape(d.Shape)
		if d.Op != "conv2d_bwd_weight" || !ok || !Im2colOK(p) {
			continue
		}
		out = append(out, BenchCase{
			Op: d.Op, Shape: d.Shape + " im2col", Flops: d.Flops,
			Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
				b, free, err := newBuffers(k, p.N*p.H*p.W*p.C, p.R*p.S*p.C*p.K, p.N*p.P()*p.Q()*p.K, k.Conv2DIm2colScratch(p))
				if err != nil {
					return nil, nil, err
				}
				x, dw, dy, sc := b[0].All(), b[1].All(), b[2].All(), b[3].All()
				return func(s *vk.Seq) { k.Conv2DBackwardWeightIm2col(s, p, x, dy, dw, sc) }, free, nil
			},
		})
	}
	return out
}
