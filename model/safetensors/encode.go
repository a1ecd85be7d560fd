// Encode and Write: serialize a File, and replace a file on disk atomically.

package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/vkclr/vkclr/internal/diskio"
)

// order returns f's tensors in the reference writer's data order: descending
// dtype alignment, then name. Keeping wide types first keeps every tensor
// aligned to its element size once the header is padded to 8 bytes.
func (f *File) order() ([]*Tensor, error) {
	for k, v := range f.Metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, &FormatError{Msg: fmt.Sprintf("metadata %q: %q is not UTF-8; JSON cannot hold it", k, v)}
		}
	}
	ts := make([]*Tensor, 0, len(f.Tensors))
	for name, t := range f.Tensors {
		if t == nil {
			return nil, &FormatError{Tensor: name, Msg: "tensor is nil"}
		}
		if t.Name != name {
			return nil, &FormatError{Tensor: name, Msg: fmt.Sprintf(
				"is stored under key %q but named %q; add tensors with File.Add", name, t.Name)}
		}
		if name == metadataKey || name == "" || !utf8.ValidString(name) {
			return nil, &FormatError{Tensor: name, Msg: "name is reserved, empty or not UTF-8; rename the tensor"}
		}
		if err := t.check(); err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *Tensor) int {
		return cmp.Or(
			cmp.Compare(dtypeInfo[b.DType].rank, dtypeInfo[a.DType].rank),
			cmp.Compare(a.Name, b.Name))
	})
	return ts, nil
}

// header builds the padded JSON header for tensors in data order. It is
// written by hand because encoding/json sorts map keys, and the reference
// writer puts "__metadata__" first and tensors in data order.
func header(ts []*Tensor, meta map[string]string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	if len(meta) > 0 {
		b.WriteString(`"__metadata__":{`)
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, k)
			b.WriteByte(':')
			writeJSONString(&b, meta[k])
		}
		b.WriteByte('}')
	}
	off := 0
	for i, t := range ts {
		if i > 0 || len(meta) > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, t.Name)
		b.WriteString(`:{"dtype":`)
		writeJSONString(&b, t.DType)
		b.WriteString(`,"shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		b.WriteString(`],"data_offsets":[`)
		b.WriteString(strconv.Itoa(off))
		b.WriteByte(',')
		off += len(t.Data)
		b.WriteString(strconv.Itoa(off))
		b.WriteString("]}")
	}
	b.WriteByte('}')
	// Pad so the data area starts 8-byte aligned, as the reference does.
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes()
}

// writeJSONString writes s as a JSON string without HTML escaping, matching
// the reference writer for names like "a<b".
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // cannot fail for a string
	b.Truncate(b.Len() - 1) // drop Encode's newline
}

// Encode writes f to w in the safetensors format. It validates every tensor
// first, so an inconsistent File is reported before anything is written.
func Encode(w io.Writer, f *File) error {
	ts, err := f.order()
	if err != nil {
		return err
	}
	if err := encode(w, ts, f.Metadata); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// encode writes tensors already validated and in data order.
func encode(w io.Writer, ts []*Tensor, meta map[string]string) error {
	hdr := header(ts, meta)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(hdr)))
	if _, err := w.Write(n[:]); err != nil {
		return fmt.Errorf("write header length: %w", err)
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	for _, t := range ts {
		if _, err := w.Write(t.Data); err != nil {
			return fmt.Errorf("write tensor %q: %w", t.Name, err)
		}
	}
	return nil
}

// Write saves f to path atomically: it writes a temporary file in the same
// directory, syncs it, renames it over path and syncs the directory. A crash
// or error at any point leaves either the old file or the new one under path,
// never a partial file, and no temporary file behind on error.
func Write(path string, f *File) error {
	return writeFile(path, f, nil)
}

// writeFile is Write with a hook that wraps the data writer, so tests can
// make the write fail midway.
func writeFile(path string, f *File, wrap func(io.Writer) io.Writer) (err error) {
	// Validate before touching the disk so a bad File costs nothing.
	ts, err := f.order()
	if err != nil {
		return withPath(err, path)
	}
	err = diskio.WriteAtomic(path, func(w io.Writer) error {
		if wrap != nil {
			w = wrap(w)
		}
		return encode(w, ts, f.Metadata)
	})
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

func withPath(err error, path string) error {
	var fe *FormatError
	if errors.As(err, &fe) {
		fe.Path = path
	}
	return err
}
