// Matmul and Linear: dense products, the projection head and the linear probe.
// M, N, K are GEMM sizes; for Linear N is the batch, I the input and O the output features.

package ref

// Matmul is C (M, N) (+)= op(A) (M, K) op(B) (K, N), all row-major.
// A is stored (M, K), or (K, M) when TransA; B is stored (K, N), or (N, K) when TransB.
type Matmul struct {
	M, N, K        int
	TransA, TransB bool
}

// MatmulForward computes C = op(A) op(B), or C += op(A) op(B) when accumulate is set.
// Each output is summed over k in ascending order in float64 and rounded once.
func MatmulForward[T Float](p Matmul, a, b, c []T, accumulate bool) {
	checkPositive("MatmulForward", "M, N, K", p.M, p.N, p.K)
	checkLen("MatmulForward", "a", a, p.M*p.K) // (M, K) or (K, M)
	checkLen("MatmulForward", "b", b, p.K*p.N) // (K, N) or (N, K)
	checkLen("MatmulForward", "c", c, p.M*p.N) // (M, N)
	// Element (i, k) of op(A) is a[i*ai+k*ak]; element (k, j) of op(B) is b[k*bk+j*bj].
	ai, ak := p.K, 1
	if p.TransA {
		ai, ak = 1, p.M
	}
	bk, bj := p.N, 1
	if p.TransB {
		bk, bj = 1, p.K
	}
	acc := make([]float64, p.N) // (N) one output row
	for i := 0; i < p.M; i++ {
		clear(acc)
		for k := 0; k < p.K; k++ {
			av := float64(a[i*ai+k*ak])
			brow := b[k*bk:]
			for j := range acc {
				acc[j] += av * float64(brow[j*bj])
			}
		}
		crow := c[i*p.N : (i+1)*p.N]
		for j, v := range acc {
			if accumulate {
				v += float64(crow[j])
			}
			crow[j] = T(v)
		}
	}
}

// Linear is a fully connected layer y (N, O) = x (N, I) w (I, O) + b (O).
type Linear struct{ N, I, O int }

// LinearForward computes y = x w + b; b may be nil for a layer without bias.
func LinearForward[T Float](p Linear, x, w, b, y []T) {
	checkPositive("LinearForward", "N, I, O", p.N, p.I, p.O)
	checkLen("LinearForward", "x", x, p.N*p.I) // (N, I)
	checkLen("LinearForward", "w", w, p.I*p.O) // (I, O)
	checkLen("LinearForward", "y", y, p.N*p.O) // (N, O)
	if b != nil {
		checkLen("LinearForward", "b", b, p.O) // (O)
		for n := 0; n < p.N; n++ {
			copy(y[n*p.O:(n+1)*p.O], b)
		}
	}
	MatmulForward(Matmul{M: p.N, N: p.O, K: p.I}, x, w, y, b != nil)
}

// LinearBackward computes dx = dy w^T, dw = x^T dy and db = sum over rows of dy.
// dw and db are overwritten, not accumulated; dx and db may be nil to skip them.
func LinearBackward[T Float](p Linear, x, w, dy, dx, dw, db []T) {
	checkPositive("LinearBackward", "N, I, O", p.N, p.I, p.O)
	checkLen("LinearBackward", "x", x, p.N*p.I)   // (N, I)
	checkLen("LinearBackward", "w", w, p.I*p.O)   // (I, O)
	checkLen("LinearBackward", "dy", dy, p.N*p.O) // (N, O)
	checkLen("LinearBackward", "dw", dw, p.I*p.O) // (I, O)
	if dx != nil {
		checkLen("LinearBackward", "dx", dx, p.N*p.I) // (N, I)
		MatmulForward(Matmul{M: p.N, N: p.I, K: p.O, TransB: true}, dy, w, dx, false)
	}
	MatmulForward(Matmul{M: p.I, N: p.O, K: p.N, TransA: true}, x, dy, dw, false)
	if db != nil {
		checkLen("LinearBackward", "db", db, p.O) // (O)
		acc := make([]float64, p.O)
		for n := 0; n < p.N; n++ {
			for o, v := range dy[n*p.O : (n+1)*p.O] {
				acc[o] += float64(v)
			}
		}
		for o, v := range acc {
			db[o] = T(v)
		}
	}
}

// LinearWeightToOI converts a linear weight from this package's (I, O) to PyTorch's (O, I).
func LinearWeightToOI[T Float](I, O int, io, oi []T) {
	checkLen("LinearWeightToOI", "io", io, I*O) // (I, O)
	checkLen("LinearWeightToOI", "oi", oi, I*O) // (O, I)
	for i := 0; i < I; i++ {
		for o := 0; o < O; o++ {
			oi[o*I+i] = io[i*O+o]
		}
	}
}

// LinearWeightFromOI converts a linear weight from PyTorch's (O, I) to this package's (I, O).
func LinearWeightFromOI[T Float](I, O int, oi, io []T) {
	checkLen("LinearWeightFromOI", "oi", oi, I*O) // (O, I)
	checkLen("LinearWeightFromOI", "io", io, I*O) // (I, O)
	for i := 0; i < I; i++ {
		for o := 0; o < O; o++ {
			io[i*O+o] = oi[o*I+i]
		}
	}
}
