package ops

import (
	"fmt"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	registerCases(peakCases)
	registerBench(peakBench)
}

func peakCases() []Case {
	// A device that fuses fma rounds once per round instead of twice: a contracting map (m = 0.75)
	// keeps that under a few ulps of the sum (about 160), whatever the round count.
	tol := Tol{Atol: 1e-4, Why: "a fused multiply-add rounds once where the reference rounds twice; the map contracts, so the difference stays a few ulps of a sum near 160"}
	var cs []Case
	for _, c := range []struct{ n, iters int }{{1, 0}, {1, 1}, {7, 3}, {5, 17}, {65, 100}, {300, 1000}} {
		for _, rolled := range []bool{false, true} {
			c, rolled := c, rolled
			name := fmt.Sprintf("n=%d_iters=%d", c.n, c.iters)
			if rolled {
				name += "_rolled"
			}
			cs = append(cs, Case{
				Op: "peak", Name: name, Tol: tol,
				Bufs: []Buf{Out("out", c.n)},
				GPU:  func(k *Kernels, s *vk.Seq, b []vk.Binding) { k.Peak(s, c.n, c.iters, 0.75, 2.5, rolled, b[0]) },
				Ref:  func(b [][]float32, _ [][]int32) { ref.Peak(c.iters, 0.75, 2.5, b[0]) },
			})
		}
	}
	return cs
}

// peakBench: enough invocations to fill every core, enough rounds that the loop dominates; then the
// same work one round a loop trip, which prices a trip.
func peakBench() []BenchCase {
	const n, iters = 1 << 16, 4096
	var out []BenchCase
	for _, rolled := range []bool{false, true} {
		rolled := rolled
		shape := fmt.Sprintf("%d invocations x %d rounds x 16 multiply-adds", n, iters)
		if rolled {
			shape += ", one round a trip"
		}
		out = append(out, BenchCase{
			Op: "peak", Shape: shape, Flops: PeakFlops(n, iters),
			Setup: func(k *Kernels) (func(*vk.Seq), func(), error) {
				b, free, err := newBuffers(k, n)
				if err != nil {
					return nil, nil, err
				}
				return func(s *vk.Seq) { k.Peak(s, n, iters, 0.75, 2.5, rolled, b[0].All()) }, free, nil
			},
		})
	}
	return out
}
