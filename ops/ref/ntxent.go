// NT-Xent, the SimCLR contrastive loss, over the 2N projections of N images in two views.
// N images, D features; z is (2N, D) with the views of image i at rows i and i+N.

package ref

import (
	"fmt"
	"math"
)

// NTXent describes the loss over 2N rows of D features at a temperature.
type NTXent struct {
	N, D        int
	Temperature float64
}

func (p NTXent) check(op string) {
	checkPositive(op, "N, D", p.N, p.D)
	if !(p.Temperature > 0) {
		panic(fmt.Sprintf("ref.%s: Temperature must be positive, got %v", op, p.Temperature))
	}
}

// pos is the row holding the other view of row i.
func (p NTXent) pos(i int) int { return (i + p.N) % (2 * p.N) }

// ntxentRow fills s[j] = z_i.z_j / t for every row j, with s[i] = -inf for the excluded diagonal, and
// returns logsumexp over j != i, computed with the running-max trick.
func ntxentRow[T Float](p NTXent, z []T, i int, s []float64) float64 {
	zi := z[i*p.D : (i+1)*p.D] // (D)
	mx := math.Inf(-1)
	for j := range s {
		if j == i {
			s[j] = math.Inf(-1)
			continue
		}
		var dot float64
		for k, v := range z[j*p.D : (j+1)*p.D] {
			dot += float64(zi[k]) * float64(v)
		}
		s[j] = dot / p.Temperature
		mx = max(mx, s[j])
	}
	var sum float64
	for j, v := range s {
		if j != i {
			sum += math.Exp(v - mx)
		}
	}
	return mx + math.Log(sum)
}

// NTXentForward returns the mean over the 2N rows of loss_i = -s_{i,pos(i)} + logsumexp_{j != i} s_ij, with
// s_ij = z_i.z_j / t, and the contrastive top-1 accuracy: the fraction of rows whose argmax_{j != i} s_ij
// (first maximum on ties) is pos(i). z is used as given; normalize it first with L2NormalizeForward.
func NTXentForward[T Float](p NTXent, z []T) (loss, acc T) {
	p.check("NTXentForward")
	rows := 2 * p.N
	checkLen("NTXentForward", "z", z, rows*p.D) // (2N, D)
	s := make([]float64, rows)                  // (2N) one row of similarities
	var total float64
	correct := 0
	for i := 0; i < rows; i++ {
		lse := ntxentRow(p, z, i, s)
		total += lse - s[p.pos(i)]
		best := -1
		for j, v := range s {
			if j != i && (best < 0 || v > s[best]) {
				best = j
			}
		}
		if best == p.pos(i) {
			correct++
		}
	}
	return T(total / float64(rows)), T(float64(correct) / float64(rows))
}

// NTXentBackward computes dz, the gradient of the mean loss with respect to z:
// dz_i = (1/t) sum_{j != i} (g_ij + g_ji) z_j with g_ij = (p_ij - [j = pos(i)]) / (2N) and p_ij the softmax
// of row i over j != i. dz is overwritten.
func NTXentBackward[T Float](p NTXent, z, dz []T) {
	p.check("NTXentBackward")
	rows := 2 * p.N
	checkLen("NTXentBackward", "z", z, rows*p.D)   // (2N, D)
	checkLen("NTXentBackward", "dz", dz, rows*p.D) // (2N, D)
	s := make([]float64, rows)                     // (2N) one row of similarities
	lse := make([]float64, rows)                   // (2N) logsumexp of each row
	for i := range lse {
		lse[i] = ntxentRow(p, z, i, s)
	}
	acc := make([]float64, p.D) // (D)
	for i := 0; i < rows; i++ {
		ntxentRow(p, z, i, s)
		clear(acc)
		for j, sij := range s {
			if j == i {
				continue
			}
			// s is symmetric, so p_ji = exp(s_ij - lse_j); pos is an involution, so both indicators agree.
			g := math.Exp(sij-lse[i]) + math.Exp(sij-lse[j])
			if j == p.pos(i) {
				g -= 2
			}
			g /= float64(rows)
			for k, v := range z[j*p.D : (j+1)*p.D] {
				acc[k] += g * float64(v)
			}
		}
		for k, v := range acc {
			dz[i*p.D+k] = T(v / p.Temperature)
		}
	}
}
