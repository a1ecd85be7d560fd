// The `vkclr model summary` command: layers, shapes, parameters and memory.
package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/vkclr/vkclr/model"
	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	register("model", "model summary: layers, output shapes, parameters, memory", cmdModel)
}

func cmdModel(args []string) error {
	if len(args) == 0 || args[0] != "summary" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Println("Usage: vkclr model summary [--arch A] [--width W] [--batch-size B] ...")
			return nil
		}
		return usagef("usage: vkclr model summary [flags]")
	}
	cfg := model.DefaultConfig()
	fs := newFlags("model summary", "model summary [--arch resnet18] [--width 64] [--batch-size 256]")
	fs.StringVar(&cfg.Arch, "arch", cfg.Arch, "resnet18, resnet34, resnet50")
	fs.IntVar(&cfg.Width, "width", cfg.Width, "base channels")
	fs.StringVar(&cfg.Stem, "stem", cfg.Stem, "cifar or imagenet")
	fs.IntVar(&cfg.InChannels, "in-channels", cfg.InChannels, "1 or 3")
	fs.IntVar(&cfg.ImageSize, "image-size", cfg.ImageSize, "input resolution")
	fs.IntVar(&cfg.ProjHidden, "proj-hidden", cfg.ProjHidden, "projection head hidden width (0: none)")
	fs.IntVar(&cfg.ProjDim, "proj-dim", cfg.ProjDim, "projection output width")
	fs.BoolVar(&cfg.ProjBN, "proj-bn", cfg.ProjBN, "batchnorm in the head")
	batch := fs.Int("batch-size", 256, "SimCLR batch (the device runs 2x this many images)")
	device := fs.String("device", "", "device for the kernels' scratch sizes (default: the best)")
	verbose := fs.Bool("layers", true, "list every layer")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	g, err := model.Build(cfg, 2**batch)
	if err != nil {
		return usageError{err.Error()}
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	if *verbose {
		fmt.Fprintln(w, "layer\tkind\toutput (per image)\tparams\t")
		for _, l := range g.Layers {
			t := g.Tensors[l.Out]
			n := 0
			for _, p := range []int{l.W, l.B} {
				if p >= 0 {
					n += g.Params[p].Len
				}
			}
			shape := fmt.Sprintf("%dx%dx%d", t.H, t.W, t.C)
			if t.H == 1 && t.W == 1 {
				shape = fmt.Sprint(t.C)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t\n", l.Name, l.Kind, shape, n)
		}
		w.Flush()
		fmt.Println()
	}
	enc, head := g.ParamCount()
	fmt.Printf("%s, width %d, %s stem, %dx%dx%d input, head %d -> %d -> %d\n", cfg.Arch, cfg.Width, cfg.Stem, cfg.ImageSize, cfg.ImageSize, cfg.InChannels, cfg.FeatureDim(), cfg.ProjHidden, cfg.ProjDim)
	fmt.Printf("parameters: encoder %s, head %s, total %s\n", millions(enc), millions(head), millions(enc+head))
	fmt.Printf("forward: %.1f GFLOP per image\n", g.Flops()/float64(g.Batch)/1e9)
	scratch := 0
	var keep []int
	if c, err := vk.Open(vk.Options{Device: *device, NoPipelineCache: true}); err == nil {
		if k, err := ops.New(c, ops.Options{}); err == nil {
			scratch, keep = model.ScratchFloats(k, g), model.KeepFloats(k, g)
		}
		c.Close()
	}
	p := g.MemoryPlan(true, scratch, keep)
	opt := uint64(4 * g.NParams) // one momentum buffer (sgd, lars); adamw keeps two
	fmt.Printf("device memory at batch %d (%d images per step):\n", *batch, g.Batch)
	fmt.Printf("  parameters + statistics  %s\n", vk.FormatBytes(p.Params))
	fmt.Printf("  gradients                %s\n", vk.FormatBytes(p.Grads))
	fmt.Printf("  optimizer state          %s (sgd/lars; adamw x2)\n", vk.FormatBytes(opt))
	fmt.Printf("  activations              %s\n", vk.FormatBytes(p.Activations))
	fmt.Printf("  activation gradients     %s\n", vk.FormatBytes(p.ActGrads))
	fmt.Printf("  scratch                  %s\n", vk.FormatBytes(p.Scratch))
	fmt.Printf("  kept for the backward    %s (Winograd transforms, max pooling's argmax; model.KeepBudget)\n", vk.FormatBytes(p.Keep))
	fmt.Printf("  peak                     %s\n", vk.FormatBytes(p.Total+opt))
	return nil
}

func millions(n int) string { return fmt.Sprintf("%.2fM (%d)", float64(n)/1e6, n) }
