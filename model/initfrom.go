package model

import (
	"fmt"
	"strings"

	"github.com/vkclr/vkclr/model/safetensors"
)

// EncoderFile is what a torchvision-layout encoder state dict says about its network.
type EncoderFile struct {
	Arch       string // resnet18, resnet34 or resnet50 (from the block names)
	Width      int    // conv1's output channels
	Stem       string // cifar (3x3 conv1) or imagenet (7x7)
	InChannels int
}

// InspectEncoder reads which encoder a state dict at path holds: the architecture from the blocks
// present (layer1.0.conv3: bottlenecks, ResNet-50; layer1.2: ResNet-34; else ResNet-18), the width
// and input channels from conv1's shape [width, C, R, S], and the stem from its kernel size.
func InspectEncoder(path string) (EncoderFile, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return EncoderFile{}, err
	}
	c1, ok := f.Tensors["conv1.weight"]
	if !ok || len(c1.Shape) != 4 {
		return EncoderFile{}, fmt.Errorf("%s: no conv1.weight of shape [width, channels, R, S]: not a torchvision ResNet state dict", path)
	}
	e := EncoderFile{Arch: "resnet18", Width: c1.Shape[0], InChannels: c1.Shape[1]}
	switch {
	case f.Tensors["layer1.0.conv3.weight"] != nil:
		e.Arch = "resnet50"
	case f.Tensors["layer1.2.conv1.weight"] != nil:
		e.Arch = "resnet34"
	}
	switch {
	case c1.Shape[2] == 3 && c1.Shape[3] == 3:
		e.Stem = "cifar"
	case c1.Shape[2] == 7 && c1.Shape[3] == 7:
		e.Stem = "imagenet"
	default:
		return EncoderFile{}, fmt.Errorf("%s: conv1 is %dx%d; vkclr's stems are 3x3 (cifar) and 7x7 (imagenet)", path, c1.Shape[2], c1.Shape[3])
	}
	return e, nil
}

// InitEncoder overwrites the encoder part of params and state (a fresh g.Init) with the encoder in the
// torchvision-layout state dict at path (an encoder-only dict, or a vkclr checkpoint of the same
// model, whose head and optimizer state are ignored); the projection head keeps its initialisation. The file's
// architecture, width and stem must be g's: a mismatch names the flags to pass.
func (g *Graph) InitEncoder(path string, params, state []float32) error {
	e, err := InspectEncoder(path)
	if err != nil {
		return err
	}
	c := g.Cfg
	var diff []string
	if e.Arch != c.Arch {
		diff = append(diff, fmt.Sprintf("--arch %s (this run: %s)", e.Arch, c.Arch))
	}
	if e.Width != c.Width {
		diff = append(diff, fmt.Sprintf("--width %d (this run: %d)", e.Width, c.Width))
	}
	if e.Stem != c.Stem {
		diff = append(diff, fmt.Sprintf("--stem %s (this run: %s)", e.Stem, c.Stem))
	}
	if e.InChannels != c.InChannels {
		diff = append(diff, fmt.Sprintf("%d input channels (this dataset: %d)", e.InChannels, c.InChannels))
	}
	if len(diff) > 0 {
		return fmt.Errorf("%s holds a %s encoder of width %d with the %s stem; to start from it, pass %s",
			path, e.Arch, e.Width, e.Stem, strings.Join(diff, ", "))
	}
	ck, err := g.Load(path)
	if err != nil {
		return err
	}
	for _, p := range g.Params {
		if !isHead(p.Name) {
			copy(params[p.Offset:p.Offset+p.Len], ck.Params[p.Offset:p.Offset+p.Len])
		}
	}
	for _, s := range g.Stats {
		if !isHead(s.Prefix) {
			copy(state[s.MeanOff:s.MeanOff+s.C], ck.State[s.MeanOff:s.MeanOff+s.C])
			copy(state[s.VarOff:s.VarOff+s.C], ck.State[s.VarOff:s.VarOff+s.C])
		}
	}
	return nil
}
