// Decode and Read: parse and validate a safetensors file.

package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"unicode/utf8"
)

// maxHeaderSize is the reference implementation's limit; a larger length is
// almost surely a file that is not safetensors at all.
const maxHeaderSize = 100_000_000

const metadataKey = "__metadata__"

// headerEntry is one tensor's header record. Pointers tell a missing field
// from an empty one (a scalar has "shape": []).
type headerEntry struct {
	DType       *string `json:"dtype"`
	Shape       *[]int  `json:"shape"`
	DataOffsets *[]int  `json:"data_offsets"`
}

// Read loads and validates the safetensors file at path. Errors about the
// content are *FormatError values naming the file and, where it applies, the
// tensor.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := Decode(b)
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Path = path
		}
		return nil, err
	}
	return f, nil
}

// Decode parses and validates a whole safetensors file held in b. The
// tensors' Data slices alias b (no copy), so do not modify b afterwards.
//
// It checks what the reference reader checks: the header fits in b, is JSON,
// every tensor has a known dtype, its byte size matches dtype and shape, and
// the tensors tile the data area exactly, without gap or overlap.
func Decode(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, &FormatError{Msg: fmt.Sprintf(
			"file is %d bytes, shorter than the 8-byte header length; it is truncated or not a safetensors file", len(b))}
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeaderSize {
		return nil, &FormatError{Msg: fmt.Sprintf(
			"header length %d exceeds the %d-byte limit; this is not a safetensors file or its first 8 bytes are corrupt", n, maxHeaderSize)}
	}
	if n > uint64(len(b)-8) {
		return nil, &FormatError{Msg: fmt.Sprintf(
			"header length %d runs past the end of the %d-byte file; the file is truncated", n, len(b))}
	}
	hdr := b[8 : 8+n]
	data := b[8+n:]
	if !utf8.Valid(hdr) {
		return nil, &FormatError{Msg: "header is not valid UTF-8; the file is corrupt"}
	}
	// Padding is spaces after the object; JSON ignores trailing whitespace.
	if trimmed := bytes.TrimLeft(hdr, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, &FormatError{Msg: "header is not a JSON object; the file is corrupt or not safetensors"}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, &FormatError{Msg: "header is not valid JSON; the file is corrupt", Err: err}
	}

	f := &File{Tensors: make(map[string]*Tensor, len(raw))}
	type span struct {
		name       string
		begin, end int
	}
	spans := make([]span, 0, len(raw))
	for name, msg := range raw {
		if name == metadataKey {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, &FormatError{Msg: `"__metadata__" must map strings to strings`, Err: err}
			}
			continue
		}
		var e headerEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, &FormatError{Tensor: name, Msg: "header entry is not {dtype, shape, data_offsets}", Err: err}
		}
		if e.DType == nil || e.Shape == nil || e.DataOffsets == nil {
			return nil, &FormatError{Tensor: name, Msg: "header entry lacks dtype, shape or data_offsets"}
		}
		off := *e.DataOffsets
		if len(off) != 2 || off[0] < 0 || off[1] < off[0] {
			return nil, &FormatError{Tensor: name, Msg: fmt.Sprintf(
				"data_offsets %v must be [begin, end] with 0 <= begin <= end", off)}
		}
		t := &Tensor{Name: name, DType: *e.DType, Shape: *e.Shape}
		if off[1] > len(data) {
			return nil, &FormatError{Tensor: name, Msg: fmt.Sprintf(
				"data_offsets %v run past the end of the %d-byte data area; the file is truncated", off, len(data))}
		}
		// Cap the capacity so appending to one tensor cannot clobber the next.
		t.Data = data[off[0]:off[1]:off[1]]
		if err := t.check(); err != nil {
			return nil, err
		}
		f.Tensors[name] = t
		spans = append(spans, span{name, off[0], off[1]})
	}

	// The tensors must tile the data area: sorted by offset, each begins
	// where the previous one ended, and the last ends at the end of file.
	slices.SortFunc(spans, func(a, b span) int {
		if a.begin != b.begin {
			return a.begin - b.begin
		}
		return a.end - b.end
	})
	pos, prev := 0, ""
	for _, s := range spans {
		switch {
		case s.begin > pos:
			return nil, &FormatError{Tensor: s.name, Msg: fmt.Sprintf(
				"data starts at byte %d but %s, leaving a gap; the header is corrupt", s.begin, previousEnd(prev, pos))}
		case s.begin < pos:
			return nil, &FormatError{Tensor: s.name, Msg: fmt.Sprintf(
				"data [%d, %d) overlaps the previous tensor: %s; the header is corrupt", s.begin, s.end, previousEnd(prev, pos))}
		}
		pos, prev = s.end, s.name
	}
	if pos != len(data) {
		return nil, &FormatError{Msg: fmt.Sprintf(
			"tensors cover %d bytes but the data area has %d; the file has trailing bytes or a corrupt header", pos, len(data))}
	}
	return f, nil
}

// previousEnd says where the data before the current tensor ends.
func previousEnd(tensor string, pos int) string {
	if tensor == "" {
		return "the data area begins at byte 0"
	}
	return fmt.Sprintf("tensor %q ends at byte %d", tensor, pos)
}
