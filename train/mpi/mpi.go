//go:build mpi

package mpi

/*
#cgo pkg-config: ompi-c
#include <mpi.h>
#include <stdlib.h>

// Open MPI's handles are macros over globals, which cgo cannot name.
static int vk_init(int *provided) {
	int r = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
	if (r == MPI_SUCCESS) MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	return r;
}
static int vk_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int vk_size(int *n) { return MPI_Comm_size(MPI_COMM_WORLD, n); }
static int vk_local(int *r, int *n) {
	MPI_Comm local;
	int e = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
	if (e != MPI_SUCCESS) return e;
	MPI_Comm_rank(local, r);
	MPI_Comm_size(local, n);
	return MPI_Comm_free(&local);
}
static int vk_allreduce_f32(float *buf, int n) { return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); }
static int vk_allreduce_max_i64(long long *buf, int n) { return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD); }
static int vk_allgather_f32(float *s, float *r, int n) { return MPI_Allgather(s, n, MPI_FLOAT, r, n, MPI_FLOAT, MPI_COMM_WORLD); }
static int vk_allgather_f64(double *s, double *r, int n) { return MPI_Allgather(s, n, MPI_DOUBLE, r, n, MPI_DOUBLE, MPI_COMM_WORLD); }
static int vk_allgather_bytes(char *s, char *r, int n) { return MPI_Allgather(s, n, MPI_CHAR, r, n, MPI_CHAR, MPI_COMM_WORLD); }
static int vk_bcast_bytes(void *b, int n, int root) { return MPI_Bcast(b, n, MPI_BYTE, root, MPI_COMM_WORLD); }
static int vk_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int vk_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static int vk_finalize(void) { return MPI_Finalize(); }
static void vk_error_string(int code, char *s, int *n) { MPI_Error_string(code, s, n); }
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// Enabled reports whether this binary was built with MPI.
const Enabled = true

// maxCount bounds one call's element count (MPI counts are C ints);
// longer buffers go in pieces.
const maxCount = 1 << 30

func check(what string, code C.int) error {
	if code == C.MPI_SUCCESS {
		return nil
	}
	buf := make([]byte, C.MPI_MAX_ERROR_STRING)
	var n C.int
	C.vk_error_string(code, (*C.char)(unsafe.Pointer(&buf[0])), &n)
	return fmt.Errorf("mpi: %s: %s", what, string(buf[:n]))
}

// Init starts MPI and exchanges every rank's host and process id.
// Started without a launcher (or as one rank) it does not start MPI at all,
// so a single process behaves as the default build's.
func Init() (*Comm, error) {
	if LaunchedSize() == 1 {
		return one(), nil
	}
	var provided C.int
	if err := check("MPI_Init_thread", C.vk_init(&provided)); err != nil {
		return nil, err
	}
	if provided < C.MPI_THREAD_SERIALIZED {
		return nil, fmt.Errorf("mpi: the MPI library gives thread level %d, vkclr needs MPI_THREAD_SERIALIZED", int(provided))
	}
	c := &Comm{}
	var r, n, lr, ln C.int
	if err := check("MPI_Comm_rank", C.vk_rank(&r)); err != nil {
		return nil, err
	}
	if err := check("MPI_Comm_size", C.vk_size(&n)); err != nil {
		return nil, err
	}
	if err := check("MPI_Comm_split_type", C.vk_local(&lr, &ln)); err != nil {
		return nil, err
	}
	c.Rank, c.Size, c.LocalRank, c.LocalSize = int(r), int(n), int(lr), int(ln)
	const w = 256
	me := make([]byte, w)
	copy(me, peerLine())
	all := make([]byte, w*c.Size)
	if err := check("MPI_Allgather", C.vk_allgather_bytes((*C.char)(unsafe.Pointer(&me[0])), (*C.char)(unsafe.Pointer(&all[0])), w)); err != nil {
		return nil, err
	}
	lines := make([]string, c.Size)
	for i := range lines {
		lines[i] = strings.TrimRight(string(all[i*w:(i+1)*w]), "\x00")
	}
	c.Peers = parsePeers(lines)
	return c, nil
}

// Finalize ends MPI; call it once, after the last collective.
func (c *Comm) Finalize() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.Size == 1 {
		return nil
	}
	c.closed = true
	return check("MPI_Finalize", C.vk_finalize())
}

// Abort ends every rank of the job with code.
func (c *Comm) Abort(code int) {
	if c.Size == 1 {
		exit(code)
	}
	C.vk_abort(C.int(code))
	exit(code)
}

// Barrier waits for every rank.
func (c *Comm) Barrier() error {
	if c.Size == 1 {
		return nil
	}
	return c.watch("barrier", func() error { return check("MPI_Barrier", C.vk_barrier()) })
}

// AllreduceSumF32 replaces buf with its sum over the ranks.
func (c *Comm) AllreduceSumF32(buf []float32) error {
	if c.Size == 1 {
		return nil
	}
	return c.watch("all-reduce", func() error {
		for len(buf) > 0 {
			n := min(len(buf), maxCount)
			if err := check("MPI_Allreduce", C.vk_allreduce_f32((*C.float)(unsafe.Pointer(&buf[0])), C.int(n))); err != nil {
				return err
			}
			buf = buf[n:]
		}
		return nil
	})
}

// AllreduceMaxInt replaces v with its maximum over the ranks.
func (c *Comm) AllreduceMaxInt(v []int64) error {
	if len(v) == 0 || c.Size == 1 {
		return nil
	}
	return c.watch("all-reduce", func() error {
		return check("MPI_Allreduce", C.vk_allreduce_max_i64((*C.longlong)(unsafe.Pointer(&v[0])), C.int(len(v))))
	})
}

// AllgatherF32 puts every rank's send, in rank order, into recv (Size x len(send)).
func (c *Comm) AllgatherF32(send, recv []float32) error {
	if len(recv) != c.Size*len(send) || len(send) == 0 || len(send) > maxCount {
		return fmt.Errorf("mpi: allgather of %d floats per rank into %d", len(send), len(recv))
	}
	if c.Size == 1 {
		copy(recv, send)
		return nil
	}
	return c.watch("all-gather", func() error {
		return check("MPI_Allgather", C.vk_allgather_f32((*C.float)(unsafe.Pointer(&send[0])), (*C.float)(unsafe.Pointer(&recv[0])), C.int(len(send))))
	})
}

// AllgatherF64 is AllgatherF32 for float64.
func (c *Comm) AllgatherF64(send, recv []float64) error {
	if len(recv) != c.Size*len(send) || len(send) == 0 || len(send) > maxCount {
		return fmt.Errorf("mpi: allgather of %d values per rank into %d", len(send), len(recv))
	}
	if c.Size == 1 {
		copy(recv, send)
		return nil
	}
	return c.watch("all-gather", func() error {
		return check("MPI_Allgather", C.vk_allgather_f64((*C.double)(unsafe.Pointer(&send[0])), (*C.double)(unsafe.Pointer(&recv[0])), C.int(len(send))))
	})
}

// BcastBytes copies root's buf to every rank's.
func (c *Comm) BcastBytes(buf []byte, root int) error {
	if len(buf) == 0 {
		return nil
	}
	return c.bcast(unsafe.Pointer(&buf[0]), len(buf), root)
}

// BcastF32 copies root's buf to every rank's.
func (c *Comm) BcastF32(buf []float32, root int) error {
	if len(buf) == 0 {
		return nil
	}
	return c.bcast(unsafe.Pointer(&buf[0]), 4*len(buf), root)
}

func (c *Comm) bcast(p unsafe.Pointer, n, root int) error {
	if c.Size == 1 {
		return nil
	}
	return c.watch("broadcast", func() error {
		// Offsets, not an advancing pointer: after the last piece such a pointer would point just past
		// the buffer, which Go forbids; the garbage collector found it in this closure's captured
		// variables, maybe at the end of a span, and crashed the process ("found bad pointer in Go
		// heap"), 1 run in 6 of TestMPIRankLost.
		for off := 0; off < n; off += maxCount {
			k := min(n-off, maxCount)
			if err := check("MPI_Bcast", C.vk_bcast_bytes(unsafe.Add(p, off), C.int(k), C.int(root))); err != nil {
				return err
			}
		}
		return nil
	})
}
