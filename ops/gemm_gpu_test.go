// Tests of the gpu variant's GEMM-core configurations (gemm_gpu.go).
package ops

import (
	"math"
	"testing"

	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/vk"
)

// TestGPUNarrowBlocksMatchSquare: the gpu variant's narrow blocks (gpuLocalNarrow: 256 x 32 and
// 128 x 64) give every output the same products in the same order as the 128 x 128 block (each
// thread walks k in order whatever the block or BK), so forward, backward data and grad weight come
// out bit-identical either way. Output widths 13, 32, 40 and 64 cut the narrow blocks at their edge and
// fill them; 16 x 9 x 7 = 1008 output rows cut the 256-row block, and 9 x 40 = 360 grad-weight rows
// too. Grad weight's split over pixels follows the block (weightChunks), and the partials' sum order
// with it, so these shapes are ones it reduces in one chunk with either block (checked).
func TestGPUNarrowBlocksMatchSquare(t *testing.T) {
	k := kernels(t, "gpu")
	if !narrowOK(&k.Ctx.Caps) {
		t.Skipf("%s has no 256-invocation workgroups 32 high: no narrow blocks", k.Ctx.Caps.Name)
	}
	for _, base := range []string{"conv2d_fwd", "conv2d_bwd_data", "conv2d_bwd_weight"} {
		if k.gpuConvPipe(base, 32) == k.pipe(base+"_gpu") || k.gpuConvPipe(base, 64) == k.pipe(base+"_gpu") {
			t.Fatalf("gpuConvPipe does not pick the narrow blocks for %s", base)
		}
	}
	shapes := []ref.Conv2D{
		{N: 16, H: 9, W: 7, C: 13, K: 13, R: 3, S: 3, Stride: 1, Pad: 1},
		{N: 16, H: 9, W: 7, C: 32, K: 40, R: 3, S: 3, Stride: 1, Pad: 1},
		{N: 5, H: 12, W: 12, C: 64, K: 64, R: 3, S: 3, Stride: 2, Pad: 1},
		{N: 3, H: 10, W: 10, C: 40, K: 32, R: 1, S: 1, Stride: 1, Pad: 0},
	}
	defer func() { k.Square = false }() // the other tests share k
	for _, p := range shapes {
		nx, nw, ny := p.N*p.H*p.W*p.C, p.R*p.S*p.C*p.K, p.N*p.P()*p.Q()*p.K
		var runs [2][][]uint32
		for r := range runs {
			k.Square = r == 1
			if k.Conv2DWeightScratch(p) != 0 {
				t.Fatalf("%+v: grad weight takes more than one chunk (square %v): not comparable bit for bit", p, k.Square)
			}
			runs[r] = runOnce(t, k, [][]float32{Randn(nx, 1), Randn(nw, 2), Randn(ny, 3)}, nil, []int{ny, nx, nw},
				func(k *Kernels, s *vk.Seq, in, out []vk.Binding, _ vk.Binding) {
					k.Conv2DForward(s, p, in[0], in[1], out[0])
					k.Conv2DBackwardData(s, p, in[2], in[1], out[1])
					k.Conv2DBackwardWeight(s, p, in[0], in[2], out[2], vk.Binding{})
				})
		}
		for i, name := range []string{"y", "dx", "dw"} {
			for j := range runs[0][i] {
				if runs[0][i][j] != runs[1][i][j] {
					t.Fatalf("%+v %s element %d: narrow %g, square %g", p, name, j,
						math.Float32frombits(runs[0][i][j]), math.Float32frombits(runs[1][i][j]))
				}
			}
		}
	}
}

// TestGPULocalNarrowFitsEveryDevice: the narrow blocks' specialization keeps its shared memory (two
// buffers of BK x (BM + BN) floats) within the device's, down to the 16 KiB Vulkan guarantees, and
// never gives a thread more than MAX_SLOTS = 4 loads a panel (gemm_gpu.glsl), nor more than two A
// loads (the regime lavapipe's tests run).
func TestGPULocalNarrowFitsEveryDevice(t *testing.T) {
	for _, shared := range []uint32{16 << 10, 32 << 10, 48 << 10, 64 << 10} {
		for _, small := range []bool{false, true} {
			c := &vk.Caps{SharedMemory: shared, MaxWorkgroupInvoc: 1024, MaxWorkgroupSize: [3]uint32{1024, 1024, 64}}
			if small {
				c.MaxWorkgroupInvoc, c.MaxWorkgroupSize = 128, [3]uint32{128, 128, 64}
			}
			for _, bn := range []uint32{32, 64} {
				sp := gpuLocalNarrow(bn)(c)
				wx, wy, bk, tm, tn := sp[0], sp[1], sp[3], sp[4], sp[5]
				BM, BN, nt := tm*wy, tn*wx, wx*wy
				if got := 8 * bk * (BM + BN); got > shared {
					t.Errorf("shared %d, narrow %d: %v takes %d bytes of shared memory", shared, bn, sp, got)
				}
				if nt > c.MaxWorkgroupInvoc || wy > c.MaxWorkgroupSize[1] {
					t.Errorf("shared %d, narrow %d, small %v: %v is a workgroup of %d x %d", shared, bn, small, sp, wx, wy)
				}
				if a, b := ceilDiv(int(BM*bk/4), int(nt)), ceilDiv(int(BN*bk/4), int(nt)); a > 2 || b > 4 {
					t.Errorf("shared %d, narrow %d: %v gives %d A and %d B loads a thread", shared, bn, sp, a, b)
				}
				if !small && shared >= 32<<10 && BN != bn {
					t.Errorf("shared %d: narrow %d built a block %d wide (%v)", shared, bn, BN, sp)
				}
			}
		}
	}
}

// TestGemmSplitShapes: the linear rows named _split (linearSplitShapes) split the reductions they
// say they split on the gpu variant of this device, so those rows test gemm_gpu's chunks and
// gemm_gpu_sum; the cpu variant never splits. The pipeline's block must be the 128 x 128 one at
// BK 16 those shapes were sized for.
func TestGemmSplitShapes(t *testing.T) {
	k := kernels(t, "gpu")
	if bm, bn, _ := gpuBlock(k.pipe("gemm_gpu")); bm != 128 || bn != 128 || k.pipe("gemm_gpu").Spec[3] != 16 {
		t.Skipf("%s: gemm_gpu block %dx%d at BK %d, not the 128 x 128 at BK 16 the shapes were sized for", k.Ctx.Caps.Name, bm, bn, k.pipe("gemm_gpu").Spec[3])
	}
	type split struct{ chunks, kChunk int }
	want := []map[string]split{
		{"fwd": {3, 80}, "dx": {1, 36}, "dw": {1, 70}},
		{"fwd": {1, 20}, "dx": {2, 80}, "dw": {2, 80}},
		{"fwd": {1, 40}, "dx": {1, 24}, "dw": {4, 80}},
	}
	for i, p := range linearSplitShapes {
		for dir, g := range map[string]gemm{"fwd": linearFwd(p), "dx": linearDx(p), "dw": linearDw(p)} {
			c, kc := k.gemmChunks(g)
			if got := (split{c, kc}); got != want[i][dir] {
				t.Errorf("%+v %s: %d chunks of %d, want %+v", p, dir, c, kc, want[i][dir])
			}
		}
		if n := k.LinearScratch(p); n == 0 {
			t.Errorf("%+v: no scratch: nothing splits", p)
		}
	}
	k.Whole = true // VKCLR_GPU_SPLIT=0
	c, _ := k.gemmChunks(linearFwd(linearSplitShapes[0]))
	n := k.LinearScratch(linearSplitShapes[0])
	k.Whole = false // the other tests share k
	if c != 1 || n != 0 {
		t.Errorf("Whole: %d chunks, scratch %d; want 1 and 0", c, n)
	}
	cpu := kernels(t, "cpu")
	if n := cpu.LinearScratch(linearSplitShapes[0]); n != 0 {
		t.Errorf("cpu variant: LinearScratch %d, want 0 (it never splits)", n)
	}
}
