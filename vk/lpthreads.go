package vk

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
)

// lavapipe (Mesa's llvmpipe behind Vulkan) runs a dispatch's workgroups on LP_NUM_THREADS threads,
// one per CPU core unless the environment says otherwise, and hands them out statically: each
// thread takes a contiguous 1/threads of the workgroups (lp_cs_tpool.c: iter_per_thread =
// iterations / threads), and the dispatch ends when the slowest thread does. Through make demo's
// training on a 2-core AMD EPYC VM 8-13% of both cores sat idle (vmstat), and each of the two worker
// threads ran 85-86% of the time (/proc). With twice as many threads as cores, 60 demo training steps
// took 68.1-73.5 s against 76.1-77.0 s (three alternated pairs), and make bench's steps ran 1.10-1.18x
// faster (BENCHMARKS.md, 2026-12-01 "lavapipe's threads"); 3 threads gained less and 8 lost. Why is
// not settled (a share of a dispatch half the size lets the scheduler even out cores that run at
// different speeds on a shared VM, is the likely reading). The results do not depend on it: every
// workgroup computes the same values on any thread (126 of 126 tensors identical after those runs).
//
// So before the loader opens, vkclr sets LP_NUM_THREADS to twice the cores, shared among the MPI ranks
// on this machine (OMPI_COMM_WORLD_LOCAL_SIZE), when the user has not set it. Other drivers ignore
// the variable. Measured on 2 cores only; llvmpipe clamps it to its LP_MAX_THREADS (32 in Mesa 22.3).

const lpMaxThreads = 32

// cpuThreads says how many threads lavapipe runs and who chose them, for Caps.CPUThreads; set once
// by setLavapipeThreads.
var cpuThreads string

// lavapipeThreads is the thread count vkclr asks lavapipe for with cpus cores and localRanks
// processes of one MPI job on this machine (0 or 1 without MPI).
func lavapipeThreads(cpus, localRanks int) int {
	return min(max(2*cpus/max(localRanks, 1), 1), lpMaxThreads)
}

// setLavapipeThreads sets LP_NUM_THREADS unless the environment has it; it runs once, before the
// Vulkan loader (and with it lavapipe, which reads the variable when it creates its screen) is opened.
func setLavapipeThreads() {
	if v, ok := os.LookupEnv("LP_NUM_THREADS"); ok {
		cpuThreads = v + " (LP_NUM_THREADS from the environment)"
		return
	}
	ranks, _ := strconv.Atoi(os.Getenv("OMPI_COMM_WORLD_LOCAL_SIZE"))
	v := strconv.Itoa(lavapipeThreads(runtime.NumCPU(), ranks))
	if err := os.Setenv("LP_NUM_THREADS", v); err != nil {
		cpuThreads = "lavapipe's default (setting LP_NUM_THREADS failed: " + err.Error() + ")"
		return
	}
	cpuThreads = fmt.Sprintf("%s (LP_NUM_THREADS=%s set by vkclr: 2 per CPU core (%d)", v, v, runtime.NumCPU())
	if ranks > 1 {
		cpuThreads += fmt.Sprintf(" shared by %d local MPI ranks", ranks)
	}
	cpuThreads += ")"
}
