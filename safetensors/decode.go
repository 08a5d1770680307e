package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/nabla-go/nabla/tensor"
)

// ReadOptions changes how Decode, Read and ReadFile convert tensors. The
// zero value reads F32 and F64 tensors as they are and rejects every
// other dtype. As(dtype) gives the options that read every floating-point
// dtype of the format into tensors of one dtype.
type ReadOptions struct {
	// ToFloat32 reads F16, BF16 and F64 tensors, as well as F32 ones,
	// into Float32 tensors. F16 and BF16 convert exactly; F64 rounds to
	// nearest. Integer, boolean and 8-bit float dtypes are still
	// rejected.
	ToFloat32 bool
	// ToFloat64 reads F16, BF16 and F32 tensors, as well as F64 ones,
	// into Float64 tensors; every one converts exactly. Setting both
	// ToFloat32 and ToFloat64 is an error.
	ToFloat64 bool
	// Ints, with ToFloat32 or ToFloat64, also reads I64 and I32 tensors
	// converted to that float type (exactly up to 2²⁴ in float32 and 2⁵³
	// in float64, rounded beyond): PyTorch stores a BatchNorm's
	// num_batches_tracked as I64.
	Ints bool

	headerOnly bool // ReadHeader: accept every dtype, convert nothing
}

// As returns the options that read F16, BF16, F32 and F64 tensors into
// tensors of dtype dt (tensor.Float32 or tensor.Float64), widening
// exactly or, for F64 into Float32, rounding to nearest: what a model of
// dtype dt needs to load a file from PyTorch, whatever precision it was
// saved in.
//
//	ts, meta, err := safetensors.As(tensor.Float64).ReadFile(path)
func As(dt tensor.DType) ReadOptions {
	if dt == tensor.Float64 {
		return ReadOptions{ToFloat64: true}
	}
	return ReadOptions{ToFloat32: true}
}

// ReadFileAs reads the safetensors file at path with every tensor
// converted to dtype dt: As(dt).ReadFile(path).
func ReadFileAs(path string, dt tensor.DType) (tensors map[string]*tensor.Tensor, metadata map[string]string, err error) {
	return As(dt).ReadFile(path)
}

// check reports options that contradict each other.
func (o ReadOptions) check() error {
	if o.ToFloat32 && o.ToFloat64 {
		return fileErr(nil, "ReadOptions asks for both ToFloat32 and ToFloat64")
	}
	return nil
}

// Decode parses a safetensors file held in b. It returns the tensors by
// name (a non-nil map, empty for a file with none) and the header's
// __metadata__ (nil when the file has none). The tensors are new,
// contiguous and share nothing with b. See the package documentation for
// what is checked.
func Decode(b []byte) (tensors map[string]*tensor.Tensor, metadata map[string]string, err error) {
	return ReadOptions{}.Decode(b)
}

// Read reads one safetensors file from r, which must end where the file
// ends: bytes after the last tensor's data are an error. Read allocates in
// proportion to what r delivers, never to the lengths the header claims.
func Read(r io.Reader) (tensors map[string]*tensor.Tensor, metadata map[string]string, err error) {
	return ReadOptions{}.Read(r)
}

// ReadFile reads the safetensors file at path (see Read).
func ReadFile(path string) (tensors map[string]*tensor.Tensor, metadata map[string]string, err error) {
	return ReadOptions{}.ReadFile(path)
}

// Decode is the package-level Decode with options o.
func (o ReadOptions) Decode(b []byte) (map[string]*tensor.Tensor, map[string]string, error) {
	if err := o.check(); err != nil {
		return nil, nil, err
	}
	if len(b) < 8 {
		return nil, nil, fileErr(nil, "file is %d bytes, too short for the 8-byte header length (truncated?)", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if err := checkHeaderLen(n, int64(len(b))); err != nil {
		return nil, nil, err
	}
	entries, meta, err := parseHeader(b[8:8+n], o)
	if err != nil {
		return nil, nil, err
	}
	buf := b[8+n:]
	if _, err := layout(entries, int64(len(buf))); err != nil {
		return nil, nil, err
	}
	out := make(map[string]*tensor.Tensor, len(entries))
	for i := range entries {
		e := &entries[i]
		src := buf[e.begin:e.end]
		if e.conv64 != nil {
			out[e.name] = tensor.FromFloat64(e.conv64(make([]float64, 0, e.count), src), e.shape...)
		} else {
			out[e.name] = tensor.FromFloat32(e.conv32(make([]float32, 0, e.count), src), e.shape...)
		}
	}
	return out, meta, nil
}

// Read is the package-level Read with options o.
func (o ReadOptions) Read(r io.Reader) (map[string]*tensor.Tensor, map[string]string, error) {
	if err := o.check(); err != nil {
		return nil, nil, err
	}
	return o.read(r, -1)
}

// ReadFile is the package-level ReadFile with options o.
func (o ReadOptions) ReadFile(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	if err := o.check(); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fileErr(err, "") // the *PathError names the file
	}
	defer f.Close()
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, nil, &Error{Path: path, Msg: "is a directory, not a safetensors file"}
	} else if err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	ts, meta, err := o.read(f, size)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Path = path
		}
		return nil, nil, err
	}
	return ts, meta, nil
}

// TensorInfo describes one tensor of a file as its header does.
type TensorInfo struct {
	DType string // as the format names it: "F32", "F16", "BF16", "I64", …
	Shape []int  // [] for a scalar
}

// ReadHeader reads only the header of the safetensors file at path: each
// tensor's dtype and shape, and the __metadata__ (nil when there is
// none). It checks the header as ReadFile does, and that the tensors cover
// the file's data exactly, but accepts every dtype of the format and reads
// none of the tensors' data: what a caller needs to choose the dtype to
// read a file as, or to check a file's shapes, before allocating.
func ReadHeader(path string) (tensors map[string]TensorInfo, metadata map[string]string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fileErr(err, "")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, &Error{Path: path, Err: err}
	}
	if fi.IsDir() {
		return nil, nil, &Error{Path: path, Msg: "is a directory, not a safetensors file"}
	}
	size := int64(-1)
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	ts, meta, err := readHeader(f, size)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Path = path
		}
		return nil, nil, err
	}
	return ts, meta, nil
}

func readHeader(r io.Reader, size int64) (map[string]TensorInfo, map[string]string, error) {
	var lenBuf [8]byte
	if k, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, nil, readErr(err, "file is %d bytes, too short for the 8-byte header length (truncated?)", k)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if size >= 0 {
		if err := checkHeaderLen(n, size); err != nil {
			return nil, nil, err
		}
	} else if n > MaxHeaderSize {
		return nil, nil, fileErr(nil, "header length %d is larger than the limit of %d bytes", n, MaxHeaderSize)
	}
	header, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, nil, fileErr(err, "read header")
	}
	if uint64(len(header)) < n {
		return nil, nil, fileErr(nil, "file ends %d bytes into the %d-byte header (truncated?)", len(header), n)
	}
	entries, meta, err := parseHeader(header, ReadOptions{headerOnly: true})
	if err != nil {
		return nil, nil, err
	}
	bufLen := int64(-1)
	if size >= 0 {
		bufLen = size - 8 - int64(n)
	}
	if _, err := layout(entries, bufLen); err != nil {
		return nil, nil, err
	}
	out := make(map[string]TensorInfo, len(entries))
	for _, e := range entries {
		out[e.name] = TensorInfo{DType: e.dtype, Shape: e.shape}
	}
	return out, meta, nil
}

// chunkSize is how many bytes of tensor data read converts at a time; a
// multiple of every element size.
const chunkSize = 1 << 20

// read reads a whole file from r; size is its length, or -1 when unknown.
func (o ReadOptions) read(r io.Reader, size int64) (map[string]*tensor.Tensor, map[string]string, error) {
	var lenBuf [8]byte
	if k, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, nil, readErr(err, "file is %d bytes, too short for the 8-byte header length (truncated?)", k)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if size >= 0 {
		if err := checkHeaderLen(n, size); err != nil {
			return nil, nil, err
		}
	} else if n > MaxHeaderSize {
		return nil, nil, fileErr(nil, "header length %d is larger than the limit of %d bytes", n, MaxHeaderSize)
	}
	var header []byte
	if size >= 0 {
		header = make([]byte, n)
		if k, err := io.ReadFull(r, header); err != nil {
			return nil, nil, readErr(err, "file ends %d bytes into the %d-byte header (truncated?)", k, n)
		}
	} else {
		// Let the buffer grow with what arrives rather than trusting n.
		var err error
		header, err = io.ReadAll(io.LimitReader(r, int64(n)))
		if err != nil {
			return nil, nil, fileErr(err, "read header")
		}
		if uint64(len(header)) < n {
			return nil, nil, fileErr(nil, "file ends %d bytes into the %d-byte header (truncated?)", len(header), n)
		}
	}
	entries, meta, err := parseHeader(header, o)
	if err != nil {
		return nil, nil, err
	}
	bufLen := int64(-1)
	if size >= 0 {
		bufLen = size - 8 - int64(n)
	}
	total, err := layout(entries, bufLen)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]*tensor.Tensor, len(entries))
	chunk := make([]byte, min(total, chunkSize))
	for i := range entries { // in offset order: layout sorted them
		e := &entries[i]
		nbytes := e.end - e.begin
		capHint := e.count
		if bufLen < 0 { // length unknown: grow with the data
			capHint = min(e.count, chunkSize/int(e.size))
		}
		var d32 []float32
		var d64 []float64
		if e.conv64 != nil {
			d64 = make([]float64, 0, capHint)
		} else {
			d32 = make([]float32, 0, capHint)
		}
		for done := uint64(0); done < nbytes; {
			k := min(nbytes-done, uint64(len(chunk)))
			if got, err := io.ReadFull(r, chunk[:k]); err != nil {
				return nil, nil, &Error{Tensor: e.name, HasTensor: true, Err: ioCause(err),
					Msg: fmt.Sprintf("file ends %d bytes into the tensor's %d bytes of data (truncated?)", done+uint64(got), nbytes)}
			}
			if e.conv64 != nil {
				d64 = e.conv64(d64, chunk[:k])
			} else {
				d32 = e.conv32(d32, chunk[:k])
			}
			done += k
		}
		if e.conv64 != nil {
			out[e.name] = tensor.FromFloat64(d64, e.shape...)
		} else {
			out[e.name] = tensor.FromFloat32(d32, e.shape...)
		}
	}
	var one [1]byte
	if k, err := io.ReadFull(r, one[:]); k > 0 {
		return nil, nil, fileErr(nil, "bytes after the last tensor's data: tensors must cover the data buffer exactly")
	} else if err != io.EOF {
		return nil, nil, fileErr(err, "read")
	}
	return out, meta, nil
}

// readErr reports a short read: io.EOF and io.ErrUnexpectedEOF are said by
// msg, anything else is kept as the cause.
func readErr(err error, format string, args ...any) error {
	return fileErr(ioCause(err), format, args...)
}

func ioCause(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil
	}
	return err
}

func checkHeaderLen(n uint64, size int64) error {
	if n > MaxHeaderSize {
		return fileErr(nil, "header length %d is larger than the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return fileErr(nil, "header length %d runs past the end of the %d-byte file (truncated?)", n, size)
	}
	return nil
}

// entry is one tensor's header record, checked.
type entry struct {
	name       string
	dtype      string
	shape      []int
	begin, end uint64 // byte offsets into the data buffer
	count      int    // elements
	size       uint64 // bytes per element in the file
	conv32     func([]float32, []byte) []float32
	conv64     func([]float64, []byte) []float64
}

var errNotObject = errors.New("not a JSON object")

// readObject calls fn for each member of the JSON object raw, in order.
// It returns errNotObject if raw is not an object, fn's error, or a JSON
// syntax error.
func readObject(raw []byte, fn func(key string, val json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return errNotObject
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string) // the decoder only yields string keys
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return err
		}
		if err := fn(key, val); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the JSON object")
		}
		return err
	}
	return nil
}

// parseHeader checks the JSON header and returns its tensor records (in
// header order) and metadata.
func parseHeader(h []byte, o ReadOptions) ([]entry, map[string]string, error) {
	if len(h) == 0 || h[0] != '{' {
		return nil, nil, fileErr(nil, "header does not start with '{'")
	}
	if !utf8.Valid(h) {
		return nil, nil, fileErr(nil, "header is not valid UTF-8")
	}
	var entries []entry
	var meta map[string]string
	seen := make(map[string]bool)
	err := readObject(h, func(key string, val json.RawMessage) error {
		if seen[key] {
			if key == metadataKey {
				return fileErr(nil, "header has two %s entries", metadataKey)
			}
			return tensorErr(key, nil, "name appears twice in the header")
		}
		seen[key] = true
		if key == metadataKey {
			m, err := parseMetadata(val)
			meta = m
			return err
		}
		e, err := parseEntry(key, val, o)
		entries = append(entries, e)
		return err
	})
	if err != nil {
		if e := (*Error)(nil); errors.As(err, &e) {
			return nil, nil, err
		}
		if err == errNotObject {
			return nil, nil, fileErr(nil, "header is not a JSON object")
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, nil, fileErr(nil, "header is not valid JSON: it ends in the middle of a value")
		}
		return nil, nil, fileErr(err, "header is not valid JSON")
	}
	return entries, meta, nil
}

func parseMetadata(val json.RawMessage) (map[string]string, error) {
	if string(val) == "null" {
		return nil, nil
	}
	meta := make(map[string]string)
	err := readObject(val, func(key string, v json.RawMessage) error {
		if _, dup := meta[key]; dup {
			return fileErr(nil, "%s has key %q twice", metadataKey, key)
		}
		if len(v) == 0 || v[0] != '"' {
			return fileErr(nil, "%s value for key %q is %s, not a string", metadataKey, key, clip(v))
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return fileErr(err, "%s value for key %q", metadataKey, key)
		}
		meta[key] = s
		return nil
	})
	if err == errNotObject {
		return nil, fileErr(nil, "%s is %s, not a JSON object of strings", metadataKey, clip(val))
	}
	return meta, err
}

// clip shortens a JSON value for an error message.
func clip(v []byte) string {
	if len(v) > 40 {
		return string(v[:37]) + "..."
	}
	return string(v)
}

func parseEntry(name string, val json.RawMessage, o ReadOptions) (entry, error) {
	e := entry{name: name}
	var dtype, shape, offsets json.RawMessage
	fields := map[string]*json.RawMessage{"dtype": &dtype, "shape": &shape, "data_offsets": &offsets}
	err := readObject(val, func(key string, v json.RawMessage) error {
		p, ok := fields[key]
		if !ok {
			return nil // unknown fields are ignored, as the reference reader does
		}
		if *p != nil {
			return tensorErr(name, nil, "field %q appears twice", key)
		}
		*p = v
		return nil
	})
	if err == errNotObject {
		return e, tensorErr(name, nil, "header entry is %s, not a JSON object", clip(val))
	}
	if err != nil {
		return e, err
	}
	for _, f := range []string{"dtype", "shape", "data_offsets"} {
		if *fields[f] == nil {
			return e, tensorErr(name, nil, "header entry has no %q field", f)
		}
	}

	// dtype
	if dtype[0] != '"' || json.Unmarshal(dtype, &e.dtype) != nil {
		return e, tensorErr(name, nil, "dtype is %s, not a string", clip(dtype))
	}
	size, known := dtypeSizes[e.dtype]
	if !known {
		return e, tensorErr(name, nil, "unknown dtype %q", e.dtype)
	}
	e.size = size
	if !o.headerOnly {
		switch e.dtype {
		case "F32":
			e.conv32, e.conv64 = appendF32, appendF32AsF64
		case "F64":
			e.conv32, e.conv64 = appendF64AsF32, appendF64
		case "F16":
			e.conv32, e.conv64 = appendF16, appendF16AsF64
		case "BF16":
			e.conv32, e.conv64 = appendBF16, appendBF16AsF64
		case "I64", "I32":
			if !o.Ints || !(o.ToFloat32 || o.ToFloat64) {
				return e, tensorErr(name, ErrUnsupportedDType,
					"dtype %s is not supported: nabla reads floating-point tensors only (F32, F64, F16, BF16)", e.dtype)
			}
			e.conv32, e.conv64 = intConverters(e.dtype)
		default:
			return e, tensorErr(name, ErrUnsupportedDType,
				"dtype %s is not supported: nabla reads floating-point tensors only (F32, F64, F16, BF16)", e.dtype)
		}
		// Keep the one conversion the options ask for.
		switch {
		case o.ToFloat32:
			e.conv64 = nil
		case o.ToFloat64:
			e.conv32 = nil
		case e.dtype == "F32":
			e.conv64 = nil
		case e.dtype == "F64":
			e.conv32 = nil
		default:
			return e, tensorErr(name, ErrUnsupportedDType,
				"dtype %s is read only with a conversion to float32 or float64 (see safetensors.As)", e.dtype)
		}
	}

	// shape
	dims, err := parseUints(shape)
	if err != nil {
		return e, tensorErr(name, nil, "shape %s: %s", clip(shape), err)
	}
	e.shape = make([]int, len(dims)) // non-nil: [] is a scalar
	count := uint64(1)
	overflow := false
	for i, d := range dims {
		var hi uint64
		hi, count = bits.Mul64(count, d)
		if hi != 0 || d > math.MaxInt || count > math.MaxInt {
			overflow = true
			break
		}
		e.shape[i] = int(d)
	}
	if overflow {
		return e, tensorErr(name, nil, "shape %s has too many elements", clip(shape))
	}
	e.count = int(count)

	// data_offsets
	offs, err := parseUints(offsets)
	if err == nil && len(offs) != 2 {
		err = fmt.Errorf("has %d numbers, not 2", len(offs))
	}
	if err != nil {
		return e, tensorErr(name, nil, "data_offsets %s: %s", clip(offsets), err)
	}
	e.begin, e.end = offs[0], offs[1]
	if e.begin > e.end {
		return e, tensorErr(name, nil, "data_offsets [%d, %d] end before they begin", e.begin, e.end)
	}
	if hi, nbytes := bits.Mul64(count, size); hi != 0 || nbytes != e.end-e.begin {
		return e, tensorErr(name, nil, "shape %v of %s needs %d×%d bytes but data_offsets [%d, %d] hold %d",
			e.shape, e.dtype, count, size, e.begin, e.end, e.end-e.begin)
	}
	return e, nil
}

// parseUints parses a JSON array of non-negative integers.
func parseUints(raw json.RawMessage) ([]uint64, error) {
	var elems []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &elems) != nil {
		return nil, errors.New("not an array of integers")
	}
	out := make([]uint64, len(elems))
	for i, el := range elems {
		v, err := strconv.ParseUint(string(el), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("element %s is not a non-negative integer that fits in 64 bits", clip(el))
		}
		out[i] = v
	}
	return out, nil
}

// layout sorts entries by offset and checks that they cover the data
// buffer, of bufLen bytes (-1 when unknown), from 0 with no overlap and no
// hole. It returns the length they cover.
func layout(entries []entry, bufLen int64) (uint64, error) {
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), cmp.Compare(a.name, b.name))
	})
	var pos uint64
	for i := range entries {
		e := &entries[i]
		switch {
		case e.begin > pos && i == 0:
			return 0, tensorErr(e.name, nil, "data_offsets [%d, %d] leave the first %d bytes of the data buffer unused", e.begin, e.end, e.begin)
		case e.begin > pos:
			return 0, tensorErr(e.name, nil, "data_offsets [%d, %d] leave a hole of %d bytes after tensor %q", e.begin, e.end, e.begin-pos, entries[i-1].name)
		case e.begin < pos:
			p := &entries[i-1]
			return 0, tensorErr(e.name, nil, "data_offsets [%d, %d] overlap those of tensor %q [%d, %d]", e.begin, e.end, p.name, p.begin, p.end)
		}
		if bufLen >= 0 && e.end > uint64(bufLen) {
			return 0, tensorErr(e.name, nil, "data_offsets [%d, %d] run past the end of the %d-byte data buffer (truncated?)", e.begin, e.end, bufLen)
		}
		pos = e.end
	}
	if bufLen >= 0 && pos < uint64(bufLen) {
		return 0, fileErr(nil, "%d bytes after the last tensor's data: tensors must cover the data buffer exactly", uint64(bufLen)-pos)
	}
	return pos, nil
}

func appendF32(dst []float32, src []byte) []float32 {
	for i := 0; i+4 <= len(src); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(src[i:])))
	}
	return dst
}

func appendF64(dst []float64, src []byte) []float64 {
	for i := 0; i+8 <= len(src); i += 8 {
		dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(src[i:])))
	}
	return dst
}

func appendF32AsF64(dst []float64, src []byte) []float64 {
	for i := 0; i+4 <= len(src); i += 4 {
		dst = append(dst, float64(math.Float32frombits(binary.LittleEndian.Uint32(src[i:]))))
	}
	return dst
}

func appendF64AsF32(dst []float32, src []byte) []float32 {
	for i := 0; i+8 <= len(src); i += 8 {
		dst = append(dst, float32(math.Float64frombits(binary.LittleEndian.Uint64(src[i:]))))
	}
	return dst
}

func appendF16(dst []float32, src []byte) []float32 {
	for i := 0; i+2 <= len(src); i += 2 {
		dst = append(dst, halfToFloat32(binary.LittleEndian.Uint16(src[i:])))
	}
	return dst
}

func appendBF16(dst []float32, src []byte) []float32 {
	for i := 0; i+2 <= len(src); i += 2 {
		dst = append(dst, bfloat16ToFloat32(binary.LittleEndian.Uint16(src[i:])))
	}
	return dst
}

func appendF16AsF64(dst []float64, src []byte) []float64 {
	for i := 0; i+2 <= len(src); i += 2 {
		dst = append(dst, float64(halfToFloat32(binary.LittleEndian.Uint16(src[i:]))))
	}
	return dst
}

func appendBF16AsF64(dst []float64, src []byte) []float64 {
	for i := 0; i+2 <= len(src); i += 2 {
		dst = append(dst, float64(bfloat16ToFloat32(binary.LittleEndian.Uint16(src[i:]))))
	}
	return dst
}

// intConverters returns the float32 and float64 readers of little-endian
// I64 or I32 data.
func intConverters(dtype string) (func([]float32, []byte) []float32, func([]float64, []byte) []float64) {
	width := 8
	if dtype == "I32" {
		width = 4
	}
	read := func(b []byte) int64 {
		if width == 4 {
			return int64(int32(binary.LittleEndian.Uint32(b)))
		}
		return int64(binary.LittleEndian.Uint64(b))
	}
	to32 := func(dst []float32, src []byte) []float32 {
		for i := 0; i+width <= len(src); i += width {
			dst = append(dst, float32(read(src[i:])))
		}
		return dst
	}
	to64 := func(dst []float64, src []byte) []float64 {
		for i := 0; i+width <= len(src); i += width {
			dst = append(dst, float64(read(src[i:])))
		}
		return dst
	}
	return to32, to64
}
