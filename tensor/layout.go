package tensor

import (
	"fmt"
	"slices"
)

// Reshape returns x with a new shape holding the same number of elements.
// One dimension may be −1, to be inferred. The result is a view when x is
// contiguous and a copy otherwise.
func Reshape(x *Tensor, shape ...int) *Tensor {
	c := x.Contiguous()
	t := newTensor(c.dtype, shape) // strides filled again below, once shape is known
	shape = t.shape
	infer, n := -1, 1
	for i, s := range shape {
		switch {
		case s == -1 && infer < 0:
			infer = i
		case s < 0:
			shapePanic("Reshape", "bad target dimension", x.shape, shape)
		default:
			n *= s
		}
	}
	if infer >= 0 {
		if n == 0 || x.Len()%n != 0 {
			shapePanic("Reshape", "cannot infer the −1 dimension", x.shape, shape)
		}
		shape[infer] = x.Len() / n
		n *= shape[infer]
	}
	if n != x.Len() {
		shapePanic("Reshape", fmt.Sprintf("%d elements cannot take a shape of %d", x.Len(), n), x.shape, shape)
	}
	fillStrides(t.strides, shape)
	t.offset, t.data = c.offset, c.data
	return t
}

// viewOf returns a tensor sharing x's buffer, with copies of shape and
// strides, in one allocation (see newTensor).
func viewOf(x *Tensor, shape, strides []int, offset int) *Tensor {
	t := newTensor(x.dtype, shape)
	copy(t.strides, strides)
	t.offset, t.data = offset, x.data
	return t
}

// ReshapeInto makes dst a view of x's elements in dst's own shape, and
// returns it: Reshape without allocating, for code that keeps its own
// tensors from call to call (nn.Predictor). x must be contiguous, of dst's
// dtype and with as many elements as dst's shape holds; dst's previous
// buffer is dropped (not recycled), and dst is a view of x from then on,
// as a Reshape is.
func ReshapeInto(dst, x *Tensor) *Tensor {
	if dst.dtype != x.dtype {
		panic(&DTypeError{Op: "ReshapeInto", DTypes: []DType{x.dtype, dst.dtype}})
	}
	if dst.Len() != x.Len() {
		shapePanic("ReshapeInto", fmt.Sprintf("%d elements cannot take a shape of %d", x.Len(), dst.Len()), x.shape, dst.shape)
	}
	if !x.IsContiguous() {
		shapePanic("ReshapeInto", "x must be contiguous", x.shape)
	}
	fillStrides(dst.strides, dst.shape)
	dst.offset, dst.data = x.offset, x.data
	return dst
}

// Flatten reshapes x to a vector.
func Flatten(x *Tensor) *Tensor { return Reshape(x, x.Len()) }

// Unsqueeze inserts a dimension of size 1 at axis (which may be x.Dims()).
func Unsqueeze(x *Tensor, axis int) *Tensor {
	if axis < 0 {
		axis += len(x.shape) + 1
	}
	if axis < 0 || axis > len(x.shape) {
		shapePanic("Unsqueeze", fmt.Sprintf("axis %d out of range", axis), x.shape)
	}
	shape := slices.Insert(append([]int{}, x.shape...), axis, 1)
	strides := slices.Insert(append([]int{}, x.strides...), axis, 0)
	return viewOf(x, shape, strides, x.offset)
}

// Squeeze removes the given axes, which must have size 1; with none it
// removes every axis of size 1.
func Squeeze(x *Tensor, axes ...int) *Tensor {
	drop := make([]bool, len(x.shape))
	if len(axes) == 0 {
		for i, s := range x.shape {
			drop[i] = s == 1
		}
	}
	for _, a := range axes {
		a = x.axis("Squeeze", a)
		if x.shape[a] != 1 {
			shapePanic("Squeeze", fmt.Sprintf("axis %d has size %d, not 1", a, x.shape[a]), x.shape)
		}
		drop[a] = true
	}
	var shape, strides []int
	for i := range x.shape {
		if !drop[i] {
			shape = append(shape, x.shape[i])
			strides = append(strides, x.strides[i])
		}
	}
	return viewOf(x, shape, strides, x.offset)
}

// Permute returns a view of x with its axes reordered: axis i of the result
// is axis perm[i] of x.
func Permute(x *Tensor, perm ...int) *Tensor {
	if len(perm) != len(x.shape) {
		shapePanic("Permute", fmt.Sprintf("permutation %v has the wrong length", perm), x.shape)
	}
	t := viewOf(x, x.shape, x.strides, x.offset)
	for i, p := range perm {
		if p < 0 {
			p += len(perm)
		}
		if p < 0 || p >= len(perm) || slices.Contains(perm[:i], p) || slices.Contains(perm[:i], p-len(perm)) {
			shapePanic("Permute", fmt.Sprintf("%v is not a permutation", perm), x.shape)
		}
		t.shape[i], t.strides[i] = x.shape[p], x.strides[p]
	}
	return t
}

// Transpose returns a view of x with axes a and b swapped.
func Transpose(x *Tensor, a, b int) *Tensor {
	a, b = x.axis("Transpose", a), x.axis("Transpose", b)
	t := viewOf(x, x.shape, x.strides, x.offset)
	t.shape[a], t.shape[b] = t.shape[b], t.shape[a]
	t.strides[a], t.strides[b] = t.strides[b], t.strides[a]
	return t
}

// T returns the transpose of a matrix, or of the last two axes of a batch
// of matrices (a view).
func (t *Tensor) T() *Tensor {
	if len(t.shape) < 2 {
		shapePanic("T", "needs at least 2 dimensions", t.shape)
	}
	return Transpose(t, -2, -1)
}

// Slice returns a view of x restricted to [start, end) along axis.
func Slice(x *Tensor, axis, start, end int) *Tensor {
	a := x.axis("Slice", axis)
	if start < 0 || end > x.shape[a] || start > end {
		shapePanic("Slice", fmt.Sprintf("range [%d, %d) out of bounds on axis %d", start, end, a), x.shape)
	}
	t := viewOf(x, x.shape, x.strides, x.offset+start*x.strides[a])
	t.shape[a] = end - start
	return t
}

// PadSlice returns a zero tensor of shape with x placed at [start,
// start+len) along axis: the adjoint of Slice.
func PadSlice(x *Tensor, shape []int, axis, start int) *Tensor {
	out := New(x.dtype, shape...)
	a := out.axis("PadSlice", axis)
	want := append([]int{}, shape...)
	if len(x.shape) == len(shape) {
		want[a] = x.shape[a]
	}
	if !equalShape(x.shape, want) || start < 0 || start+x.shape[a] > shape[a] {
		shapePanic("PadSlice", fmt.Sprintf("tensor does not fit at %d on axis %d", start, a), x.shape, shape)
	}
	Slice(out, a, start, start+x.shape[a]).CopyFrom(x)
	return out
}

// Concat joins tensors along axis; all other dimensions must agree.
func Concat(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic(&ShapeError{Op: "Concat", Msg: "nothing to join"})
	}
	sameDType("Concat", ts...)
	a := ts[0].axis("Concat", axis)
	shape := append([]int{}, ts[0].shape...)
	shape[a] = 0
	for _, t := range ts {
		if len(t.shape) != len(shape) {
			shapePanic("Concat", "tensors differ in rank", shapesOf(ts)...)
		}
		for i := range shape {
			if i != a && t.shape[i] != shape[i] {
				shapePanic("Concat", fmt.Sprintf("tensors differ off axis %d", a), shapesOf(ts)...)
			}
		}
		shape[a] += t.shape[a]
	}
	out := New(ts[0].dtype, shape...)
	at := 0
	for _, t := range ts {
		Slice(out, a, at, at+t.shape[a]).CopyFrom(t)
		at += t.shape[a]
	}
	return out
}

func shapesOf(ts []*Tensor) [][]int {
	s := make([][]int, len(ts))
	for i, t := range ts {
		s[i] = t.shape
	}
	return s
}

// IndexSelect picks entries idx along axis, in order, repeats allowed (as
// torch.index_select). The result has len(idx) entries along axis.
func IndexSelect(x *Tensor, axis int, idx []int) *Tensor {
	a := x.axis("IndexSelect", axis)
	shape := append([]int{}, x.shape...)
	shape[a] = len(idx)
	out := New(x.dtype, shape...)
	for i, k := range idx {
		if k < 0 || k >= x.shape[a] {
			shapePanic("IndexSelect", fmt.Sprintf("index %d out of range on axis %d", k, a), x.shape)
		}
		Slice(out, a, i, i+1).CopyFrom(Slice(x, a, k, k+1))
	}
	return out
}

// IndexAdd returns a zero tensor of shape to which entry i of src along
// axis is added at position idx[i]: the adjoint of IndexSelect.
func IndexAdd(src *Tensor, shape []int, axis int, idx []int) *Tensor {
	out := New(src.dtype, shape...)
	a := out.axis("IndexAdd", axis)
	// Check the whole shape: Add below would broadcast a size-1 source.
	want := append([]int{}, shape...)
	want[a] = len(idx)
	if !equalShape(src.shape, want) {
		shapePanic("IndexAdd", "source is not the target with one entry per index on axis", src.shape, shape)
	}
	for i, k := range idx {
		if k < 0 || k >= shape[a] {
			shapePanic("IndexAdd", fmt.Sprintf("index %d out of range on axis %d", k, a), shape)
		}
		dst := Slice(out, a, k, k+1)
		dst.CopyFrom(Add(dst, Slice(src, a, i, i+1)))
	}
	return out
}

// Gather removes axis from x by picking one entry along it for each
// remaining position: out[p] = x[p with idx[p] inserted at axis], where p
// runs over the other axes in row-major order. With x of shape [N, C] and
// axis 1 it picks x[i, idx[i]], a class label's score.
func Gather(x *Tensor, axis int, idx []int) *Tensor {
	a := x.axis("Gather", axis)
	shape := slices.Delete(append([]int{}, x.shape...), a, a+1)
	out := New(x.dtype, shape...)
	if len(idx) != out.Len() {
		shapePanic("Gather", fmt.Sprintf("%d indices for %d positions", len(idx), out.Len()), x.shape)
	}
	switch d := out.data.(type) {
	case []float32:
		gatherScatter(x, x.data.([]float32), d, a, idx, false)
	case []float64:
		gatherScatter(x, x.data.([]float64), d, a, idx, false)
	}
	return out
}

// Scatter returns a zero tensor of shape with src's entries added at the
// positions Gather would read (repeats add up): the adjoint of Gather.
func Scatter(src *Tensor, shape []int, axis int, idx []int) *Tensor {
	out := New(src.dtype, shape...)
	a := out.axis("Scatter", axis)
	want := slices.Delete(append([]int{}, shape...), a, a+1)
	if !equalShape(want, src.shape) || len(idx) != src.Len() {
		shapePanic("Scatter", "source does not fit the target with axis removed", src.shape, shape)
	}
	c := src.Contiguous()
	switch d := out.data.(type) {
	case []float32:
		gatherScatter(out, d, c.data.([]float32)[c.offset:], a, idx, true)
	case []float64:
		gatherScatter(out, d, c.data.([]float64)[c.offset:], a, idx, true)
	}
	return out
}

// gatherScatter walks the positions of big with axis removed; it copies
// big's picked entries into small (gather) or adds small into them
// (scatter).
func gatherScatter[T Float](big *Tensor, bd []T, small []T, axis int, idx []int, scatter bool) {
	n := big.shape[axis]
	outer := 1
	for _, s := range big.shape[:axis] {
		outer *= s
	}
	inner := 1
	for _, s := range big.shape[axis+1:] {
		inner *= s
	}
	// big may be a strided view (gather reads through views).
	offs := make([]int, 0, outer*inner)
	sub := append(append([]int{}, big.shape[:axis]...), big.shape[axis+1:]...)
	subStrides := append(append([]int{}, big.strides[:axis]...), big.strides[axis+1:]...)
	forEachOffset(sub, subStrides, big.offset, func(o int) { offs = append(offs, o) })
	st := big.strides[axis]
	for p, o := range offs {
		k := idx[p]
		if k < 0 || k >= n {
			op := "Gather"
			if scatter {
				op = "Scatter"
			}
			shapePanic(op, fmt.Sprintf("index %d out of range on axis %d", k, axis), big.shape)
		}
		if scatter {
			bd[o+k*st] += small[p]
		} else {
			small[p] = bd[o+k*st]
		}
	}
}
