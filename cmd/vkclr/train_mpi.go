// One rank of a data-parallel `vkclr train` under mpirun: the run's settings
// come from rank 0, each rank picks its device by local rank, and only rank
// 0 keeps a run folder and prints.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"github.com/vkclr/vkclr/train"
	"github.com/vkclr/vkclr/train/mpi"
	"github.com/vkclr/vkclr/vk"
)

// distFlags are the data-parallel settings that are not part of the run's config.
type distFlags struct {
	syncBN  bool
	timeout time.Duration
}

func bindDistFlags(fs *pflag.FlagSet, c *train.Config, d *distFlags) {
	fs.BoolVar(&d.syncBN, "sync-bn", !c.PerRankBN, "under mpirun: batchnorm statistics over the global batch (false: per rank)")
	fs.IntVar(&c.CheckEvery, "check-every", c.CheckEvery, fmt.Sprintf("under mpirun: steps between weight checksum comparisons (0: %d, -1: never)", train.DefaultCheckEvery))
	fs.DurationVar(&d.timeout, "mpi-timeout", 10*time.Minute, "under mpirun: the longest any collective may wait for the other ranks before this rank gives up")
}

// distSetup makes this process one rank of comm's run: rank 0's settings,
// this rank's device, and for ranks other than 0 a private scratch folder
// and no log. It returns the log to use and a cleanup.
func distSetup(comm *mpi.Comm, cfg *train.Config, resume *bool, d distFlags) (io.Writer, func(), error) {
	cfg.PerRankBN = !d.syncBN
	comm.Timeout = d.timeout
	comm.Op = "start: the run's settings from rank 0"
	mine, _ := json.Marshal(cfg)
	n := make([]byte, 8)
	binary.LittleEndian.PutUint64(n, uint64(len(mine)))
	if err := comm.BcastBytes(n, 0); err != nil {
		return nil, nil, err
	}
	b := make([]byte, binary.LittleEndian.Uint64(n))
	if comm.Rank == 0 {
		b = mine
	}
	if err := comm.BcastBytes(b, 0); err != nil {
		return nil, nil, err
	}
	own := *cfg
	if err := json.Unmarshal(b, cfg); err != nil {
		return nil, nil, err
	}
	dev, err := rankDevice(own.Device, comm.LocalRank, comm.LocalSize)
	if err != nil {
		return nil, nil, err
	}
	cfg.Device = dev
	stopOnSignal(comm, cfg.Out)
	if comm.Rank == 0 {
		return os.Stderr, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", fmt.Sprintf("vkclr-rank%d-", comm.Rank))
	if err != nil {
		return nil, nil, err
	}
	cfg.Out, *resume = tmp, false
	return io.Discard, func() { os.RemoveAll(tmp) }, nil
}

// rankDevice picks local rank lr's device: entry lr of a comma-separated
// --device, or else the lr-th GPU (devices shared round robin when there
// are fewer than ranks, as with one CPU driver).
func rankDevice(sel string, lr, ln int) (string, error) {
	if strings.Contains(sel, ",") {
		e := strings.Split(sel, ",")
		if len(e) != ln {
			return "", fmt.Errorf("--device %q names %d devices for %d ranks on this machine: give one per local rank", sel, len(e), ln)
		}
		return strings.TrimSpace(e[lr]), nil
	}
	if sel != "" {
		return sel, nil
	}
	all, err := vk.Devices()
	if err != nil || len(all) == 0 {
		return "", err
	}
	var idx []int
	for i, c := range all {
		if !c.IsCPU() {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		for i := range all {
			idx = append(idx, i)
		}
	}
	return strconv.Itoa(idx[lr%len(idx)]), nil
}

// stopOnSignal ends this rank at once on SIGTERM or SIGINT (mpirun sends
// them when another rank died or the job was cancelled), naming what it
// can see of the lost ranks; checkpoints are written atomically, so the
// last one stays intact.
func stopOnSignal(comm *mpi.Comm, out string) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-ch
		fmt.Fprintf(os.Stderr, "vkclr train: rank %d of %d stopped by %v: %s; the last checkpoint in %s is intact (resume with the same number of ranks)\n",
			comm.Rank, comm.Size, sig, comm.Lost(), out)
		os.Exit(1)
	}()
}
