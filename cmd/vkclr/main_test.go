package main

import (
	"os"
	"testing"

	"github.com/vkclr/vkclr/vk/vktest"
)

// The commands open their own contexts, validating (VKCLR_VALIDATE=1).
func TestMain(m *testing.M) { os.Exit(vktest.Main(m, "vkclr", nil)) }
