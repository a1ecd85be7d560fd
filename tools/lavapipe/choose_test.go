// Package lavapipe holds the scripts that build Mesa 25.0.7's lavapipe on Debian 12's LLVM 19
// (build.sh) and pick the driver make demo and make bench run on (choose.sh). This test runs
// choose.sh's rule against a stand-in vkclr, deps.sh and build.sh (the real build takes minutes
// and the network; it is measured in BENCHMARKS.md, not in make test).
package lavapipe

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tree copies choose.sh into a temporary tools/lavapipe beside stand-ins: deps.sh exits with
// depsRC; build.sh exits with buildRC and, on success, leaves the ICD file where build.sh puts it
// and prints its path, as build.sh does;
// vkclr prints `devices --json` with the given device types.
func tree(t *testing.T, types []string, depsRC, buildRC string) (choose, vkclr, dir string) {
	t.Helper()
	root := t.TempDir()
	lp := filepath.Join(root, "tools", "lavapipe")
	if err := os.MkdirAll(lp, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("choose.sh")
	if err != nil {
		t.Fatal(err)
	}
	write := func(path, body string) {
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	choose = filepath.Join(lp, "choose.sh")
	write(choose, string(src))
	write(filepath.Join(root, "tools", "deps.sh"), "#!/bin/sh\nexit "+depsRC+"\n")
	write(filepath.Join(lp, "build.sh"), `#!/bin/sh
[ "`+buildRC+`" = 0 ] || exit `+buildRC+`
mkdir -p "$2/inst/share/vulkan/icd.d" && : >"$2/inst/share/vulkan/icd.d/lvp_icd.x86_64.json"
echo "$(cd "$2" && pwd)/inst/share/vulkan/icd.d/lvp_icd.x86_64.json"
`)
	var js []string
	for _, ty := range types {
		js = append(js, `  {
    "name": "x",
    "type": "`+ty+`",
    "driver": "x"
  }`)
	}
	vkclr = filepath.Join(root, "vkclr")
	write(vkclr, "#!/bin/sh\ncat <<'EOF'\n[\n"+strings.Join(js, ",\n")+"\n]\nEOF\n")
	return choose, vkclr, filepath.Join(root, "build", "lavapipe")
}

func TestChoose(t *testing.T) {
	for _, c := range []struct {
		name            string
		types           []string
		env             []string
		depsRC, buildRC string
		wantICD         bool // the env file names the built driver
		wantExit        int
	}{
		{name: "cpu only, LAVAPIPE=build: the built driver", types: []string{"cpu"}, env: []string{"LAVAPIPE=build"}, depsRC: "0", buildRC: "0", wantICD: true},
		{name: "LAVAPIPE=system", types: []string{"cpu"}, env: []string{"LAVAPIPE=system"}, depsRC: "0", buildRC: "0"},
		{name: "a discrete GPU wins", types: []string{"cpu", "discrete"}, env: []string{"LAVAPIPE=build"}, depsRC: "0", buildRC: "0"},
		{name: "an integrated GPU wins", types: []string{"integrated", "cpu"}, env: []string{"LAVAPIPE=build"}, depsRC: "0", buildRC: "0"},
		{name: "the user's VK_DRIVER_FILES stands", types: []string{"cpu"}, env: []string{"LAVAPIPE=build", "VK_DRIVER_FILES=/x.json"}, depsRC: "0", buildRC: "0"},
		{name: "the user's VK_ICD_FILENAMES stands", types: []string{"cpu"}, env: []string{"LAVAPIPE=build", "VK_ICD_FILENAMES=/x.json"}, depsRC: "0", buildRC: "0"},
		{name: "build dependencies missing: the system's", types: []string{"cpu"}, env: []string{"LAVAPIPE=build"}, depsRC: "1", buildRC: "0"},
		{name: "build or selftest failed: the system's", types: []string{"cpu"}, env: []string{"LAVAPIPE=build"}, depsRC: "0", buildRC: "1"},
		{name: "a bad LAVAPIPE", types: []string{"cpu"}, env: []string{"LAVAPIPE=fast"}, depsRC: "0", buildRC: "0", wantExit: 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			choose, vkclr, dir := tree(t, c.types, c.depsRC, c.buildRC)
			cmd := exec.Command("sh", choose, vkclr, dir)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
			cmd.Env = append(cmd.Env, c.env...)
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.wantExit {
				t.Fatalf("exit %d, want %d:\n%s", code, c.wantExit, out)
			}
			if c.wantExit != 0 {
				return
			}
			env, err := os.ReadFile(filepath.Join(dir, "env"))
			if err != nil {
				t.Fatal(err)
			}
			icd := filepath.Join(dir, "inst", "share", "vulkan", "icd.d", "lvp_icd.x86_64.json")
			want := ""
			if c.wantICD {
				want = "VK_DRIVER_FILES=" + icd + " VK_ICD_FILENAMES=" + icd + "\n"
			}
			if string(env) != want {
				t.Fatalf("env file %q, want %q; choose.sh said:\n%s", env, want, out)
			}
			if !strings.Contains(string(out), "lavapipe: ") {
				t.Fatalf("choose.sh gave no reason:\n%s", out)
			}
		})
	}
}
