// Fuzz target for Decode: no input may panic, and whatever decodes must
// survive an encode/decode round trip unchanged.

package safetensors

import (
	"bytes"
	"testing"
)

func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	if err := Encode(&buf, sampleFile()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(file("{}      "))
	f.Add(file(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32le(1, 2)...))
	f.Add(file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32le(1, 2)...))
	f.Add(file(`{"__metadata__":{"k":"v"},"e":{"dtype":"BF16","shape":[0],"data_offsets":[0,0]}}`))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decode(b)
		if err != nil {
			if !errIsFormat(err) {
				t.Fatalf("Decode error %v (%T) is not a *FormatError", err, err)
			}
			return
		}
		var out bytes.Buffer
		if err := Encode(&out, got); err != nil {
			t.Fatalf("re-encoding a decoded file: %v", err)
		}
		again, err := Decode(out.Bytes())
		if err != nil {
			t.Fatalf("decoding a re-encoded file: %v\n%q", err, out.Bytes())
		}
		assertSameFile(t, again, got)
		for _, tn := range got.Tensors {
			tn.Float32s()
			tn.Int64s()
		}
	})
}
