// L2 normalization of rows, the last step of the projection head before NT-Xent.
// rows, dim: the input is (rows, dim).

package ref

import "math"

// L2NormEps is the lower bound on the norm, as in PyTorch's F.normalize.
const L2NormEps = 1e-12

// L2NormalizeForward computes z = h / max(||h||, eps) per row and saves that denominator in norms for
// L2NormalizeBackward. z may alias h.
func L2NormalizeForward[T Float](rows, dim int, h, z, norms []T) {
	checkPositive("L2NormalizeForward", "rows, dim", rows, dim)
	checkLen("L2NormalizeForward", "h", h, rows*dim)     // (rows, dim)
	checkLen("L2NormalizeForward", "z", z, rows*dim)     // (rows, dim)
	checkLen("L2NormalizeForward", "norms", norms, rows) // (rows)
	for i := 0; i < rows; i++ {
		hrow, zrow := h[i*dim:(i+1)*dim], z[i*dim:(i+1)*dim]
		var ss float64
		for _, v := range hrow {
			ss += float64(v) * float64(v)
		}
		n := max(math.Sqrt(ss), L2NormEps)
		for k, v := range hrow {
			zrow[k] = T(float64(v) / n)
		}
		norms[i] = T(n)
	}
}

// L2NormalizeBackward computes dh = (dz - z*(z.dz)) / ||h|| from the forward's z and norms. Where the norm
// was clamped to eps the denominator is a constant and dh = dz / eps, like PyTorch. dh may alias dz.
func L2NormalizeBackward[T Float](rows, dim int, z, norms, dz, dh []T) {
	checkPositive("L2NormalizeBackward", "rows, dim", rows, dim)
	checkLen("L2NormalizeBackward", "z", z, rows*dim)     // (rows, dim)
	checkLen("L2NormalizeBackward", "norms", norms, rows) // (rows)
	checkLen("L2NormalizeBackward", "dz", dz, rows*dim)   // (rows, dim)
	checkLen("L2NormalizeBackward", "dh", dh, rows*dim)   // (rows, dim)
	eps := float64(T(L2NormEps))
	for i := 0; i < rows; i++ {
		zrow, dzrow, dhrow := z[i*dim:(i+1)*dim], dz[i*dim:(i+1)*dim], dh[i*dim:(i+1)*dim]
		n := float64(norms[i])
		var zdz float64
		if n > eps {
			for k, v := range zrow {
				zdz += float64(v) * float64(dzrow[k])
			}
		}
		for k, v := range zrow {
			dhrow[k] = T((float64(dzrow[k]) - float64(v)*zdz) / n)
		}
	}
}
