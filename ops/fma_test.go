package ops

import (
	"math"
	"strings"
	"testing"
)

// TestFMAFusion runs Kernels.FMAFused's probe (its comment has the arithmetic) and checks its
// answer where it is known: Mesa 22's lavapipe (Debian 12's) lowers ffma to a multiply and an add,
// so it must say unfused there. `go test ./ops -run TestFMAFusion -v` says what the device does
// (BENCHMARKS.md, "the ceiling").
func TestFMAFusion(t *testing.T) {
	k := kernels(t, "cpu")
	fused, err := k.FMAFused()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s (%s): %s", k.Ctx.Caps.Name, k.Ctx.Caps.DriverInfo, FMADescription(fused))
	if c := k.Ctx.Caps; c.Driver == "llvmpipe" && strings.HasPrefix(c.DriverInfo, "Mesa 22.") && fused {
		t.Errorf("%s: fused, but Mesa 22's llvmpipe lowers ffma (lower_ffma32)", c.DriverInfo)
	}
}

// TestFMAClass: the probe's three outcomes.
func TestFMAClass(t *testing.T) {
	for _, c := range []struct {
		got           float32
		fused, failed bool
	}{{0, false, false}, {float32(math.Pow(2, -24)), true, false}, {float32(math.Pow(2, -23)), false, true}, {1, false, true}} {
		fused, err := fmaClass(c.got)
		if fused != c.fused || (err != nil) != c.failed {
			t.Errorf("fmaClass(%g) = %v, %v; want fused %v, error %v", c.got, fused, err, c.fused, c.failed)
		}
	}
}
