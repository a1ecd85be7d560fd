//go:build viewer

// The `vkclr view` command, in binaries built with the viewer tag (make viewer).
package main

import (
	"errors"

	"github.com/spf13/pflag"
	"github.com/vkclr/vkclr/view"
)

const viewSummary = "a window on a run's curves and an embedding's nearest neighbours"

func init() { register("view", viewSummary, cmdView) }

func cmdView(args []string) error {
	if err := view.Command(args); errors.Is(err, pflag.ErrHelp) {
		return errHelp
	} else {
		return err
	}
}
