package mpi

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// childEnv marks a process that mpirun started for TestMpirunTwoRanks.
const childEnv = "VKCLR_MPI_SMOKE_CHILD"

// TestRankCollectives is the body every rank runs under mpirun: each
// collective's result is checked against what the ranks' inputs give.
func TestRankCollectives(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("runs only as a rank under mpirun (TestMpirunTwoRanks)")
	}
	c, err := Init()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Finalize()
	c.Timeout = 30 * time.Second
	if c.Size != 2 || len(c.Peers) != 2 || c.Peers[c.Rank].PID != os.Getpid() {
		t.Fatalf("rank %d of %d, peers %v", c.Rank, c.Size, c.Peers)
	}
	r := float32(c.Rank)
	v := []float32{1 + r, 10 * r, -r}
	if err := c.AllreduceSumF32(v); err != nil {
		t.Fatal(err)
	}
	if v[0] != 3 || v[1] != 10 || v[2] != -1 {
		t.Errorf("allreduce: %v, want [3 10 -1]", v)
	}
	g := make([]float64, 4)
	if err := c.AllgatherF64([]float64{float64(c.Rank), 0.5}, g); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(g) != "[0 0.5 1 0.5]" {
		t.Errorf("allgather: %v", g)
	}
	b := []float32{r, r}
	if err := c.BcastF32(b, 1); err != nil {
		t.Fatal(err)
	}
	if b[0] != 1 || b[1] != 1 {
		t.Errorf("broadcast from rank 1: %v", b)
	}
	m := []int64{int64(c.Rank)}
	if err := c.AllreduceMaxInt(m); err != nil || m[0] != 1 {
		t.Errorf("max: %v %v", m, err)
	}
	if err := c.Barrier(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("rank %d/%d local %d/%d: collectives ok\n", c.Rank, c.Size, c.LocalRank, c.LocalSize)
}

// NeedMpirun fails the test when Open MPI is missing, unless SkipEnv opts out.
func NeedMpirun(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("mpirun"); err != nil {
		if os.Getenv(SkipEnv) == "1" {
			t.Skipf("%v (%s=1)", err, SkipEnv)
		}
		t.Fatalf("%v; or set %s=1 to skip the MPI tests", ErrNoMpirun, SkipEnv)
	}
}

// TestMpirunTwoRanks builds this package's tests with the mpi tag and runs
// them as two ranks.
func TestMpirunTwoRanks(t *testing.T) {
	NeedMpirun(t)
	bin := filepath.Join(t.TempDir(), "mpi.test")
	if out, err := exec.Command("go", "test", "-c", "-tags", "mpi", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building the MPI tests: %v\n%s", err, out)
	}
	cmd, err := Command(2, bin, "-test.run", "^TestRankCollectives$", "-test.v")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(cmd.Env, childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mpirun: %v\n%s", err, out)
	}
	for r := 0; r < 2; r++ {
		if !strings.Contains(string(out), fmt.Sprintf("rank %d/2 local %d/2: collectives ok", r, r)) {
			t.Errorf("rank %d did not report:\n%s", r, out)
		}
	}
}

// TestStubRefusesMpirun: the default build, started as one of several ranks, says how to get MPI.
func TestStubRefusesMpirun(t *testing.T) {
	if Enabled {
		t.Skip("built with MPI")
	}
	t.Setenv("OMPI_COMM_WORLD_SIZE", "2")
	_, err := Init()
	if err == nil || !strings.Contains(err.Error(), "make build-mpi") {
		t.Fatalf("got %v, want an error naming make build-mpi", err)
	}
	t.Setenv("OMPI_COMM_WORLD_SIZE", "1")
	c, err := Init()
	if err != nil || c.Size != 1 {
		t.Fatalf("one rank: %v %v", c, err)
	}
}

// TestRankBench times each collective at the sizes a training step uses
// (BENCHMARKS.md): run as ranks with VKCLR_MPI_BENCH=1, e.g.
// mpirun -np 2 mpi.test -test.run TestRankBench -test.v.
func TestRankBench(t *testing.T) {
	if os.Getenv("VKCLR_MPI_BENCH") == "" {
		t.Skip("a benchmark run as ranks under mpirun with VKCLR_MPI_BENCH=1")
	}
	c, err := Init()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Finalize()
	time1 := func(name string, reps int, f func() error) {
		ds := make([]time.Duration, reps)
		for i := range ds {
			if err := c.Barrier(); err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			if err := f(); err != nil {
				t.Fatal(err)
			}
			ds[i] = time.Since(t0)
		}
		slices.Sort(ds)
		if c.Rank == 0 {
			fmt.Printf("%-44s median %8.3f ms  min %8.3f ms\n", name, float64(ds[reps/2].Microseconds())/1e3, float64(ds[0].Microseconds())/1e3)
		}
	}
	for _, n := range []int{1227904, 12482624} { // ResNet-18 width 16, 64: NParams with padding
		buf := make([]float32, n)
		time1(fmt.Sprintf("all-reduce %d floats (%.1f MB)", n, float64(4*n)/1e6), 20, func() error { return c.AllreduceSumF32(buf) })
	}
	for _, n := range []int{2 * 2048 / c.Size * 128, 2 * 256 / c.Size * 128} { // projections, global batch 2048, 256; D 128
		send, recv := make([]float32, n), make([]float32, n*c.Size)
		time1(fmt.Sprintf("all-gather %d floats per rank (%.2f MB)", n, float64(4*n)/1e6), 20, func() error { return c.AllgatherF32(send, recv) })
	}
	for _, ch := range []int{16, 64, 512} { // batchnorm statistics: (2, C) float64
		send, recv := make([]float64, 2*ch), make([]float64, 2*ch*c.Size)
		time1(fmt.Sprintf("all-gather %d float64 per rank (batchnorm, C=%d)", 2*ch, ch), 200, func() error { return c.AllgatherF64(send, recv) })
	}
}
