// BatchNorm over (M, C) rows: BN2d on NHWC activations (M = N*H*W) and BN1d on (N, C) features.
// M rows, C channels.

package ref

import (
	"fmt"
	"math"
)

// BatchNorm describes a batch normalization over the M rows of each of C channels.
type BatchNorm struct {
	M, C     int
	Eps      float64 // added to the variance; PyTorch default 1e-5
	Momentum float64 // running-stat update weight; PyTorch default 0.1
}

// NewBatchNorm returns a BatchNorm with PyTorch's defaults, eps 1e-5 and momentum 0.1.
func NewBatchNorm(M, C int) BatchNorm { return BatchNorm{M: M, C: C, Eps: 1e-5, Momentum: 0.1} }

func (p BatchNorm) check(op string) {
	checkPositive(op, "M, C", p.M, p.C)
	if !(p.Eps > 0) {
		panic(fmt.Sprintf("ref.%s: Eps must be positive, got %v", op, p.Eps))
	}
}

// BatchNormForwardTrain normalizes x with the batch statistics of each channel:
// mean, biased var, istd = 1/sqrt(var+eps), y = gamma*(x-mean)*istd + beta. It saves mean and istd for
// BatchNormBackward and, when runMean and runVar are not nil, updates them like PyTorch:
// running = (1-momentum)*running + momentum*stat with the unbiased variance var*M/(M-1).
// The caller keeps num_batches_tracked. M must be at least 2 (PyTorch refuses one value per channel).
// The variance is two-pass in float64.
func BatchNormForwardTrain[T Float](p BatchNorm, x, gamma, beta, y, mean, istd, runMean, runVar []T) {
	const op = "BatchNormForwardTrain"
	p.check(op)
	if p.M < 2 {
		panic(fmt.Sprintf("ref.%s: expected more than 1 value per channel, got M = %d", op, p.M))
	}
	checkLen(op, "x", x, p.M*p.C)     // (M, C)
	checkLen(op, "gamma", gamma, p.C) // (C)
	checkLen(op, "beta", beta, p.C)   // (C)
	checkLen(op, "y", y, p.M*p.C)     // (M, C)
	checkLen(op, "mean", mean, p.C)   // (C)
	checkLen(op, "istd", istd, p.C)   // (C)
	if runMean != nil || runVar != nil {
		checkLen(op, "runMean", runMean, p.C) // (C)
		checkLen(op, "runVar", runVar, p.C)   // (C)
	}
	mu := make([]float64, p.C) // (C)
	vr := make([]float64, p.C) // (C)
	for m := 0; m < p.M; m++ {
		for c, v := range x[m*p.C : (m+1)*p.C] {
			mu[c] += float64(v)
		}
	}
	for c := range mu {
		mu[c] /= float64(p.M)
	}
	for m := 0; m < p.M; m++ {
		for c, v := range x[m*p.C : (m+1)*p.C] {
			d := float64(v) - mu[c]
			vr[c] += d * d
		}
	}
	is := make([]float64, p.C) // (C)
	for c := range vr {
		vr[c] /= float64(p.M)
		is[c] = 1 / math.Sqrt(vr[c]+p.Eps)
		mean[c] = T(mu[c])
		istd[c] = T(is[c])
		if runMean != nil {
			unbiased := vr[c] * float64(p.M) / float64(p.M-1)
			runMean[c] = T((1-p.Momentum)*float64(runMean[c]) + p.Momentum*mu[c])
			runVar[c] = T((1-p.Momentum)*float64(runVar[c]) + p.Momentum*unbiased)
		}
	}
	for m := 0; m < p.M; m++ {
		xrow, yrow := x[m*p.C:(m+1)*p.C], y[m*p.C:(m+1)*p.C]
		for c, v := range xrow {
			yrow[c] = T(float64(gamma[c])*(float64(v)-mu[c])*is[c] + float64(beta[c]))
		}
	}
}

// BatchNormForwardEval normalizes x with the running statistics: y = gamma*(x-runMean)/sqrt(runVar+eps) + beta.
// Use it for the frozen encoder of the linear probe and for evaluation.
func BatchNormForwardEval[T Float](p BatchNorm, x, gamma, beta, runMean, runVar, y []T) {
	const op = "BatchNormForwardEval"
	p.check(op)
	checkLen(op, "x", x, p.M*p.C)         // (M, C)
	checkLen(op, "gamma", gamma, p.C)     // (C)
	checkLen(op, "beta", beta, p.C)       // (C)
	checkLen(op, "runMean", runMean, p.C) // (C)
	checkLen(op, "runVar", runVar, p.C)   // (C)
	checkLen(op, "y", y, p.M*p.C)         // (M, C)
	scale := make([]float64, p.C)         // (C) gamma/sqrt(var+eps)
	for c := range scale {
		scale[c] = float64(gamma[c]) / math.Sqrt(float64(runVar[c])+p.Eps)
	}
	for m := 0; m < p.M; m++ {
		xrow, yrow := x[m*p.C:(m+1)*p.C], y[m*p.C:(m+1)*p.C]
		for c, v := range xrow {
			yrow[c] = T((float64(v)-float64(runMean[c]))*scale[c] + float64(beta[c]))
		}
	}
}

// BatchNormBackward computes the training-mode gradients from the mean and istd saved by
// BatchNormForwardTrain: with xhat = (x-mean)*istd, dgamma = sum dy*xhat, dbeta = sum dy and
// dx = gamma*istd/M * (M*dy - dbeta - xhat*dgamma). dx, dgamma and dbeta are overwritten.
func BatchNormBackward[T Float](p BatchNorm, x, dy, gamma, mean, istd, dx, dgamma, dbeta []T) {
	const op = "BatchNormBackward"
	p.check(op)
	checkLen(op, "x", x, p.M*p.C)       // (M, C)
	checkLen(op, "dy", dy, p.M*p.C)     // (M, C)
	checkLen(op, "gamma", gamma, p.C)   // (C)
	checkLen(op, "mean", mean, p.C)     // (C)
	checkLen(op, "istd", istd, p.C)     // (C)
	checkLen(op, "dx", dx, p.M*p.C)     // (M, C)
	checkLen(op, "dgamma", dgamma, p.C) // (C)
	checkLen(op, "dbeta", dbeta, p.C)   // (C)
	dg := make([]float64, p.C)          // (C)
	db := make([]float64, p.C)          // (C)
	for m := 0; m < p.M; m++ {
		xrow, dyrow := x[m*p.C:(m+1)*p.C], dy[m*p.C:(m+1)*p.C]
		for c, v := range xrow {
			xhat := (float64(v) - float64(mean[c])) * float64(istd[c])
			dg[c] += float64(dyrow[c]) * xhat
			db[c] += float64(dyrow[c])
		}
	}
	fm := float64(p.M)
	for m := 0; m < p.M; m++ {
		xrow, dyrow, dxrow := x[m*p.C:(m+1)*p.C], dy[m*p.C:(m+1)*p.C], dx[m*p.C:(m+1)*p.C]
		for c, v := range xrow {
			is := float64(istd[c])
			xhat := (float64(v) - float64(mean[c])) * is
			dxrow[c] = T(float64(gamma[c]) * is / fm * (fm*float64(dyrow[c]) - db[c] - xhat*dg[c]))
		}
	}
	for c := range dg {
		dgamma[c] = T(dg[c])
		dbeta[c] = T(db[c])
	}
}
