// Package vktest holds what every package whose tests open a Vulkan context
// shares: a TestMain that fails the run on any validation-layer message.
package vktest

import (
	"fmt"
	"os"
	"testing"

	"github.com/vkclr/vkclr/vk"
)

// Main runs m and returns the exit code for os.Exit. Messages are counted
// from before setup (which opens the package's shared contexts and returns
// their teardown, or nil) to after teardown, so messages from pipeline
// creation and from closing (leaks) fail the run too. Validation is turned
// on for contexts that read VKCLR_VALIDATE (the command's, the trainer's).
func Main(m *testing.M, pkg string, setup func() (teardown func())) int {
	if os.Getenv("VKCLR_VALIDATE") == "" {
		os.Setenv("VKCLR_VALIDATE", "1")
	}
	before := vk.ValidationMessages()
	teardown := func() {}
	if setup != nil {
		if td := setup(); td != nil {
			teardown = td
		}
	}
	code := m.Run()
	teardown()
	if n := vk.ValidationMessages() - before; n != 0 {
		fmt.Fprintf(os.Stderr, "%s tests: %d validation message(s); see the log above\n", pkg, n)
		code = 1
	}
	return code
}
