package vk

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestLavapipeThreads(t *testing.T) {
	for _, c := range []struct{ cpus, ranks, want int }{
		{2, 0, 4}, {2, 1, 4}, {2, 2, 2}, {2, 4, 1}, {2, 8, 1}, {1, 0, 2}, {6, 4, 3}, {16, 0, 32}, {64, 0, 32},
	} {
		if got := lavapipeThreads(c.cpus, c.ranks); got != c.want {
			t.Errorf("%d cores, %d local ranks: %d threads, want %d", c.cpus, c.ranks, got, c.want)
		}
	}
}

// TestSetLavapipeThreads: LP_NUM_THREADS the user set is kept as it is; unset, vkclr sets twice the
// cores, shared by the local MPI ranks; both say so in the devices report's note.
func TestSetLavapipeThreads(t *testing.T) {
	saved := cpuThreads
	defer func() { cpuThreads = saved }()

	t.Setenv("LP_NUM_THREADS", "3")
	setLavapipeThreads()
	if v := os.Getenv("LP_NUM_THREADS"); v != "3" || cpuThreads != "3 (LP_NUM_THREADS from the environment)" {
		t.Errorf("the user's LP_NUM_THREADS=3 became %q; note %q", v, cpuThreads)
	}

	os.Unsetenv("LP_NUM_THREADS") // t.Setenv restores the original value at the end
	t.Setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "")
	setLavapipeThreads()
	want := strconv.Itoa(min(2*runtime.NumCPU(), lpMaxThreads))
	if v := os.Getenv("LP_NUM_THREADS"); v != want || !strings.Contains(cpuThreads, "set by vkclr") {
		t.Errorf("unset: LP_NUM_THREADS=%q, want %s; note %q", v, want, cpuThreads)
	}

	os.Unsetenv("LP_NUM_THREADS")
	t.Setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2")
	setLavapipeThreads()
	want = strconv.Itoa(max(min(2*runtime.NumCPU()/2, lpMaxThreads), 1))
	if v := os.Getenv("LP_NUM_THREADS"); v != want || !strings.Contains(cpuThreads, "shared by 2 local MPI ranks") {
		t.Errorf("two local ranks: LP_NUM_THREADS=%q, want %s; note %q", v, want, cpuThreads)
	}
}
