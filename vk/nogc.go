// nogc.go holds the garbage collector off around binding calls whose C copies
// the binding frees from a finalizer.
package vk

import (
	"runtime/debug"
	"sync"
)

// vulkan-go's unpackArgS* helpers (struct slices: vkCreateComputePipelines'
// create infos, vkUpdateDescriptorSets' writes, vkQueueSubmit's submit infos,
// vkCmdPipelineBarrier's barriers) copy the slice into C memory and free it
// from a finalizer set on a temporary that is unreachable as soon as the
// helper returns. A collection during the C call can therefore free the
// memory the driver is reading, and its PassRef copies point at Go slices that
// nothing else keeps alive. Seen under load as corrupted pipeline flags and
// segfaults inside vkUpdateDescriptorSets and vkCreateComputePipelines.
// debug.SetGCPercent(-1) waits for a running mark phase to finish and starts
// no new cycle, so nothing allocated inside f is collected before f returns.
var gcHold struct {
	sync.Mutex
	depth int
	saved int
}

// withoutGC runs f with the collector off. Calls nest and may come from
// several goroutines; the setting in force before the outermost call returns
// afterwards. Use it only around short set-up calls, not around waits.
func withoutGC(f func()) {
	gcHold.Lock()
	if gcHold.depth == 0 {
		gcHold.saved = debug.SetGCPercent(-1)
	}
	gcHold.depth++
	gcHold.Unlock()
	defer func() {
		gcHold.Lock()
		gcHold.depth--
		if gcHold.depth == 0 {
			debug.SetGCPercent(gcHold.saved)
		}
		gcHold.Unlock()
	}()
	f()
}
