//go:build !mpi

package mpi

import "fmt"

// Enabled reports whether this binary was built with MPI.
const Enabled = false

// Init returns the one-rank communicator, or an error when a launcher
// started several ranks of a binary that cannot talk to them.
func Init() (*Comm, error) {
	if n := LaunchedSize(); n > 1 {
		return nil, fmt.Errorf("this vkclr was built without MPI but was started as one of %d ranks; build it with 'make build-mpi' (bin/vkclr-mpi) and launch that", n)
	}
	return one(), nil
}

// Finalize is a no-op without MPI.
func (c *Comm) Finalize() error { return nil }

// Abort exits the process.
func (c *Comm) Abort(code int) { exit(code) }

// Barrier is a no-op for one rank.
func (c *Comm) Barrier() error { return nil }

// AllreduceSumF32 leaves buf as it is: the sum over one rank.
func (c *Comm) AllreduceSumF32(buf []float32) error { return nil }

// AllreduceMaxInt leaves v as it is.
func (c *Comm) AllreduceMaxInt(v []int64) error { return nil }

// AllgatherF32 copies send into recv.
func (c *Comm) AllgatherF32(send, recv []float32) error {
	if len(recv) != len(send) {
		return fmt.Errorf("mpi: allgather of %d floats into %d", len(send), len(recv))
	}
	copy(recv, send)
	return nil
}

// AllgatherF64 copies send into recv.
func (c *Comm) AllgatherF64(send, recv []float64) error {
	if len(recv) != len(send) {
		return fmt.Errorf("mpi: allgather of %d values into %d", len(send), len(recv))
	}
	copy(recv, send)
	return nil
}

// BcastBytes leaves buf as it is.
func (c *Comm) BcastBytes(buf []byte, root int) error { return nil }

// BcastF32 leaves buf as it is.
func (c *Comm) BcastF32(buf []float32, root int) error { return nil }
