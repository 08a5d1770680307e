package tensor

import (
	"fmt"
	"math"
)

// DType names a tensor's element type. The zero value is Float32, the
// default for training.
type DType uint8

const (
	Float32 DType = iota // 32-bit IEEE 754; the default
	Float64              // 64-bit IEEE 754; for checking gradients and references
)

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Size is the number of bytes an element of d takes.
func (d DType) Size() int {
	if d == Float64 {
		return 8
	}
	return 4
}

// Float is the set of element types a tensor can hold.
type Float interface{ ~float32 | ~float64 }

// Tensor is a dense N-dimensional array of float32 or float64 values.
//
// A tensor is a view: a shape and strides (in elements) over a flat buffer,
// starting at an offset. Reshape of a contiguous tensor, Transpose, Permute,
// Slice and BroadcastTo return views that share the buffer; every other
// operation returns a new, contiguous tensor and leaves its operands alone.
// Set and the In-place methods write through to every view of the buffer.
type Tensor struct {
	dtype   DType
	shape   []int
	strides []int
	offset  int
	data    any // []float32 or []float64
}

// New returns a zero-filled tensor of the given dtype and shape. A tensor
// with no dimensions is a scalar holding one element.
func New(dt DType, shape ...int) *Tensor {
	n := checkShape("New", shape)
	if dt != Float32 && dt != Float64 {
		panic(fmt.Sprintf("tensor.New: unknown dtype %v", dt))
	}
	t := newTensor(dt, shape)
	t.data = buffer(dt, n, true)
	return t
}

// Zeros is New: a zero-filled tensor.
func Zeros(dt DType, shape ...int) *Tensor { return New(dt, shape...) }

// Ones returns a tensor filled with 1.
func Ones(dt DType, shape ...int) *Tensor { return Full(dt, 1, shape...) }

// Full returns a tensor with every element v.
func Full(dt DType, v float64, shape ...int) *Tensor {
	t := New(dt, shape...)
	t.Fill(v)
	return t
}

// Scalar returns a 0-dimensional tensor holding v.
func Scalar(dt DType, v float64) *Tensor { return Full(dt, v) }

// ZerosLike returns a zero tensor with x's dtype and shape.
func ZerosLike(x *Tensor) *Tensor { return New(x.dtype, x.shape...) }

// OnesLike returns a tensor of ones with x's dtype and shape.
func OnesLike(x *Tensor) *Tensor { return Full(x.dtype, 1, x.shape...) }

// FromFloat32 wraps data (not a copy) as a tensor of the given shape. The
// shape's element count must equal len(data); no shape means a vector.
func FromFloat32(data []float32, shape ...int) *Tensor { return fromSlice(data, shape) }

// FromFloat64 wraps data (not a copy) as a tensor of the given shape.
func FromFloat64(data []float64, shape ...int) *Tensor { return fromSlice(data, shape) }

// FromSlice wraps data (not a copy) as a tensor of the given shape; the
// dtype follows T.
func FromSlice[T Float](data []T, shape ...int) *Tensor { return fromSlice(data, shape) }

// FromValues returns a new tensor of dtype dt holding vals (converted), in
// the given shape (a vector when no shape is given).
func FromValues(dt DType, vals []float64, shape ...int) *Tensor {
	if shape == nil {
		shape = []int{len(vals)}
	}
	if n := checkShape("FromValues", shape); n != len(vals) {
		shapePanic("FromValues", fmt.Sprintf("%d values do not fill the shape", len(vals)), shape)
	}
	t := New(dt, shape...)
	switch d := t.data.(type) {
	case []float32:
		for i, v := range vals {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, vals)
	}
	return t
}

func fromSlice[T Float](data []T, shape []int) *Tensor {
	if shape == nil {
		shape = []int{len(data)}
	}
	if n := checkShape("FromSlice", shape); n != len(data) {
		shapePanic("FromSlice", fmt.Sprintf("%d values do not fill the shape", len(data)), shape)
	}
	var dt DType
	var z T
	if _, ok := any(z).(float64); ok {
		dt = Float64
	}
	t := newTensor(dt, shape)
	t.data = []T(data)
	return t
}

// Arange returns the vector [start, start+step, …) with n elements.
func Arange(dt DType, start, step float64, n int) *Tensor {
	t := New(dt, n)
	switch d := t.data.(type) {
	case []float32:
		for i := range d {
			d[i] = float32(start + float64(i)*step)
		}
	case []float64:
		for i := range d {
			d[i] = start + float64(i)*step
		}
	}
	return t
}

func checkShape(op string, shape []int) int {
	n := 1
	for _, s := range shape {
		if s < 0 {
			shapePanic(op, "negative dimension", shape)
		}
		n *= s
	}
	return n
}

// fillStrides writes shape's contiguous (row-major) strides into st.
func fillStrides(st, shape []int) {
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
}

// newTensor returns a tensor of dtype dt with a copy of shape, contiguous
// strides and no data. Tensors are made by the dozen in every training
// step, and each allocation counts: up to four dimensions, the shape and
// strides live in the same allocation as the tensor.
func newTensor(dt DType, shape []int) *Tensor {
	nd := len(shape)
	var t *Tensor
	var d []int
	switch {
	case nd <= 2:
		b := new(struct {
			t Tensor
			d [4]int
		})
		t, d = &b.t, b.d[:]
	case nd <= 4:
		b := new(struct {
			t Tensor
			d [8]int
		})
		t, d = &b.t, b.d[:]
	default:
		t, d = new(Tensor), make([]int, 2*nd)
	}
	t.dtype = dt
	t.shape, t.strides = d[:nd:nd], d[nd:2*nd:2*nd]
	copy(t.shape, shape)
	fillStrides(t.strides, t.shape)
	return t
}

// DType is the element type.
func (t *Tensor) DType() DType { return t.dtype }

// Shape is the size of each dimension. The caller must not modify it.
// It lives in the tensor's own allocation (see newTensor), so holding it
// keeps the tensor, and its buffer, alive: clone it (slices.Clone) to
// keep it longer than the tensor.
func (t *Tensor) Shape() []int { return t.shape }

// Strides is the distance, in elements, between neighbours along each
// dimension. The caller must not modify it.
func (t *Tensor) Strides() []int { return t.strides }

// Dims is the number of dimensions (0 for a scalar).
func (t *Tensor) Dims() int { return len(t.shape) }

// Dim is the size of dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int { return t.shape[t.axis("Dim", i)] }

// Len is the number of elements.
func (t *Tensor) Len() int {
	n := 1
	for _, s := range t.shape {
		n *= s
	}
	return n
}

// IsContiguous reports whether the elements lie in row-major order with no
// gaps, so that the buffer can be used as a flat slice.
func (t *Tensor) IsContiguous() bool {
	s := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.strides[i] != s {
			return false
		}
		s *= t.shape[i]
	}
	return true
}

// axis resolves a possibly negative axis.
func (t *Tensor) axis(op string, a int) int {
	n := len(t.shape)
	if a < 0 {
		a += n
	}
	if a < 0 || a >= n {
		shapePanic(op, fmt.Sprintf("axis %d out of range for %d dimensions", a, n), t.shape)
	}
	return a
}

// offsetOf returns the buffer index of the element at idx.
func (t *Tensor) offsetOf(op string, idx []int) int {
	if len(idx) != len(t.shape) {
		shapePanic(op, fmt.Sprintf("%d indices for %d dimensions", len(idx), len(t.shape)), t.shape)
	}
	off := t.offset
	for i, v := range idx {
		if v < 0 || v >= t.shape[i] {
			shapePanic(op, fmt.Sprintf("index %v out of range", idx), t.shape)
		}
		off += v * t.strides[i]
	}
	return off
}

// At returns the element at idx as a float64.
func (t *Tensor) At(idx ...int) float64 {
	off := t.offsetOf("At", idx)
	switch d := t.data.(type) {
	case []float32:
		return float64(d[off])
	default:
		return d.([]float64)[off]
	}
}

// Set stores v at idx, rounding to float32 when t is float32.
func (t *Tensor) Set(v float64, idx ...int) {
	off := t.offsetOf("Set", idx)
	switch d := t.data.(type) {
	case []float32:
		d[off] = float32(v)
	default:
		d.([]float64)[off] = v
	}
}

// Item returns the only element of a one-element tensor.
func (t *Tensor) Item() float64 {
	if t.Len() != 1 {
		shapePanic("Item", "tensor has more than one element", t.shape)
	}
	c := t.Contiguous()
	switch d := c.data.(type) {
	case []float32:
		return float64(d[c.offset])
	default:
		return d.([]float64)[c.offset]
	}
}

// Data returns t's elements as a flat row-major slice of T. For a
// contiguous tensor it is the buffer itself (writes are visible through t);
// otherwise a copy. It panics if T does not match t's dtype.
func Data[T Float](t *Tensor) []T {
	c := t.Contiguous()
	d, ok := c.data.([]T)
	if !ok {
		var z T
		panic(&DTypeError{Op: "Data", DTypes: []DType{t.dtype, dtypeOf(z)}})
	}
	return d[c.offset : c.offset+c.Len()]
}

func dtypeOf[T Float](T) DType {
	var z T
	if _, ok := any(z).(float64); ok {
		return Float64
	}
	return Float32
}

// Float32s returns the elements as float32 (see Data).
func (t *Tensor) Float32s() []float32 { return Data[float32](t) }

// Float64s returns the elements as float64 (see Data).
func (t *Tensor) Float64s() []float64 { return Data[float64](t) }

// Values returns a new slice with the elements, in row-major order, as
// float64 whatever the dtype.
func (t *Tensor) Values() []float64 {
	out := make([]float64, t.Len())
	c := t.Contiguous()
	switch d := c.data.(type) {
	case []float32:
		for i, v := range d[c.offset : c.offset+len(out)] {
			out[i] = float64(v)
		}
	case []float64:
		copy(out, d[c.offset:c.offset+len(out)])
	}
	return out
}

// Fill sets every element of t (through the view) to v.
func (t *Tensor) Fill(v float64) {
	switch d := t.data.(type) {
	case []float32:
		fillView(t, d, float32(v))
	case []float64:
		fillView(t, d, v)
	}
}

func fillView[T Float](t *Tensor, d []T, v T) {
	if t.IsContiguous() {
		s := d[t.offset : t.offset+t.Len()]
		for i := range s {
			s[i] = v
		}
		return
	}
	forEachOffset(t.shape, t.strides, t.offset, func(o int) { d[o] = v })
}

// Contiguous returns t if it is contiguous, otherwise a contiguous copy.
func (t *Tensor) Contiguous() *Tensor {
	if t.IsContiguous() {
		return t
	}
	return t.Clone()
}

// Clone returns a contiguous copy of t that shares nothing with it.
func (t *Tensor) Clone() *Tensor {
	out := New(t.dtype, t.shape...)
	switch d := t.data.(type) {
	case []float32:
		copyInto(out.data.([]float32), t, d)
	case []float64:
		copyInto(out.data.([]float64), t, d)
	}
	return out
}

// copyInto writes t's elements, in row-major order, into dst.
func copyInto[T Float](dst []T, t *Tensor, src []T) {
	if t.IsContiguous() {
		copy(dst, src[t.offset:t.offset+t.Len()])
		return
	}
	i := 0
	forEachRow(t.shape, t.strides, t.offset, func(o, n, st int) {
		for j := 0; j < n; j++ {
			dst[i] = src[o+j*st]
			i++
		}
	})
}

// CopyFrom copies src's elements into t (through the view). Shapes must be
// equal and dtypes may differ.
func (t *Tensor) CopyFrom(src *Tensor) {
	if !equalShape(t.shape, src.shape) {
		shapePanic("CopyFrom", "shapes differ", t.shape, src.shape)
	}
	s := src
	if s.dtype != t.dtype {
		s = src.AsType(t.dtype)
	}
	if s == src && SameBuffer(t, src) {
		s = src.Clone() // the views may overlap: read all of src before writing t
	}
	s = s.Contiguous()
	switch d := t.data.(type) {
	case []float32:
		copyOut(t, d, s.data.([]float32)[s.offset:])
	case []float64:
		copyOut(t, d, s.data.([]float64)[s.offset:])
	}
}

func copyOut[T Float](t *Tensor, dst []T, src []T) {
	if t.IsContiguous() {
		copy(dst[t.offset:t.offset+t.Len()], src)
		return
	}
	i := 0
	forEachRow(t.shape, t.strides, t.offset, func(o, n, st int) {
		for j := 0; j < n; j++ {
			dst[o+j*st] = src[i]
			i++
		}
	})
}

// AsType returns t converted to dtype dt; t itself when it already has it.
func (t *Tensor) AsType(dt DType) *Tensor {
	if dt == t.dtype {
		return t
	}
	c := t.Contiguous()
	out := New(dt, t.shape...)
	switch d := c.data.(type) {
	case []float32:
		o := out.data.([]float64)
		for i, v := range d[c.offset : c.offset+c.Len()] {
			o[i] = float64(v)
		}
	case []float64:
		o := out.data.([]float32)
		for i, v := range d[c.offset : c.offset+c.Len()] {
			o[i] = float32(v)
		}
	}
	return out
}

// SameBuffer reports whether a and b are views of one buffer.
func SameBuffer(a, b *Tensor) bool {
	switch x := a.data.(type) {
	case []float32:
		y, ok := b.data.([]float32)
		return ok && len(x) > 0 && len(y) > 0 && &x[0] == &y[0]
	case []float64:
		y, ok := b.data.([]float64)
		return ok && len(x) > 0 && len(y) > 0 && &x[0] == &y[0]
	}
	return false
}

// AllClose reports whether a and b have the same shape and every pair of
// elements satisfies |a−b| ≤ atol + rtol·|b|, as numpy.allclose. NaNs are
// never close.
func AllClose(a, b *Tensor, rtol, atol float64) bool {
	if !equalShape(a.shape, b.shape) {
		return false
	}
	av, bv := a.Values(), b.Values()
	for i := range av {
		if !(math.Abs(av[i]-bv[i]) <= atol+rtol*math.Abs(bv[i])) {
			return false
		}
	}
	return true
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// EqualShape reports whether two shapes are the same.
func EqualShape(a, b []int) bool { return equalShape(a, b) }

// forEachRow walks the index space of shape in row-major order, calling fn
// once per innermost row with the row's starting offset, its length and
// its stride.
func forEachRow(shape, strides []int, offset int, fn func(off, n, stride int)) {
	nd := len(shape)
	if nd == 0 {
		fn(offset, 1, 1)
		return
	}
	for _, s := range shape {
		if s == 0 {
			return
		}
	}
	n, st := shape[nd-1], strides[nd-1]
	idx := make([]int, nd-1)
	off := offset
	for {
		fn(off, n, st)
		d := nd - 2
		for ; d >= 0; d-- {
			idx[d]++
			off += strides[d]
			if idx[d] < shape[d] {
				break
			}
			off -= strides[d] * shape[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// forEachOffset calls fn with the buffer offset of every element in
// row-major order.
func forEachOffset(shape, strides []int, offset int, fn func(off int)) {
	forEachRow(shape, strides, offset, func(o, n, st int) {
		for j := 0; j < n; j++ {
			fn(o + j*st)
		}
	})
}
