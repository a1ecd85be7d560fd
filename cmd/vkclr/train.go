// The `vkclr train` command: SimCLR pre-training.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
	"github.com/vkclr/vkclr/train"
	"github.com/vkclr/vkclr/train/mpi"
	"github.com/vkclr/vkclr/vk"
)

func init() {
	register("train", "SimCLR pre-training (presets: cifar10, demo)", cmdTrain)
}

// trainFlags binds every training setting to a flag; presets fill the
// defaults, and flags the user sets override them.
func trainFlags(fs *pflag.FlagSet, c *train.Config) {
	fs.StringVar(&c.Data, "data", c.Data, "dataset: cifar10, cifar100, fashion-mnist, mnist, stl10, imagenette, or an image folder (ImageNet layout, class folders or unlabeled)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "folder holding the dataset's files (default: the user cache, or Debian's location)")
	fs.IntVar(&c.Subset, "subset", c.Subset, "use the first N training images (0: all)")
	fs.BoolVar(&c.StrictData, "strict-data", c.StrictData, "fail on the first unreadable image of a folder (default: skip it and report it)")
	fs.StringVar(&c.CacheDir, "cache-dir", c.CacheDir, "where decoded image-folder caches go (default: the user cache, vkclr/images)")
	fs.IntVar(&c.CacheSide, "cache-side", c.CacheSide, "shorter side image folders are stored at (default: 1.15x --image-size)")
	fs.StringVar(&c.Model.Arch, "arch", c.Model.Arch, "encoder: resnet18, resnet34, resnet50")
	fs.IntVar(&c.Model.Width, "width", c.Model.Width, "base channels of the encoder (torchvision: 64)")
	fs.StringVar(&c.Model.Stem, "stem", c.Model.Stem, "cifar (3x3 stride 1, no max pool) or imagenet (7x7 stride 2, max pool)")
	fs.IntVar(&c.Model.ImageSize, "image-size", c.Model.ImageSize, "training resolution")
	fs.IntVar(&c.Model.ProjHidden, "proj-hidden", c.Model.ProjHidden, "projection head hidden width")
	fs.IntVar(&c.Model.ProjDim, "proj-dim", c.Model.ProjDim, "projection output width")
	fs.BoolVar(&c.Model.ProjBN, "proj-bn", c.Model.ProjBN, "batchnorm in the projection head")
	fs.StringVar(&c.InitFrom, "init-from", c.InitFrom, "start the encoder from a torchvision-layout state dict (.safetensors) of the same --arch/--stem/--width")
	fs.IntVar(&c.BatchSize, "batch-size", c.BatchSize, "images per step (each gives two views)")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "epochs to train")
	fs.IntVar(&c.Steps, "steps", c.Steps, "stop after this many steps in all (overrides --epochs)")
	fs.StringVar(&c.Optimizer, "optimizer", c.Optimizer, "lars, sgd or adamw")
	fs.Float64Var(&c.LR, "lr", c.LR, "base learning rate per 256 images")
	fs.StringVar(&c.LRScaling, "lr-scaling", c.LRScaling, "scale the base rate to the batch: linear or sqrt")
	fs.Float64Var(&c.WarmupEpochs, "warmup-epochs", c.WarmupEpochs, "linear warm-up, then cosine decay")
	fs.Float64Var(&c.WeightDecay, "weight-decay", c.WeightDecay, "weight decay (not on biases and batchnorm)")
	fs.Float64Var(&c.Momentum, "momentum", c.Momentum, "momentum (sgd, lars)")
	fs.BoolVar(&c.Nesterov, "nesterov", c.Nesterov, "Nesterov momentum")
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "NT-Xent temperature")
	fs.StringVar(&c.Augment, "augment", c.Augment, "augmentation preset (simclr-cifar, none, s=STRENGTH) with overrides, e.g. simclr-cifar,s=1")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of initialization, data order and augmentations")
	fs.StringVar(&c.Device, "device", c.Device, "Vulkan device: index or name substring (default: the best)")
	fs.StringVar(&c.Out, "out", c.Out, "run folder (metrics, plots, checkpoints)")
	fs.IntVar(&c.SaveEvery, "save-every", c.SaveEvery, "keep a numbered checkpoint every N epochs (last.safetensors is always kept)")
	fs.IntVar(&c.EvalEvery, "eval-every", c.EvalEvery, "kNN monitor on the test split every N epochs (0: never)")
	fs.IntVar(&c.KNNK, "knn-k", c.KNNK, "neighbours of the kNN monitor")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "steps between metrics.jsonl lines")
	fs.BoolVar(&c.Profile, "profile", c.Profile, "print the device time per op of a step")
	fs.BoolVar(&c.VkValidate, "vk-validate", c.VkValidate, "enable the Vulkan validation layer")
}

func cmdTrain(args []string) error {
	comm, err := mpi.Init()
	if err != nil {
		return err
	}
	err = trainRank(comm, args)
	if err != nil && comm.Size > 1 {
		// MPI_Finalize would wait for ranks still inside a collective:
		// end the whole job instead, after saying why.
		fmt.Fprintf(os.Stderr, "vkclr train: %v\n", err)
		comm.Abort(1)
	}
	if ferr := comm.Finalize(); err == nil {
		err = ferr
	}
	return err
}

// trainRank is `vkclr train` for this process, alone or as one rank of comm.
func trainRank(comm *mpi.Comm, args []string) error {
	// A first pass finds --preset and --resume, which decide the defaults.
	pre := pflag.NewFlagSet("train", pflag.ContinueOnError)
	pre.ParseErrorsAllowlist.UnknownFlags = true
	pre.Usage = func() {}
	pre.SetOutput(discard{})
	preset := pre.String("preset", "", "")
	resume := pre.String("resume", "", "")
	_ = pre.Parse(args)

	var cfg train.Config
	switch {
	case *resume != "" && comm.Rank != 0:
		cfg = train.Presets["cifar10"] // rank 0's settings replace these
		cfg.Out = *resume
	case *resume != "":
		c, err := train.LoadRun(*resume)
		if err != nil {
			return err
		}
		cfg = c
	case *preset != "":
		p, ok := train.Presets[*preset]
		if !ok {
			return usagef("unknown --preset %q (one of %s)", *preset, strings.Join(train.PresetNames(), ", "))
		}
		cfg = p
	default:
		cfg = train.Presets["cifar10"]
	}
	fs := newFlags("train", "train [--preset cifar10|demo] [flags]   or   vkclr train --resume RUN")
	fs.String("preset", "", "start from a preset: "+strings.Join(train.PresetNames(), ", ")+" (default cifar10's settings)")
	fs.String("resume", "", "continue the run in this folder exactly where its last checkpoint left it")
	trainFlags(fs, &cfg)
	timeout := fs.Duration("device-timeout", 0, "report the device as hung when one step takes longer than this (default VKCLR_DEVICE_TIMEOUT, else 10m; 2h on a CPU driver)")
	var df distFlags
	bindDistFlags(fs, &cfg, &df)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *resume != "" {
		cfg.Out = *resume
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if *timeout > 0 {
		// Read by vk.Open, which every command's session goes through.
		os.Setenv("VKCLR_DEVICE_TIMEOUT", timeout.String())
	}
	isResume, log := *resume != "", io.Writer(os.Stderr)
	if comm.Size > 1 {
		l, cleanup, err := distSetup(comm, &cfg, &isResume, df)
		if err != nil {
			return err
		}
		defer cleanup()
		log = l
	}
	validate := cfg.VkValidate || vk.ValidationFromEnv()
	s, err := train.OpenSession(cfg.Device, validate)
	if err != nil {
		return err
	}
	defer s.Close()
	ctx, stop := interruptible()
	defer stop()
	res, err := train.Run(train.WithComm(ctx, comm), s, cfg, isResume, log)
	if err != nil {
		if comm.Size > 1 {
			return fmt.Errorf("rank %d of %d: %w", comm.Rank, comm.Size, err)
		}
		return err
	}
	if comm.Rank != 0 {
		return nil
	}
	fmt.Printf("trained %d steps in %s; checkpoint %s\n", res.Steps, res.Wall.Round(1e9), res.Checkpoint)
	return nil
}

// interruptible returns a context cancelled by the first Ctrl-C or SIGTERM
// (the run finishes its step, saves and exits); a second one exits at once,
// leaving the checkpoints on disk as they were (saves are atomic).
func interruptible() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sig; !ok {
			return
		}
		fmt.Fprintln(os.Stderr, "\ninterrupted: finishing the step and saving a checkpoint (press Ctrl-C again to exit at once)")
		cancel()
		if _, ok := <-sig; !ok {
			return
		}
		fmt.Fprintln(os.Stderr, "interrupted again: exiting without saving; the last checkpoint on disk is intact")
		os.Exit(130)
	}()
	return ctx, func() {
		signal.Stop(sig)
		close(sig)
		cancel()
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
