// Sample charts for a person to look at: PLOT_VIEW_DIR=/tmp/x go test -run ViewDump

package plot

import (
	"os"
	"testing"
)

// TestViewDump writes a loss chart with gaps and a CIFAR-10 confusion matrix
// to $PLOT_VIEW_DIR; it is skipped when that is unset.
func TestViewDump(t *testing.T) {
	dir := os.Getenv("PLOT_VIEW_DIR")
	if dir == "" {
		t.Skip()
	}
	val := lossCurve(100)
	val.Name = "val loss"
	for i := range val.Y {
		val.Y[i] += 0.3
		if i >= 40 && i < 50 {
			val.Y[i] = nan
		}
	}
	val.Y[61] = nan
	if err := LinePlot(dir+"/loss.png", "SimCLR loss", "step", "loss", lossCurve(100), val); err != nil {
		t.Fatal(err)
	}
	cifar := []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
	counts := make([][]int, 10)
	for i := range counts {
		counts[i] = make([]int, 10)
		for j := range counts[i] {
			counts[i][j] = (i*7 + j*3) % 11
		}
		counts[i][i] = 700 + 20*i
	}
	counts[3][5] = 300
	if err := ConfusionMatrixPNG(dir+"/cm.png", cifar, counts); err != nil {
		t.Fatal(err)
	}
}
