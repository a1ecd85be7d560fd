package model

import (
	"os"
	"testing"

	"github.com/vkclr/vkclr/vk/vktest"
)

// Each device test opens its own validating context.
func TestMain(m *testing.M) { os.Exit(vktest.Main(m, "model", nil)) }
