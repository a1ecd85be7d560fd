// Package safetensors reads and writes the safetensors checkpoint format.
//
// A file is an 8-byte little-endian header length N, N bytes of JSON header
// (padded with spaces to a multiple of 8), then the raw little-endian tensor
// data. The header maps each tensor name to {dtype, shape, data_offsets}, with
// offsets relative to the start of the data area; the optional key
// "__metadata__" holds a string-to-string map. See
// https://github.com/huggingface/safetensors for the reference implementation.
//
// Use Write to save a checkpoint (atomically) and Read to load one; Decode and
// Encode work on bytes and streams.
package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/x448/float16"
)

// Data types written and read by this package, spelled as in the header.
const (
	DTypeBool = "BOOL"
	DTypeU8   = "U8"
	DTypeI8   = "I8"
	DTypeI16  = "I16"
	DTypeU16  = "U16"
	DTypeF16  = "F16"
	DTypeBF16 = "BF16"
	DTypeI32  = "I32"
	DTypeU32  = "U32"
	DTypeF32  = "F32"
	DTypeF64  = "F64"
	DTypeI64  = "I64"
	DTypeU64  = "U64"
)

// dtypeInfo gives each dtype's element size and its rank in the reference
// writer's ordering (ascending alignment), which Encode follows so a file with
// the same tensors comes out byte-identical to one written from Python.
var dtypeInfo = map[string]struct{ size, rank int }{
	DTypeBool: {1, 0},
	DTypeU8:   {1, 1},
	DTypeI8:   {1, 2},
	"F8_E5M2": {1, 3},
	"F8_E4M3": {1, 4},
	DTypeI16:  {2, 5},
	DTypeU16:  {2, 6},
	DTypeF16:  {2, 7},
	DTypeBF16: {2, 8},
	DTypeI32:  {4, 9},
	DTypeU32:  {4, 10},
	DTypeF32:  {4, 11},
	DTypeF64:  {8, 12},
	DTypeI64:  {8, 13},
	DTypeU64:  {8, 14},
}

// DTypeSize returns the size in bytes of one element of dtype, or 0 if this
// package does not know dtype.
func DTypeSize(dtype string) int { return dtypeInfo[dtype].size }

func knownDTypes() string {
	names := make([]string, 0, len(dtypeInfo))
	for k := range dtypeInfo {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Tensor is one named array: Data holds the elements in row-major order,
// little-endian, exactly as stored in the file.
type Tensor struct {
	Name  string
	DType string // "F32", "F64", "I64", "I32", "U8", "F16", "BF16", ...
	Shape []int  // empty for a scalar
	Data  []byte
}

// File is the content of one safetensors file. Tensors is keyed by name and
// each key must equal its tensor's Name. Metadata may be nil.
type File struct {
	Tensors  map[string]*Tensor
	Metadata map[string]string
}

// FormatError reports a malformed file or an inconsistent tensor. Path and
// Tensor are empty when unknown. Match it with errors.As.
type FormatError struct {
	Path   string // file name, set by Read
	Tensor string // tensor name, when the problem is one tensor's
	Msg    string
	Err    error // underlying cause, e.g. a JSON syntax error
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("safetensors: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Tensor != "" {
		fmt.Fprintf(&b, "tensor %q: ", e.Tensor)
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

// NewFile returns a File holding tensors; it panics on a duplicate name
// because that is a bug in the caller.
func NewFile(tensors ...*Tensor) *File {
	f := &File{Tensors: make(map[string]*Tensor, len(tensors))}
	for _, t := range tensors {
		f.Add(t)
	}
	return f
}

// Add puts t into f under t.Name; it panics if the name is already taken.
func (f *File) Add(t *Tensor) {
	if f.Tensors == nil {
		f.Tensors = make(map[string]*Tensor)
	}
	if _, dup := f.Tensors[t.Name]; dup {
		panic(fmt.Sprintf("safetensors: tensor %q added twice", t.Name))
	}
	f.Tensors[t.Name] = t
}

// Names returns the tensor names in sorted order.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Tensors))
	for k := range f.Tensors {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Tensor returns the tensor called name, or an error listing what the file
// holds so a misspelt parameter name is easy to spot.
func (f *File) Tensor(name string) (*Tensor, error) {
	if t, ok := f.Tensors[name]; ok {
		return t, nil
	}
	names := f.Names()
	if len(names) > 20 {
		names = append(names[:20], "...")
	}
	return nil, fmt.Errorf("safetensors: no tensor %q; the file holds %d tensors: %s",
		name, len(f.Tensors), strings.Join(names, ", "))
}

// NumElements returns the product of shape (1 for a scalar), or -1 if a
// dimension is negative or the product overflows an int.
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		if d != 0 && n > math.MaxInt/d {
			return -1
		}
		n *= d
	}
	return n
}

// check reports whether t is self-consistent: known dtype, and Data as long
// as shape and dtype say.
func (t *Tensor) check() error {
	size := DTypeSize(t.DType)
	if size == 0 {
		return &FormatError{Tensor: t.Name, Msg: fmt.Sprintf("unknown dtype %q; use one of %s", t.DType, knownDTypes())}
	}
	n := NumElements(t.Shape)
	if n < 0 || n > math.MaxInt/size {
		return &FormatError{Tensor: t.Name, Msg: fmt.Sprintf("shape %v is negative or too large", t.Shape)}
	}
	if len(t.Data) != n*size {
		return &FormatError{Tensor: t.Name, Msg: fmt.Sprintf(
			"shape %v of %s needs %d bytes (%d elements x %d) but the tensor has %d bytes; fix the shape or the data",
			t.Shape, t.DType, n*size, n, size, len(t.Data))}
	}
	return nil
}

// F32 returns a float32 tensor holding a little-endian copy of v. It panics if
// len(v) does not match shape, a bug in the caller.
func F32(name string, shape []int, v []float32) *Tensor {
	mustLen(name, shape, len(v))
	data := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(x))
	}
	return &Tensor{Name: name, DType: DTypeF32, Shape: slices.Clone(shape), Data: data}
}

// I64 returns an int64 tensor holding a little-endian copy of v. It panics if
// len(v) does not match shape, a bug in the caller.
func I64(name string, shape []int, v []int64) *Tensor {
	mustLen(name, shape, len(v))
	data := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(data[8*i:], uint64(x))
	}
	return &Tensor{Name: name, DType: DTypeI64, Shape: slices.Clone(shape), Data: data}
}

func mustLen(name string, shape []int, n int) {
	if want := NumElements(shape); want != n {
		panic(fmt.Sprintf("safetensors: tensor %q: shape %v holds %d elements, got %d values", name, shape, want, n))
	}
}

// Float32s decodes the elements as float32, converting from F16, BF16 and F64
// (rounding to nearest). Other dtypes are an error.
func (t *Tensor) Float32s() ([]float32, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	d := t.Data
	var out []float32
	switch t.DType {
	case DTypeF32:
		out = make([]float32, len(d)/4)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(d[4*i:]))
		}
	case DTypeF64:
		out = make([]float32, len(d)/8)
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(d[8*i:])))
		}
	case DTypeF16:
		out = make([]float32, len(d)/2)
		for i := range out {
			out[i] = float16.Frombits(le.Uint16(d[2*i:])).Float32()
		}
	case DTypeBF16:
		// bfloat16 is the top half of a float32.
		out = make([]float32, len(d)/2)
		for i := range out {
			out[i] = math.Float32frombits(uint32(le.Uint16(d[2*i:])) << 16)
		}
	default:
		return nil, fmt.Errorf("safetensors: tensor %q: cannot read %s as float32; use Int64s for integer tensors", t.Name, t.DType)
	}
	return out, nil
}

// Int64s decodes the elements of an integer or BOOL tensor as int64. A U64
// value above MaxInt64 is an error rather than a silent wrap.
func (t *Tensor) Int64s() ([]int64, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	d := t.Data
	size := DTypeSize(t.DType)
	out := make([]int64, len(d)/size)
	for i := range out {
		switch t.DType {
		case DTypeBool, DTypeU8:
			out[i] = int64(d[i])
		case DTypeI8:
			out[i] = int64(int8(d[i]))
		case DTypeI16:
			out[i] = int64(int16(le.Uint16(d[2*i:])))
		case DTypeU16:
			out[i] = int64(le.Uint16(d[2*i:]))
		case DTypeI32:
			out[i] = int64(int32(le.Uint32(d[4*i:])))
		case DTypeU32:
			out[i] = int64(le.Uint32(d[4*i:]))
		case DTypeI64:
			out[i] = int64(le.Uint64(d[8*i:]))
		case DTypeU64:
			u := le.Uint64(d[8*i:])
			if u > math.MaxInt64 {
				return nil, fmt.Errorf("safetensors: tensor %q: element %d = %d does not fit in int64", t.Name, i, u)
			}
			out[i] = int64(u)
		default:
			return nil, fmt.Errorf("safetensors: tensor %q: cannot read %s as int64; use Float32s for float tensors", t.Name, t.DType)
		}
	}
	return out, nil
}
