package safetensors

import (
	"errors"
	"fmt"
	"math"
)

// MaxHeaderSize is the largest JSON header, in bytes, that Decode, Read
// and ReadFile accept: the limit of the reference (Rust) implementation.
// A larger declared length is reported as an error before anything is
// allocated.
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key that holds the string→string
// metadata; no tensor may have this name.
const metadataKey = "__metadata__"

// ErrUnsupportedDType is wrapped by the error for a tensor whose dtype is
// one of the format's dtypes that nabla does not read (integers, booleans,
// 8-bit floats; F16 and BF16 unless the ReadOptions convert them). Test
// for it with errors.Is. The error's message says which dtype and why
// without repeating this one's text.
var ErrUnsupportedDType = errors.New("unsupported dtype")

// Error is the error returned for malformed or unsupported input and for
// failed reads and writes. Its message starts with "safetensors:" and
// names the tensor concerned, if any.
type Error struct {
	// Path is the file the error is about, when known (ReadFile,
	// WriteFile).
	Path string
	// Tensor is the name of the tensor the error is about; "" when the
	// error is about the file as a whole (see HasTensor).
	Tensor string
	// HasTensor reports whether the error is about the tensor named by
	// Tensor (which may be the empty string: it is a legal name).
	HasTensor bool
	// Msg says what is wrong.
	Msg string
	// Err is the underlying cause (an I/O error, a JSON syntax error,
	// ErrUnsupportedDType), or nil.
	Err error
}

func (e *Error) Error() string {
	s := "safetensors: "
	if e.Path != "" {
		s += e.Path + ": "
	}
	if e.HasTensor {
		s += fmt.Sprintf("tensor %q: ", e.Tensor)
	}
	s += e.Msg
	if e.Err != nil && e.Err != ErrUnsupportedDType { // Msg says it
		if e.Msg != "" {
			s += ": "
		}
		s += e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func fileErr(err error, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Err: err}
}

func tensorErr(name string, err error, format string, args ...any) *Error {
	return &Error{Tensor: name, HasTensor: true, Msg: fmt.Sprintf(format, args...), Err: err}
}

// dtypeSizes holds the element size in bytes of every dtype the format
// defines, so that a known but unsupported dtype gets a different message
// from a name that is not a dtype at all.
var dtypeSizes = map[string]uint64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// halfToFloat32 converts an IEEE 754 binary16 value, exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0: // zero or subnormal: mant × 2⁻²⁴, exact in float32
		f := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(math.Float32bits(f) | sign)
	case exp == 0x1f: // infinity or NaN, keeping the payload
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// bfloat16ToFloat32 converts a bfloat16 value: its 16 bits are the top
// half of a float32.
func bfloat16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }
