package ops

import (
	"math"
	"testing"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

// TestMaxPoolKeptBitIdentical: the kept pair gives MaxPool's y and MaxPoolBackward's dx bit for bit
// (the gather adds each element's dy in the scatter's phase order), with ties and overlapping
// windows, on both variants; a training step that takes it is the step that did not.
func TestMaxPoolKeptBitIdentical(t *testing.T) {
	for _, v := range []string{"cpu", "gpu"} {
		k := kernels(t, v)
		for _, p := range []ref.MaxPool{
			{N: 6, H: 14, W: 14, C: 64, R: 3, S: 3, Stride: 2, Pad: 1}, // the demo's stem
			{N: 3, H: 9, W: 7, C: 12, R: 3, S: 3, Stride: 2, Pad: 1},   // odd sides
		} {
			n, m := p.N*p.H*p.W*p.C, p.N*p.P()*p.Q()*p.C
			x, dy := Randn(n, 3), Randn(m, 4)
			for i := range x {
				x[i] = float32(math.Round(float64(x[i]) * 2)) // ties in most windows
			}
			b, free, err := newBuffers(k, n, m, m, m, m, n, n)
			if err != nil {
				t.Fatal(err)
			}
			xb, dyb, y0, y1, arg, dx0, dx1 := b[0].All(), b[1].All(), b[2].All(), b[3].All(), b[4].All(), b[5].All(), b[6].All()
			if err := k.Ctx.UploadF32(xb, x); err != nil {
				t.Fatal(err)
			}
			if err := k.Ctx.UploadF32(dyb, dy); err != nil {
				t.Fatal(err)
			}
			err = k.Ctx.Run(func(s *vk.Seq) {
				k.MaxPool(s, p, xb, y0)
				k.MaxPoolBackward(s, p, xb, dyb, dx0)
				k.MaxPoolKeep(s, p, xb, y1, arg)
				k.MaxPoolBackwardKept(s, p, xb, dyb, dx1, arg)
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, pair := range [][2]vk.Binding{{y0, y1}, {dx0, dx1}} {
				a, c := make([]float32, pair[0].Size/4), make([]float32, pair[0].Size/4)
				if err := k.Ctx.DownloadF32(a, pair[0]); err != nil {
					t.Fatal(err)
				}
				if err := k.Ctx.DownloadF32(c, pair[1]); err != nil {
					t.Fatal(err)
				}
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(c[i]) {
						t.Fatalf("%s %+v: element %d of %d: %v recomputed, %v kept", v, p, i, len(a), a[i], c[i])
					}
				}
			}
			free()
		}
	}
}
