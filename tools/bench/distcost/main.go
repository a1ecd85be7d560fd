// Command distcost prints what a data-parallel vkclr step moves between
// ranks (gradients, projections, batchnorm statistics) for ResNet-18 at
// given widths, and a model of the step time for ranks on several machines
// (BENCHMARKS.md, "Several GPUs").
//
//	go run ./tools/bench/distcost -widths 16,64 -batch 4096 -ranks 2,16 -step-ms 42.7 -step-images 128
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/vkclr/vkclr/model"
)

func ints(s string) []int {
	var v []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			fmt.Fprintln(os.Stderr, "distcost:", err)
			os.Exit(2)
		}
		v = append(v, n)
	}
	return v
}

func mb(b float64) string { return fmt.Sprintf("%.2f MB", b/1e6) }

// traffic is one rank's bytes per step with n ranks and b images per rank.
type traffic struct {
	grad, gradRing float64 // payload; sent (and received) by a ring all-reduce
	proj, projRecv float64 // this rank's projections; received by the all-gather
	bn, bnRecv     float64 // this rank's statistics (forward + backward); received
	bnRounds       int     // host round trips for batchnorm per step
}

func cost(g *model.Graph, n, b int) traffic {
	var t traffic
	t.grad = 4 * float64(g.NParams)
	t.gradRing = 2 * float64(n-1) / float64(n) * t.grad
	D := g.Tensors[g.Output].C
	t.proj = 4 * float64(2*b*D)
	t.projRecv = float64(n-1) * t.proj
	t.bn = float64(g.StatBytes())
	t.bnRecv = float64(n-1) * t.bn
	for _, l := range g.Layers {
		if l.Kind == model.BN {
			t.bnRounds += 2
		}
	}
	return t
}

func main() {
	widths := flag.String("widths", "16,64", "ResNet-18 base widths")
	batch := flag.Int("batch", 4096, "global batch (images; two views each)")
	ranks := flag.String("ranks", "2,16", "rank counts for the traffic table")
	stepMs := flag.Float64("step-ms", 0, "measured or assumed single-device step time (ms) at -step-images per step, width 64")
	stepImages := flag.Int("step-images", 128, "images (both views) of that step")
	gbits := flag.String("gbits", "10,100", "link speeds between the machines (Gbit/s)")
	perHost := flag.Int("per-host", 8, "GPUs per machine")
	hosts := flag.Int("hosts", 2, "machines")
	alphaUs := flag.Float64("latency-us", 30, "latency of one small collective step over the link (us)")
	syncUs := flag.Float64("sync-us", 50, "device round trip at a cut: submit, fence wait, host work (us)")
	pcie := flag.Float64("pcie-gbs", 12, "host <-> device copy bandwidth (GB/s)")
	flag.Parse()

	fmt.Printf("Per rank and step, global batch %d, CIFAR ResNet-18 (32x32, head 8W -> 2048 -> 128):\n\n", *batch)
	fmt.Println("| width | ranks | parameters | gradients (payload / ring all-reduce sends) | projections (own / received) | batchnorm statistics (own / received) | host round trips |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, w := range ints(*widths) {
		for _, n := range ints(*ranks) {
			cfg := model.DefaultConfig()
			cfg.Width = w
			b := *batch / n
			g, err := model.Build(cfg, 2*b)
			if err != nil {
				fmt.Fprintln(os.Stderr, "distcost:", err)
				os.Exit(1)
			}
			t := cost(g, n, b)
			enc, head := g.ParamCount()
			fmt.Printf("| %d | %d | %.2f M | %s / %s | %s / %s | %s / %s | %d |\n", w, n, float64(enc+head)/1e6,
				mb(t.grad), mb(t.gradRing), mb(t.proj), mb(t.projRecv), mb(t.bn), mb(t.bnRecv), t.bnRounds+2)
		}
	}
	if *stepMs <= 0 {
		return
	}
	n := *perHost * *hosts
	b := *batch / n
	fmt.Printf("\nModel: %d machines x %d GPUs, global batch %d (%d per GPU), width 64; compute %.1f ms per %d images, linear in the batch.\n\n",
		*hosts, *perHost, *batch, b, *stepMs, *stepImages)
	fmt.Println("| link | compute | gradients: copies + all-reduce | projections | batchnorm sync | step, no overlap | step, gradients overlapped | efficiency (overlapped) |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, gb := range ints(*gbits) {
		cfg := model.DefaultConfig()
		g, _ := model.Build(cfg, 2*b)
		t := cost(g, n, b)
		bw := float64(gb) * 1e9 / 8 // bytes/s over the link, each direction
		// A ring over two machines crosses the link twice (once each way):
		// every ring edge carries gradRing bytes, the link is the slowest edge.
		comp := *stepMs * float64(2*b) / float64(*stepImages)
		copies := 2 * t.grad / (*pcie * 1e9) * 1e3
		ring := t.gradRing / bw * 1e3
		// All-gather: every rank's projections cross the link once.
		proj := float64(n/2)*t.proj/bw*1e3 + *alphaUs*math.Log2(float64(n))/1e3
		bn := float64(t.bnRounds) * (*syncUs + *alphaUs*math.Log2(float64(n))) / 1e3
		plain := comp + copies + ring + proj + bn
		// A bucket is reduced while the backward pass (about 2/3 of the
		// compute) goes on: the exchange hides behind it unless it is longer.
		over := math.Max(comp, comp/3+copies+ring) + proj + bn
		fmt.Printf("| %d Gbit/s | %.1f ms | %.1f + %.1f ms | %.2f ms | %.1f ms | %.1f ms | %.1f ms | %.0f%% |\n", gb, comp, copies, ring, proj, bn, plain, over, 100*comp/over)
	}
}
