// Package mpi is vkclr's binding to MPI (Open MPI's mpi.h through cgo),
// the only package that touches MPI. Built with the `mpi` tag it links
// libmpi; without it (the default build) it is a one-rank stand-in that
// refuses to run under mpirun with several ranks.
//
// All calls are collective over MPI_COMM_WORLD and must come from one
// goroutine at a time (MPI_THREAD_SERIALIZED). Every collective runs under a
// watchdog: when it has not finished after Timeout the process prints which
// ranks it waited on and exits, so a hung or lost rank ends the job in
// bounded time instead of blocking it forever.
package mpi

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Peer is one rank's identity, exchanged at Init.
type Peer struct {
	Host string
	PID  int
}

// Comm is the world communicator of this process.
type Comm struct {
	Rank, Size           int
	LocalRank, LocalSize int    // among the ranks on this host
	Peers                []Peer // by rank
	// Timeout bounds every collective; 0 means no watchdog.
	Timeout time.Duration
	// Op names the collective in flight for the watchdog's message ("gradients, step 12").
	Op string

	mu     sync.Mutex
	closed bool
}

// one is the communicator of a process started on its own.
func one() *Comm {
	h, _ := os.Hostname()
	return &Comm{Size: 1, LocalSize: 1, Peers: []Peer{{Host: h, PID: os.Getpid()}}}
}

// LaunchedSize is the world size the launcher announces in the environment
// (Open MPI, MPICH/Hydra, Slurm's PMI), 1 when run directly.
func LaunchedSize() int {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"} {
		if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
			return n
		}
	}
	return 1
}

// watch runs f under the watchdog.
func (c *Comm) watch(what string, f func() error) error {
	if c.Size == 1 || c.Timeout <= 0 {
		return f()
	}
	t := time.AfterFunc(c.Timeout, func() {
		fmt.Fprintf(os.Stderr, "vkclr: rank %d of %d: %s (%s) did not finish within %s: %s; stopping this rank\n",
			c.Rank, c.Size, what, c.Op, c.Timeout, c.Lost())
		os.Exit(3)
	})
	defer t.Stop()
	if err := f(); err != nil {
		return fmt.Errorf("%w (rank %d of %d, %s: %s)", err, c.Rank, c.Size, c.Op, c.Lost())
	}
	return nil
}

// Lost says which ranks on this host are gone (their process exited) and,
// when none is, that a rank is hung or unreachable.
func (c *Comm) Lost() string {
	host, _ := os.Hostname()
	var gone []string
	for r, p := range c.Peers {
		if r != c.Rank && p.Host == host && !alive(p.PID) {
			gone = append(gone, fmt.Sprintf("rank %d (pid %d on %s) is gone", r, p.PID, p.Host))
		}
	}
	if len(gone) > 0 {
		return "lost " + strings.Join(gone, ", ")
	}
	var remote []string
	for r, p := range c.Peers {
		if r != c.Rank && p.Host != host {
			remote = append(remote, fmt.Sprintf("%d@%s", r, p.Host))
		}
	}
	if len(remote) > 0 {
		return "a rank is hung or unreachable (ranks on other hosts: " + strings.Join(remote, " ") + ")"
	}
	return "a rank on this host is hung (all processes still exist)"
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

// parsePeers decodes the "host pid" lines Init gathers.
func parsePeers(lines []string) []Peer {
	ps := make([]Peer, len(lines))
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) == 2 {
			ps[i].Host = f[0]
			ps[i].PID, _ = strconv.Atoi(f[1])
		}
	}
	return ps
}

// exit ends the process (a variable so a test can watch it).
var exit = os.Exit

// peerLine is this process's "host pid".
func peerLine() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s %d", h, os.Getpid())
}
