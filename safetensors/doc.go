// Package safetensors reads and writes tensors in the safetensors format,
// the format PyTorch and Hugging Face use to share weights
// (https://github.com/huggingface/safetensors).
//
// A file is an 8-byte little-endian unsigned length N, then N bytes of
// JSON header, then a data buffer:
//
//	{"__metadata__": {"format": "pt"},
//	 "0.weight": {"dtype": "F32", "shape": [8, 4], "data_offsets": [0, 128]},
//	 ...}
//
// Each tensor's data_offsets are its [begin, end) byte range within the
// buffer, stored little-endian and row-major; a shape of [] is a scalar.
// The optional __metadata__ maps strings to strings.
//
// Write and WriteFile produce the same bytes for the same tensors and
// metadata whatever the map order: header keys sorted, the header padded
// with spaces to a multiple of 8 bytes, data in order of decreasing
// element size then name, so that every tensor is aligned within the file.
// WriteFile replaces its file atomically.
//
// # DTypes
//
// F32 tensors are read into tensor.Float32 tensors and F64 ones into
// tensor.Float64; Write writes each dtype back as it is. F16 and BF16
// (what PyTorch's model.half() and Hugging Face checkpoints hold) are read
// only with a conversion: As(tensor.Float32) or As(tensor.Float64) (or
// ReadFileAs) reads every one of F16, BF16, F32 and F64 into tensors of
// that one dtype, widening exactly (F64 to Float32 rounds to nearest), so
// that a model of either dtype loads a file saved in any precision. The
// other dtypes of the format (integers, BOOL, 8-bit floats) are refused
// with an error that says which dtypes nabla reads. ReadHeader lists
// every tensor's dtype and shape, any dtype, without reading the data.
//
// # Errors
//
// Files come from outside, so nothing in them makes this package panic or
// allocate in proportion to lengths the header claims rather than to the
// bytes actually there (Read adds at most a 1 MiB read buffer): every
// problem is an error, an *Error
// whose message starts with "safetensors:", says what is wrong and names
// the tensor concerned (Error.Tensor). Decode, Read and ReadFile reject:
//
//   - a directory (ReadFile says so), a file shorter than 8 bytes, or a header length larger than the file
//     or than MaxHeaderSize (100 MB, as in the reference implementation);
//   - a header that does not start with '{', is not valid UTF-8 or not
//     valid JSON (trailing whitespace, the padding, is allowed), has a name
//     twice, or has a __metadata__ that is not an object of strings;
//   - an entry without dtype, shape or data_offsets, or with one of them
//     twice; a dtype not in the format (the error says "unknown dtype")
//     or not supported (the error wraps ErrUnsupportedDType); a shape that
//     is not an array of non-negative integers or whose element count
//     overflows; data_offsets that are not two integers in order or whose
//     length disagrees with the shape and dtype;
//   - tensors that do not cover the data buffer exactly: a first tensor not
//     at offset 0, holes, overlaps, data past the end of the file (a
//     truncated file), or bytes after the last tensor.
//
// Unknown fields in a tensor's entry are ignored, as the reference reader
// does. Read checks the header completely before it reads any tensor data,
// and reads that data in chunks, so a header that claims gigabytes costs
// nothing until the bytes arrive. Write and WriteFile return errors for a
// nil tensor, a tensor named "__metadata__", names or metadata that are
// not valid UTF-8, and failures of the writer or the file system.
//
// # Concurrency
//
// The functions share no state and may be called from several goroutines.
// Write reads its tensors, so they must not be written meanwhile. Decoded
// tensors are new and share nothing with the input.
package safetensors
