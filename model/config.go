// Package model builds ResNet encoders and the SimCLR projection head as a
// graph of layers over flat parameter buffers, and runs it on the CPU
// (a float64 reference) or records it into one Vulkan command buffer.
//
// Notation: N batch, H W spatial, C channels (activations are (N, H, W, C)).
package model

import (
	"fmt"
	"strings"
)

// Config is a network's architecture.
type Config struct {
	Arch       string `json:"arch"`        // resnet18, resnet34, resnet50
	Width      int    `json:"width"`       // base channels (64 in torchvision)
	Stem       string `json:"stem"`        // cifar (3x3 s1, no max pool) or imagenet (7x7 s2 + max pool)
	InChannels int    `json:"in_channels"` // 1 or 3 (padded to 4 on the device)
	ImageSize  int    `json:"image_size"`  // input resolution
	ProjHidden int    `json:"proj_hidden"` // projection head hidden width (0: encoder only)
	ProjDim    int    `json:"proj_dim"`    // projection output width
	ProjBN     bool   `json:"proj_bn"`     // batchnorm after the head's first linear
}

// DefaultConfig is the paper's CIFAR-10 network: ResNet-18, CIFAR stem,
// 512 -> 2048 -> 128 head.
func DefaultConfig() Config {
	return Config{Arch: "resnet18", Width: 64, Stem: "cifar", InChannels: 3, ImageSize: 32, ProjHidden: 2048, ProjDim: 128}
}

type archSpec struct {
	blocks     [4]int
	bottleneck bool
}

var archs = map[string]archSpec{
	"resnet18": {[4]int{2, 2, 2, 2}, false},
	"resnet34": {[4]int{3, 4, 6, 3}, false},
	"resnet50": {[4]int{3, 4, 6, 3}, true},
}

// Archs lists the supported architectures.
func Archs() []string { return []string{"resnet18", "resnet34", "resnet50"} }

// FeatureDim is the encoder's output width (512 for ResNet-18 at width 64, 2048 for ResNet-50).
func (c Config) FeatureDim() int {
	if archs[c.Arch].bottleneck {
		return 8 * c.Width * 4
	}
	return 8 * c.Width
}

// Validate reports a configuration error in words a user can act on.
func (c Config) Validate() error {
	if _, ok := archs[c.Arch]; !ok {
		return fmt.Errorf("unknown architecture %q (one of %s)", c.Arch, strings.Join(Archs(), ", "))
	}
	if c.Width < 1 || c.Width > 1024 {
		return fmt.Errorf("width %d out of range 1..1024", c.Width)
	}
	if c.Stem != "cifar" && c.Stem != "imagenet" {
		return fmt.Errorf("unknown stem %q (cifar or imagenet)", c.Stem)
	}
	if c.InChannels != 1 && c.InChannels != 3 {
		return fmt.Errorf("%d input channels (1 or 3)", c.InChannels)
	}
	if c.ImageSize < 8 {
		return fmt.Errorf("image size %d is too small (at least 8)", c.ImageSize)
	}
	if c.ProjHidden < 0 || c.ProjDim < 0 || (c.ProjHidden > 0) != (c.ProjDim > 0) {
		return fmt.Errorf("projection head %d -> %d: give both widths, or neither", c.ProjHidden, c.ProjDim)
	}
	return nil
}

// DeviceInChannels is the input's channel count on the device: padded to 4
// so convolutions load whole vec4s along channels.
func (c Config) DeviceInChannels() int { return 4 }
