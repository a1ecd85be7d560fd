package model

import (
	"errors"
	"testing"

	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/vk"
)

// TestDeviceMatchesCPUWinograd runs the device-against-CPU check on a ResNet-18 wide enough that
// the "cpu" kernels take Winograd for the 3x3 convolutions of layer3 and layer4 in every direction (it fails if none
// does, so it keeps testing what it is named for), grad weight reading the forward's kept transform.
func TestDeviceMatchesCPUWinograd(t *testing.T) {
	c, err := vk.Open(vk.Options{Validate: true, NoPipelineCache: true})
	if errors.Is(err, vk.ErrNoDevice) {
		t.Skipf("no Vulkan device on this machine: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	k, err := ops.New(c, ops.Options{Variant: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Arch: "resnet18", Width: 16, Stem: "cifar", InChannels: 3, ImageSize: 10, ProjHidden: 16, ProjDim: 8}
	g, err := Build(cfg, 4)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, l := range g.Layers {
		if l.Kind == Conv {
			for _, dir := range []string{"fwd", "bwd_data", "bwd_weight"} {
				if k.WinogradTile(l.Conv, dir) > 0 {
					n[dir]++
				}
			}
		}
	}
	if n["fwd"] == 0 || n["bwd_data"] == 0 || n["bwd_weight"] == 0 {
		t.Fatalf("no Winograd convolutions in some direction: %v", n)
	}
	kept := 0
	for _, f := range KeepFloats(k, g) {
		if f > 0 {
			kept++
		}
	}
	if kept == 0 {
		t.Fatal("no convolution keeps its forward Winograd transform for grad weight")
	}
	t.Logf("Winograd convolutions per direction: %v; %d keep their input transform", n, kept)
	compareDevice(t, k, cfg, 4)
}
