// The `vkclr devices` command: every Vulkan device and its capability report.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/vkclr/vkclr/vk"
)

func init() {
	register("devices", "list Vulkan devices and their capabilities", cmdDevices)
}

func cmdDevices(args []string) error {
	fs := newFlags("devices", "devices [--json]")
	asJSON := fs.Bool("json", false, "print the reports as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	all, err := vk.Devices()
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	if len(all) == 0 {
		return fmt.Errorf("no Vulkan device found; install a driver (mesa-vulkan-drivers gives lavapipe on the CPU)")
	}
	for _, c := range all {
		printCaps(c)
		fmt.Println()
	}
	return nil
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func printCaps(c vk.Caps) {
	fmt.Printf("[%d] %s\n", c.Index, c.Name)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(w, "    %s\t%v\n", k, v) }
	row("type", c.Type)
	row("vendor", fmt.Sprintf("%s (0x%04x), device 0x%04x", c.Vendor, c.VendorID, c.DeviceID))
	row("driver", strings.TrimSpace(c.Driver+" "+c.DriverInfo))
	row("api version", c.APIVersion)
	sg := fmt.Sprintf("%d", c.SubgroupSize)
	if c.MinSubgroupSize != c.MaxSubgroupSize {
		sg += fmt.Sprintf(" (%d-%d)", c.MinSubgroupSize, c.MaxSubgroupSize)
	}
	row("subgroup size", sg+fmt.Sprintf(", compute %s, arithmetic %s, shuffle %s", yes(c.SubgroupCompute), yes(c.SubgroupArith), yes(c.SubgroupShuffle)))
	row("shared memory", vk.FormatBytes(uint64(c.SharedMemory)))
	row("workgroup", fmt.Sprintf("%d invocations, size %v, count %v", c.MaxWorkgroupInvoc, c.MaxWorkgroupSize, c.MaxWorkgroupCount))
	row("maxStorageBufferRange", vk.FormatBytes(c.MaxStorageBufferRange))
	row("push constants", fmt.Sprintf("%d B", c.MaxPushConstants))
	row("texel buffer elements", c.MaxTexelElements)
	row("memory allocations", c.MaxAllocations)
	for i, h := range c.Heaps {
		kind := "host"
		if h.DeviceLocal {
			kind = "device-local"
		}
		row(fmt.Sprintf("heap %d", i), vk.FormatBytes(h.Size)+" "+kind)
	}
	row("fp16 / int8 / int64", fmt.Sprintf("%s / %s / %s", yes(c.Float16), yes(c.Int8), yes(c.Int64)))
	row("8/16-bit storage", fmt.Sprintf("%s / %s", yes(c.Storage8), yes(c.Storage16)))
	row("cooperative matrix", yes(c.CooperativeMatrix))
	row("timestamps", fmt.Sprintf("%d bits, %.3g ns/tick", c.TimestampBits, c.TimestampPeriodNs))
	if c.CPUThreads != "" {
		row("CPU threads", c.CPUThreads)
	}
	w.Flush()
}
