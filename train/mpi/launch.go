package mpi

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// SkipEnv, set to 1, lets tests skip the mpirun cases on a machine without
// Open MPI; CI does not set it, so there a missing mpirun fails the tests.
const SkipEnv = "VKCLR_SKIP_MPI"

// ErrNoMpirun reports that Open MPI's launcher is not installed.
var ErrNoMpirun = errors.New("mpirun not found: install Open MPI (tools/deps.sh openmpi-bin libopenmpi-dev)")

// Command returns `mpirun -np N prog args...` for one machine: more ranks
// than cores allowed (--oversubscribe), as root too (Open MPI's
// allow-run-as-root variables), shared memory and TCP only.
func Command(np int, prog string, args ...string) (*exec.Cmd, error) {
	run, err := exec.LookPath("mpirun")
	if err != nil {
		return nil, ErrNoMpirun
	}
	a := []string{"-np", fmt.Sprint(np), "--oversubscribe", "--mca", "btl", "self,vader,tcp", prog}
	cmd := exec.Command(run, append(a, args...)...)
	cmd.Env = append(os.Environ(), "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", "OMPI_MCA_rmaps_base_oversubscribe=1")
	return cmd, nil
}
