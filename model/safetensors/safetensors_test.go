// Tests: spec byte vectors, round trips, malformed files, atomic writes.

package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// file assembles a safetensors file by hand: length, header, data.
func file(header string, data ...byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// padded appends the spaces that make a header a multiple of 8 bytes long.
func padded(h string) string { return h + strings.Repeat(" ", (8-len(h)%8)%8) }

// f32le is the little-endian encoding of v.
func f32le(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// TestEncodeMatchesSpec checks Encode against byte strings assembled by hand
// from the format description and the reference writer's rules (compact
// JSON, "__metadata__" first, tensors by descending dtype then name, header
// padded with spaces to 8 bytes).
func TestEncodeMatchesSpec(t *testing.T) {
	cases := []struct {
		name string
		f    *File
		want []byte
	}{
		{
			name: "no tensors",
			f:    NewFile(),
			want: file("{}      "),
		},
		{
			name: "metadata only",
			f:    &File{Metadata: map[string]string{"framework": "pt"}},
			want: file(`{"__metadata__":{"framework":"pt"}}     `),
		},
		{
			name: "header exactly 64 bytes needs no padding",
			f:    NewFile(F32("attn.0", []int{1, 2, 3}, []float32{0, 1, 2, 3, 4, 5})),
			want: file(`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`,
				f32le(0, 1, 2, 3, 4, 5)...),
		},
		{
			name: "65-byte header padded to 72",
			f:    NewFile(F32("attn0", []int{1, 1, 2, 3}, []float32{0, 1, 2, 3, 4, 5})),
			want: file(`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `,
				f32le(0, 1, 2, 3, 4, 5)...),
		},
		{
			name: "wide dtypes first, then by name; scalar and empty tensors",
			f: NewFile(
				&Tensor{Name: "c", DType: DTypeU8, Shape: []int{2}, Data: []byte{7, 8}},
				F32("b", []int{}, []float32{2}),
				F32("a", []int{0, 3}, nil),
				I64("step", []int{1}, []int64{-1}),
			),
			want: file(padded(`{"step":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},`+
				`"a":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]},`+
				`"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]},`+
				`"c":{"dtype":"U8","shape":[2],"data_offsets":[12,14]}}`),
				slices.Concat(bytes.Repeat([]byte{0xff}, 8), f32le(2), []byte{7, 8})...),
		},
		{
			name: "names are not HTML-escaped",
			f:    NewFile(&Tensor{Name: "a<b>&\"", DType: DTypeU8, Shape: []int{1}, Data: []byte{1}}),
			want: file(padded(`{"a<b>&\"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`), 1),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, c.f); err != nil {
				t.Fatal(err)
			}
			if got := buf.Bytes(); !bytes.Equal(got, c.want) {
				t.Fatalf("Encode:\n got %q\nwant %q", got, c.want)
			}
			// And the hand-made bytes decode to the same tensors.
			back, err := Decode(c.want)
			if err != nil {
				t.Fatal(err)
			}
			assertSameFile(t, back, c.f)
		})
	}
}

func assertSameFile(t *testing.T, got, want *File) {
	t.Helper()
	if !slices.Equal(got.Names(), want.Names()) {
		t.Fatalf("names: got %v, want %v", got.Names(), want.Names())
	}
	if len(got.Metadata)+len(want.Metadata) > 0 && !mapsEqual(got.Metadata, want.Metadata) {
		t.Errorf("metadata: got %v, want %v", got.Metadata, want.Metadata)
	}
	for _, name := range want.Names() {
		g, w := got.Tensors[name], want.Tensors[name]
		if g.Name != w.Name || g.DType != w.DType || !slices.Equal(g.Shape, w.Shape) || !bytes.Equal(g.Data, w.Data) {
			t.Errorf("tensor %q: got %s %v %x, want %s %v %x", name, g.DType, g.Shape, g.Data, w.DType, w.Shape, w.Data)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// sampleFile holds one tensor of each common dtype, with awkward values.
func sampleFile() *File {
	w := []float32{0, -0, 1, -1.5, math.MaxFloat32, math.SmallestNonzeroFloat32,
		float32(math.Inf(1)), float32(math.Inf(-1)), 3.14159, math.Float32frombits(0x7fc00001)}
	le := binary.LittleEndian
	var f64, f16, bf16, i32 []byte
	for _, x := range []float64{1e-300, -2.5, math.Pi} {
		f64 = le.AppendUint64(f64, math.Float64bits(x))
	}
	for _, h := range []uint16{0x3c00, 0xc000, 0x3800, 0x7bff} { // 1, -2, 0.5, 65504
		f16 = le.AppendUint16(f16, h)
	}
	for _, h := range []uint16{0x3f80, 0xc040} { // 1, -3
		bf16 = le.AppendUint16(bf16, h)
	}
	for _, x := range []int32{math.MinInt32, 0, 42} {
		i32 = le.AppendUint32(i32, uint32(x))
	}
	f := NewFile(
		F32("conv1.weight", []int{2, 5}, w),
		F32("fc.bias", []int{0}, nil),
		I64("step", nil, []int64{math.MaxInt64}),
		&Tensor{Name: "f64", DType: DTypeF64, Shape: []int{3}, Data: f64},
		&Tensor{Name: "f16", DType: DTypeF16, Shape: []int{2, 2}, Data: f16},
		&Tensor{Name: "bf16", DType: DTypeBF16, Shape: []int{2}, Data: bf16},
		&Tensor{Name: "i32", DType: DTypeI32, Shape: []int{3}, Data: i32},
		&Tensor{Name: "u8", DType: DTypeU8, Shape: []int{1, 5}, Data: []byte{0, 1, 2, 254, 255}},
	)
	f.Metadata = map[string]string{"format": "pt", "epoch": "12", "note": "ünïcode \"quoted\""}
	return f
}

func TestRoundTripBitIdentical(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	want := sampleFile()
	if err := Write(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameFile(t, got, want)

	// Writing what was read gives the same bytes.
	path2 := filepath.Join(dir, "again.safetensors")
	if err := Write(path2, got); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(path)
	b2, _ := os.ReadFile(path2)
	if !bytes.Equal(b1, b2) {
		t.Fatalf("rewrite differs:\n%q\n%q", b1, b2)
	}

	// Values survive too, NaN payloads and signed zeros included.
	w, _ := want.Tensors["conv1.weight"].Float32s()
	g, err := got.Tensors["conv1.weight"].Float32s()
	if err != nil {
		t.Fatal(err)
	}
	for i := range w {
		if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
			t.Errorf("conv1.weight[%d]: got %v, want %v", i, g[i], w[i])
		}
	}
	if n, _ := got.Tensors["step"].Int64s(); len(n) != 1 || n[0] != math.MaxInt64 {
		t.Errorf("step: got %v, want [%d]", n, int64(math.MaxInt64))
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("mode: got %v, %v; want 0644", info.Mode(), err)
	}
}

func TestFloat32s(t *testing.T) {
	f := sampleFile()
	cases := []struct {
		tensor string
		want   []float32
	}{
		{"f64", []float32{float32(1e-300), -2.5, math.Pi}},
		{"f16", []float32{1, -2, 0.5, 65504}},
		{"bf16", []float32{1, -3}},
		{"fc.bias", []float32{}},
	}
	for _, c := range cases {
		t.Run(c.tensor, func(t *testing.T) {
			got, err := f.Tensors[c.tensor].Float32s()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	if _, err := f.Tensors["i32"].Float32s(); err == nil || !strings.Contains(err.Error(), "Int64s") {
		t.Errorf("Float32s of I32: got %v, want an error pointing to Int64s", err)
	}
}

func TestInt64s(t *testing.T) {
	f := sampleFile()
	cases := []struct {
		tensor string
		want   []int64
	}{
		{"i32", []int64{math.MinInt32, 0, 42}},
		{"u8", []int64{0, 1, 2, 254, 255}},
		{"step", []int64{math.MaxInt64}},
	}
	for _, c := range cases {
		t.Run(c.tensor, func(t *testing.T) {
			got, err := f.Tensors[c.tensor].Int64s()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	big := &Tensor{Name: "u", DType: DTypeU64, Shape: []int{1}, Data: bytes.Repeat([]byte{0xff}, 8)}
	if _, err := big.Int64s(); err == nil {
		t.Error("U64 above MaxInt64: got no error")
	}
}

func TestDecodeErrors(t *testing.T) {
	good := `{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	valid := file(good, f32le(1, 2)...)
	cases := []struct {
		name string
		in   []byte
		want []string // substrings of the error
	}{
		{"empty", nil, []string{"shorter than the 8-byte header length"}},
		{"header length beyond file", file(good)[:20], []string{"runs past the end", "truncated"}},
		{"huge header length", binary.LittleEndian.AppendUint64(nil, 1<<40), []string{"exceeds"}},
		{"truncated data", valid[:len(valid)-1], []string{`tensor "w"`, "truncated"}},
		{"trailing bytes", append(slices.Clone(valid), 0), []string{"cover 8 bytes but the data area has 9"}},
		{"bad JSON", file(`{"w":{"dtype":"F32",`), []string{"not valid JSON"}},
		{"not an object", file(`[1,2]`), []string{"not a JSON object"}},
		{"not UTF-8", file("{\"\xff\":1}"), []string{"UTF-8"}},
		{"entry not an object", file(`{"w":3}`), []string{`tensor "w"`, "not {dtype, shape, data_offsets}"}},
		{"missing offsets", file(`{"w":{"dtype":"F32","shape":[]}}`, f32le(1)...), []string{`tensor "w"`, "lacks"}},
		{"unknown dtype", file(`{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}`, f32le(1)...),
			[]string{`tensor "w"`, `unknown dtype "F33"`}},
		{"shape size mismatch", file(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32le(1, 2)...),
			[]string{`tensor "w"`, "shape [3] of F32 needs 12 bytes", "has 8 bytes"}},
		{"negative dimension", file(`{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f32le(1, 2)...),
			[]string{`tensor "w"`, "negative or too large"}},
		{"overflowing shape", file(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, f32le(1, 2)...),
			[]string{`tensor "w"`, "too large"}},
		{"reversed offsets", file(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, f32le(1, 2)...),
			[]string{`tensor "w"`, "0 <= begin <= end"}},
		{"three offsets", file(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}`, f32le(1, 2)...),
			[]string{"[begin, end]"}},
		{"offsets past end", file(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32le(1, 2)...),
			[]string{`tensor "w"`, "run past the end"}},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32le(1, 2)...),
			[]string{`tensor "b"`, "overlaps", `tensor "a" ends at byte 8`}},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32le(1, 2)...),
			[]string{`tensor "a"`, "gap"}},
		{"metadata not strings", file(`{"__metadata__":{"epoch":3}}`), []string{`"__metadata__" must map strings to strings`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Decode(c.in)
			if err == nil {
				t.Fatalf("got no error, file %+v", f)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("error %v (%T) is not a *FormatError", err, err)
			}
			for _, s := range c.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

func TestReadErrorNamesFileAndTensor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	bad := file(`{"layer1.weight":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32le(1, 2)...)
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Read(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"layer1.weight"`) {
		t.Fatalf("got %v, want an error naming %s and layer1.weight", err, path)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want os.ErrNotExist", err)
	}
}

// failAfter is a writer that fails once n bytes have been written.
type failAfter struct {
	w io.Writer
	n int
}

var errInjected = errors.New("injected write failure")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n, _ := f.w.Write(p[:f.n])
		f.n = 0
		return n, errInjected
	}
	f.n -= len(p)
	return f.w.Write(p)
}

func TestWriteFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	old := NewFile(F32("w", []int{2}, []float32{1, 2}))
	if err := Write(path, old); err != nil {
		t.Fatal(err)
	}
	oldBytes, _ := os.ReadFile(path)
	// A bigger file whose write fails in the middle of a tensor.
	big := NewFile(F32("w", []int{1000}, make([]float32, 1000)))

	cases := []struct {
		name string
		f    *File
		wrap func(io.Writer) io.Writer
		want string
	}{
		{"write fails mid-tensor", big, func(w io.Writer) io.Writer { return &failAfter{w, 2000} }, `write tensor "w"`},
		{"write fails in header", big, func(w io.Writer) io.Writer { return &failAfter{w, 3} }, "header length"},
		{"shape mismatch", NewFile(&Tensor{Name: "w", DType: DTypeF32, Shape: []int{3}, Data: f32le(1)}), nil, "needs 12 bytes"},
		{"key differs from name", &File{Tensors: map[string]*Tensor{"a": F32("b", nil, []float32{1})}}, nil, "add tensors with File.Add"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := writeFile(path, c.f, c.wrap)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %v, want an error naming %s and containing %q", err, path, c.want)
			}
			if c.wrap != nil && !errors.Is(err, errInjected) {
				t.Errorf("error %v does not wrap the writer's error", err)
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, oldBytes) {
				t.Errorf("old file changed")
			}
			assertOnlyFile(t, dir, "ckpt.safetensors")
		})
	}
}

func TestWriteReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write to a read-only directory")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	if err := Write(path, sampleFile()); err != nil {
		t.Fatal(err)
	}
	oldBytes, _ := os.ReadFile(path)
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	err := Write(path, NewFile())
	if err == nil || !strings.Contains(err.Error(), "writable") {
		t.Fatalf("got %v, want an error about the directory", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, oldBytes) {
		t.Errorf("old file changed")
	}
	assertOnlyFile(t, dir, "ckpt.safetensors")
}

func TestWriteNoTempLeft(t *testing.T) {
	dir := t.TempDir()
	for range 3 {
		if err := Write(filepath.Join(dir, "m.safetensors"), sampleFile()); err != nil {
			t.Fatal(err)
		}
	}
	assertOnlyFile(t, dir, "m.safetensors")
}

func assertOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{name}) {
		t.Errorf("directory holds %v, want only %s", names, name)
	}
}

func TestHelpersPanicOnWrongLength(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "holds 6 elements, got 5") {
			t.Errorf("got panic %v", r)
		}
	}()
	F32("w", []int{2, 3}, make([]float32, 5))
}

func TestFileTensorLookup(t *testing.T) {
	f := sampleFile()
	if _, err := f.Tensor("conv1.weight"); err != nil {
		t.Fatal(err)
	}
	_, err := f.Tensor("conv1.wieght")
	if err == nil || !strings.Contains(err.Error(), "conv1.weight") {
		t.Fatalf("got %v, want an error listing conv1.weight", err)
	}
}

func BenchmarkDecode(b *testing.B) {
	// About the size of a ResNet-18: 11M float32 parameters in 60 tensors.
	f := NewFile()
	for i := range 60 {
		f.Add(F32(string(rune('A'+i)), []int{180000}, make([]float32, 180000)))
	}
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := Decode(buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}

func errIsFormat(err error) bool {
	var fe *FormatError
	return errors.As(err, &fe)
}
