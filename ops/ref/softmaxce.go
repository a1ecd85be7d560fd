// Softmax cross-entropy with integer labels, the linear-probe loss, and top-k accuracy.
// B rows, classes logits per row.

package ref

import (
	"fmt"
	"math"
)

func checkSoftmaxCE[T Float](op string, B, classes int, logits []T, labels []int32) {
	checkPositive(op, "B, classes", B, classes)
	checkLen(op, "logits", logits, B*classes) // (B, classes)
	checkLen(op, "labels", labels, B)         // (B)
	for b, l := range labels {
		if l < 0 || int(l) >= classes {
			panic(fmt.Sprintf("ref.%s: labels[%d] = %d out of [0, %d)", op, b, l, classes))
		}
	}
}

// logSumExp returns log sum exp(row) with the max subtracted first.
func logSumExp[T Float](row []T) float64 {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = max(mx, float64(v))
	}
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(sum)
}

// SoftmaxCEForward returns the mean over B rows of -log softmax(logits)[label] and the number of rows whose
// argmax (first maximum on ties) is the label.
func SoftmaxCEForward[T Float](B, classes int, logits []T, labels []int32) (loss T, correct int) {
	checkSoftmaxCE("SoftmaxCEForward", B, classes, logits, labels)
	var total float64
	for b := 0; b < B; b++ {
		row := logits[b*classes : (b+1)*classes] // (classes)
		total += logSumExp(row) - float64(row[labels[b]])
	}
	return T(total / float64(B)), TopKCorrect(B, classes, logits, labels, 1)
}

// SoftmaxCEBackward computes dlogits = (softmax(logits) - onehot(label)) / B, the gradient of the mean loss.
// dlogits is overwritten and may alias logits.
func SoftmaxCEBackward[T Float](B, classes int, logits []T, labels []int32, dlogits []T) {
	checkSoftmaxCE("SoftmaxCEBackward", B, classes, logits, labels)
	checkLen("SoftmaxCEBackward", "dlogits", dlogits, B*classes) // (B, classes)
	for b := 0; b < B; b++ {
		row, drow := logits[b*classes:(b+1)*classes], dlogits[b*classes:(b+1)*classes]
		lse := logSumExp(row)
		for c, v := range row {
			g := math.Exp(float64(v) - lse)
			if c == int(labels[b]) {
				g -= 1
			}
			drow[c] = T(g / float64(B))
		}
	}
}

// TopKCorrect counts the rows whose label is among the k largest logits. Ties rank the lower class index
// first, so k = 1 agrees with a first-maximum argmax.
func TopKCorrect[T Float](B, classes int, logits []T, labels []int32, k int) int {
	checkSoftmaxCE("TopKCorrect", B, classes, logits, labels)
	checkPositive("TopKCorrect", "k", k)
	correct := 0
	for b := 0; b < B; b++ {
		row := logits[b*classes : (b+1)*classes] // (classes)
		l := int(labels[b])
		rank := 0 // logits ranked before the label's
		for c, v := range row {
			if v > row[l] || (v == row[l] && c < l) {
				rank++
			}
		}
		if rank < k {
			correct++
		}
	}
	return correct
}
