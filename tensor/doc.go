// Package tensor provides dense N-dimensional arrays of float32 or float64
// and the operations on them: element-wise arithmetic and activations with
// numpy broadcasting, reductions over chosen axes, matrix products, views
// (reshape, transpose, slice, broadcast) and gathers.
//
// The package knows nothing about gradients; package ag builds automatic
// differentiation on top of it.
//
// # DTypes
//
// Float32 is the default (the zero value of DType) and what training uses;
// Float64 is for gradient checks and reference comparisons. Every function
// works on both, with the same API. Operands of one operation must share a
// dtype: nabla never converts silently (see AsType).
//
// # Shapes
//
// A shape is a []int; a tensor with no dimensions is a scalar. Binary
// operations broadcast as numpy does: shapes are aligned at their last
// dimension and a dimension of size 1 stretches to match the other.
// Negative axes count from the end.
//
// # Errors
//
// Operands whose shapes cannot be combined are a programming error, as an
// out-of-range slice index is in Go: the operation panics with a
// *ShapeError that names it and every shape involved (or a *DTypeError for
// mixed dtypes). Code that builds tensors from outside input wraps the work
// in Try to get an error instead.
//
// # Views and aliasing
//
// Results are new tensors except for the view functions (Reshape of a
// contiguous tensor, Transpose, Permute, T, Slice, BroadcastTo, Squeeze,
// Unsqueeze), which share their operand's buffer. FromFloat32 and
// FromFloat64 wrap the caller's slice without copying.
//
// # Concurrency
//
// Reading a tensor from several goroutines is safe; writing one (Set, Fill,
// CopyFrom) while another goroutine reads it or a view of it is a race.
package tensor
