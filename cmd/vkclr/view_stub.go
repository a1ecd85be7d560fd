//go:build !viewer

// `vkclr view` in the default (headless) build: it says how to get the viewer.
package main

import (
	"errors"
	"fmt"
)

const viewSummary = "a window on a run's curves and an embedding's nearest neighbours (make viewer)"

func init() { register("view", viewSummary, cmdView) }

// errNoViewer: the default binary links no X11, GL or glfw, so servers can train without them.
var errNoViewer = errors.New("this vkclr is built without the viewer, so that training servers need no X11 or glfw; " +
	"'make viewer' builds bin/vkclr-view (go build -tags viewer), then run 'bin/vkclr-view view RUN_FOLDER' or 'bin/vkclr-view view --embeddings FEATS.safetensors'")

func cmdView(args []string) error {
	for _, a := range args {
		if a == "-h" || a == "--help" {
			fmt.Println("Usage: vkclr view RUN_FOLDER | --embeddings FEATS.safetensors [RUN_FOLDER]\n\n" + errNoViewer.Error())
			return errHelp
		}
	}
	return errNoViewer
}
