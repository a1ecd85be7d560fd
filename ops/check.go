// The shared GPU-against-CPU check: every op contributes table rows (Case)
// that `go test ./ops` and `vkclr selftest` both run through Check.
package ops

import (
	"fmt"
	"math"
	"math/rand"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/vkclr/vkclr/vk"
)

// Tol is a row's tolerance: per element |got-want| <= Atol + Rtol*|want|,
// and the normalized error ||got-want|| / ||want|| <= Nerr (0: unchecked).
// Why says where the error comes from (summation order, fused multiply-add,
// exp approximations).
type Tol struct {
	Atol, Rtol, Nerr float64
	Why              string
}

// Buf is one buffer an op touches. Data is its initial contents (nil for a
// pure output, which starts as NaN so an unwritten element fails); Ints are
// raw int32 contents (labels, tables), never compared; Check compares it.
// Delta compares the change from Data (got-Data against want-Data) instead:
// an optimizer's update is small beside the parameters it moves, and a wrong
// term in it would hide in the parameters' tolerance.
type Buf struct {
	Name  string
	N     int
	Data  []float32
	Ints  []int32
	Check bool
	Delta bool
}

// In, Out, InOut and Ints build Bufs.
func In(name string, data []float32) Buf { return Buf{Name: name, N: len(data), Data: data} }
func Out(name string, n int) Buf         { return Buf{Name: name, N: n, Check: true} }
func InOut(name string, data []float32) Buf {
	return Buf{Name: name, N: len(data), Data: data, Check: true}
}
func Ints(name string, v []int32) Buf { return Buf{Name: name, N: len(v), Ints: v} }

// Updated is an InOut compared by its change (Buf.Delta).
func Updated(name string, data []float32) Buf {
	return Buf{Name: name, N: len(data), Data: data, Check: true, Delta: true}
}

// Case is one row: the buffers, the GPU recording (b[i] binds Bufs[i]) and
// the CPU reference, which updates the float buffers in place.
type Case struct {
	Op, Name string
	Bufs     []Buf
	GPU      func(k *Kernels, s *vk.Seq, b []vk.Binding)
	Ref      func(b [][]float32, ib [][]int32)
	Tol      Tol
}

// Result is the outcome of one Case on one device.
type Result struct {
	Op, Case, Variant string
	MaxErr, NormErr   float64 // largest |got-want| and the normalized error
	Time              time.Duration
	Err               error
}

var caseMakers []func() []Case

// registerCases adds an op's rows; call it from init. Makers run lazily so
// programs that never check pay nothing.
func registerCases(f func() []Case) { caseMakers = append(caseMakers, f) }

// Cases returns every registered row, sorted by op (stable within an op).
func Cases() []Case {
	var all []Case
	for _, f := range caseMakers {
		all = append(all, f()...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Op < all[j].Op })
	return all
}

// guard is the number of float32s around every buffer, filled with a
// sentinel: an out-of-bounds write changes them. 64 floats = 256 bytes keeps
// bindings aligned on every device.
const guard = 64

const sentinel = 0x7fc0dead // a NaN payload nothing computes

// Check runs one row on k's device and compares it with the reference.
func Check(k *Kernels, c Case) (res Result) {
	res = Result{Op: c.Op, Case: c.Name, Variant: k.Variant}
	ctx := k.Ctx
	binds := make([]vk.Binding, len(c.Bufs))
	bufs := make([]*vk.Buffer, len(c.Bufs))
	defer func() {
		for _, b := range bufs {
			b.Release()
		}
	}()
	for i, b := range c.Bufs {
		buf, err := ctx.NewBuffer(uint64(4 * (b.N + 2*guard)))
		if err != nil {
			res.Err = err
			return
		}
		bufs[i] = buf
		init := make([]uint32, b.N+2*guard)
		for j := range init {
			init[j] = sentinel
		}
		switch {
		case b.Ints != nil:
			for j, v := range b.Ints {
				init[guard+j] = uint32(v)
			}
		case b.Data != nil:
			for j, v := range b.Data {
				init[guard+j] = math.Float32bits(v)
			}
		default:
			for j := 0; j < b.N; j++ {
				init[guard+j] = math.Float32bits(float32(math.NaN()))
			}
		}
		if err := ctx.Upload(buf.All(), u32bytes(init)); err != nil {
			res.Err = err
			return
		}
		binds[i] = F32(buf, guard, max(b.N, 1))
	}
	before := vk.ValidationMessages()
	t0 := time.Now()
	if err := ctx.Run(func(s *vk.Seq) { c.GPU(k, s, binds) }); err != nil {
		res.Err = err
		return
	}
	res.Time = time.Since(t0)
	if n := vk.ValidationMessages() - before; n != 0 {
		res.Err = fmt.Errorf("%d validation message(s)", n)
		return
	}
	want := make([][]float32, len(c.Bufs))
	iw := make([][]int32, len(c.Bufs))
	for i, b := range c.Bufs {
		if b.Ints != nil {
			iw[i] = b.Ints
			continue
		}
		want[i] = make([]float32, b.N)
		if b.Data != nil {
			copy(want[i], b.Data)
		}
	}
	c.Ref(want, iw)
	var errs []string
	for i, b := range c.Bufs {
		raw := make([]uint32, b.N+2*guard)
		if err := ctx.Download(u32bytes(raw), bufs[i].All()); err != nil {
			res.Err = err
			return
		}
		for j := 0; j < guard; j++ {
			if raw[j] != sentinel || raw[guard+b.N+j] != sentinel {
				res.Err = fmt.Errorf("%s: write outside the buffer (guard element %d)", b.Name, j)
				return
			}
		}
		if !b.Check {
			continue
		}
		got := make([]float32, b.N)
		for j := range got {
			got[j] = math.Float32frombits(raw[guard+j])
		}
		if b.Delta {
			got, want[i] = delta(got, b.Data), delta(want[i], b.Data)
		}
		maxErr, normErr, err := Compare(got, want[i], c.Tol)
		res.MaxErr = max(res.MaxErr, maxErr)
		res.NormErr = max(res.NormErr, normErr)
		if err != nil {
			errs = append(errs, b.Name+": "+err.Error())
		}
	}
	if len(errs) > 0 {
		res.Err = fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return
}

// Compare checks got against want under tl and returns the largest absolute
// error and the normalized error. A non-finite value on either side must be
// matched exactly by class (NaN by NaN, +Inf by +Inf, -Inf by -Inf), and is
// left out of both errors.
func Compare(got, want []float32, tl Tol) (maxErr, normErr float64, err error) {
	var num, den float64
	bad, first := 0, ""
	for j := range want {
		g, w := float64(got[j]), float64(want[j])
		if gc, wc := finiteClass(g), finiteClass(w); gc != 0 || wc != 0 {
			if gc != wc {
				return math.Inf(1), math.Inf(1), fmt.Errorf("element %d: got %v, want %v", j, g, w)
			}
			continue
		}
		d := math.Abs(g - w)
		maxErr = max(maxErr, d)
		num += d * d
		den += w * w
		if d > tl.Atol+tl.Rtol*math.Abs(w) {
			if bad == 0 {
				first = fmt.Sprintf("element %d: got %.9g, want %.9g (|diff| %.3g > %.3g)", j, g, w, d, tl.Atol+tl.Rtol*math.Abs(w))
			}
			bad++
		}
	}
	if den > 0 {
		normErr = math.Sqrt(num / den)
	}
	if bad > 0 {
		return maxErr, normErr, fmt.Errorf("%d of %d elements outside tolerance, first %s (tolerance: %s)", bad, len(want), first, tl.Why)
	}
	if tl.Nerr > 0 && normErr > tl.Nerr {
		return maxErr, normErr, fmt.Errorf("normalized error %.3g > %.3g (%s)", normErr, tl.Nerr, tl.Why)
	}
	return maxErr, normErr, nil
}

// delta is x - from, each difference exact in float64 and rounded once.
func delta(x, from []float32) []float32 {
	d := make([]float32, len(x))
	for j := range x {
		d[j] = float32(float64(x[j]) - float64(from[j]))
	}
	return d
}

// finiteClass is 0 for a finite x, 1 for NaN, 2 for +Inf, 3 for -Inf.
func finiteClass(x float64) int {
	switch {
	case math.IsNaN(x):
		return 1
	case math.IsInf(x, 1):
		return 2
	case math.IsInf(x, -1):
		return 3
	}
	return 0
}

func u32bytes(v []uint32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
}

// Randn returns n seeded standard-normal float32s.
func Randn(n int, seed int64) []float32 {
	r := rand.New(rand.NewSource(seed))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}
