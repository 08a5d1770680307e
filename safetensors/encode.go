package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/nabla-go/nabla/internal/fsutil"
	"github.com/nabla-go/nabla/tensor"
)

// Write writes tensors and metadata to w in the safetensors format.
//
// The output depends only on the arguments: the header lists __metadata__
// (omitted when metadata is empty) and then the tensors in sorted name
// order, as compact JSON padded with spaces to a multiple of 8 bytes. The
// data follows, little-endian and row-major: F64 tensors first, then F32
// ones, each group in name order, so that every tensor is aligned to its
// element size within the file (the order the reference writer uses).
// Float32 tensors are written as F32, Float64 ones as F64.
//
// Write checks its arguments before writing anything: a nil tensor, a
// tensor named "__metadata__" and names or metadata that are not valid
// UTF-8 are errors.
func Write(w io.Writer, tensors map[string]*tensor.Tensor, metadata map[string]string) error {
	order, header, err := encodeHeader(tensors, metadata)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(header)))
	bw.Write(lenBuf[:])
	bw.Write(header)
	scratch := make([]byte, 0, 1<<16)
	for _, name := range order {
		t := tensors[name]
		if t.DType() == tensor.Float64 {
			for _, v := range t.Float64s() {
				scratch = binary.LittleEndian.AppendUint64(scratch, math.Float64bits(v))
				if len(scratch) == cap(scratch) {
					bw.Write(scratch)
					scratch = scratch[:0]
				}
			}
		} else {
			for _, v := range t.Float32s() {
				scratch = binary.LittleEndian.AppendUint32(scratch, math.Float32bits(v))
				if len(scratch) == cap(scratch) {
					bw.Write(scratch)
					scratch = scratch[:0]
				}
			}
		}
	}
	bw.Write(scratch)
	// bufio.Writer keeps the first error and returns it from every later
	// call, so checking Flush is enough.
	if err := bw.Flush(); err != nil {
		return fileErr(err, "write")
	}
	return nil
}

// encodeHeader checks the arguments and returns the tensor names in the
// order their data is written, and the padded JSON header.
func encodeHeader(tensors map[string]*tensor.Tensor, metadata map[string]string) ([]string, []byte, error) {
	names := make([]string, 0, len(tensors))
	for name, t := range tensors {
		switch {
		case t == nil:
			return nil, nil, tensorErr(name, nil, "tensor is nil")
		case name == metadataKey:
			return nil, nil, tensorErr(name, nil, "name is reserved for the metadata")
		case !utf8.ValidString(name):
			return nil, nil, tensorErr(name, nil, "name is not valid UTF-8")
		}
		names = append(names, name)
	}
	slices.Sort(names)
	keys := make([]string, 0, len(metadata))
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, fileErr(nil, "metadata %q: %q is not valid UTF-8", k, v)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)

	var h bytes.Buffer
	h.WriteByte('{')
	if len(keys) > 0 {
		writeString(&h, metadataKey)
		h.WriteString(":{")
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			writeString(&h, k)
			h.WriteByte(':')
			writeString(&h, metadata[k])
		}
		h.WriteByte('}')
	}
	// The data goes in order of decreasing element size, then name, as
	// the reference writer does: with the header padded to 8 bytes, every
	// tensor then starts at a multiple of its element size in the file,
	// which readers that map the file need.
	order := dataOrder(tensors, names)
	offsets := make(map[string][2]uint64, len(names))
	var off uint64
	for _, name := range order {
		t := tensors[name]
		end := off + uint64(t.Len())*uint64(t.DType().Size())
		offsets[name] = [2]uint64{off, end}
		off = end
	}
	for i, name := range names {
		if i > 0 || len(keys) > 0 {
			h.WriteByte(',')
		}
		t := tensors[name]
		writeString(&h, name)
		h.WriteString(`:{"dtype":`)
		if t.DType() == tensor.Float64 {
			h.WriteString(`"F64"`)
		} else {
			h.WriteString(`"F32"`)
		}
		h.WriteString(`,"shape":[`)
		for j, d := range t.Shape() {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		h.WriteString(`],"data_offsets":[`)
		h.WriteString(strconv.FormatUint(offsets[name][0], 10))
		h.WriteByte(',')
		h.WriteString(strconv.FormatUint(offsets[name][1], 10))
		h.WriteString("]}")
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	if h.Len() > MaxHeaderSize {
		return nil, nil, fileErr(nil, "header would be %d bytes, more than the limit of %d", h.Len(), MaxHeaderSize)
	}
	return order, h.Bytes(), nil
}

// dataOrder returns the sorted names in the order their data is written:
// by decreasing element size, then by name.
func dataOrder(tensors map[string]*tensor.Tensor, names []string) []string {
	order := slices.Clone(names)
	slices.SortStableFunc(order, func(a, b string) int {
		return tensors[b].DType().Size() - tensors[a].DType().Size()
	})
	return order
}

// writeString writes s as a JSON string, escaping only what JSON requires
// (and U+2028, U+2029), so that names like "a<b" stay readable.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)           // cannot fail for a string
	b.Truncate(b.Len() - 1) // the newline Encode adds
}

// WriteFile writes tensors and metadata (see Write) to the file at path,
// atomically (internal/fsutil.WriteFile): it writes a temporary file in
// the same directory, syncs it to disk, renames it over path and syncs the
// directory. If anything fails, path is left as it was (absent, or the old
// file) and the temporary file is removed. A new file gets permissions
// 0644; an existing one keeps its permissions.
func WriteFile(path string, tensors map[string]*tensor.Tensor, metadata map[string]string) error {
	// Check the arguments before touching the file system.
	if _, _, err := encodeHeader(tensors, metadata); err != nil {
		err.(*Error).Path = path
		return err
	}
	perm := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		perm = fi.Mode().Perm()
	}
	err := fsutil.WriteFile(path, perm, func(w io.Writer) error { return Write(w, tensors, metadata) })
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		e.Path = path
		return e
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if pe.Path != path { // the directory, synced after the rename
			return &Error{Path: path, Msg: "file written, but syncing its directory failed", Err: pe.Err}
		}
		return &Error{Path: path, Err: pe.Err}
	}
	return &Error{Path: path, Err: err}
}
