// Counter-based random numbers: every view's parameters come from a generator
// keyed by (seed, epoch, index, view) alone, so any view can be recomputed
// without replaying a stream, in any order, by any worker.
package augment

import "math/bits"

const golden = 0x9e3779b97f4a7c15

// mix64 is splitmix64's finalizer, a bijection with good avalanche.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// rng is a splitmix64 generator.
type rng struct{ s uint64 }

// newRNG keys a generator by the four coordinates; each is folded in with
// its own odd multiplier so swapping two of them gives another stream.
func newRNG(seed uint64, epoch, index, view int) rng {
	h := mix64(seed + golden)
	h = mix64(h ^ (uint64(epoch)+1)*0xd1b54a32d192ed03)
	h = mix64(h ^ (uint64(index)+1)*0xaef17502108ef2d9)
	h = mix64(h ^ (uint64(view)+1)*0xf58147d4a2ff4c31)
	return rng{h}
}

func (r *rng) next() uint64 {
	r.s += golden
	return mix64(r.s)
}

// float64 returns a uniform value in [0, 1) with 53 random bits.
func (r *rng) float64() float64 { return float64(r.next()>>11) * (1.0 / (1 << 53)) }

// uniform returns a uniform value in [a, b).
func (r *rng) uniform(a, b float64) float64 { return a + (b-a)*r.float64() }

// intn returns a uniform integer in [0, n) (Lemire's multiply-high; the bias
// is below 2^-50 for the small n used here).
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// Permutation returns the order in which an epoch visits n images: a
// Fisher-Yates shuffle keyed by (seed, epoch) alone.
func Permutation(seed uint64, epoch, n int) []int {
	r := newRNG(seed, epoch, -1, -1)
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
