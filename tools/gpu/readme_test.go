// Package gpu holds the GPU-machine check (bundle.sh, run.sh); this test keeps its README usable by
// anyone with a GPU machine.
package gpu

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeForAnyMachine: the README says how to run the bundle on any GPU machine (copy the folder,
// ./run.sh, the time budget as BUDGET_S, which run.sh reads), not with one remote-run tool's
// parameters.
func TestReadmeForAnyMachine(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{"./run.sh", "BUDGET_S", "scp -r gpu-bundle"} {
		if !strings.Contains(doc, want) {
			t.Errorf("README.md does not mention %q", want)
		}
	}
	for _, tool := range []string{"timeout_s", "carry", "device tool"} {
		if strings.Contains(doc, tool) {
			t.Errorf("README.md names %q, a parameter of a tool vkclr's users do not have", tool)
		}
	}
	sh, err := os.ReadFile("run.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sh), "budget=${BUDGET_S:-") {
		t.Error("run.sh does not take its budget from BUDGET_S")
	}
}
