package ag

import (
	"slices"

	"github.com/nabla-go/nabla/tensor"
)

// Reshape returns x with a new shape of the same size (one dimension may
// be −1).
func Reshape(x *Node, shape ...int) *Node {
	return Apply("Reshape", tensor.Reshape(x.value, shape...), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Reshape(g, in[0].Shape()...)}
	}, x)
}

// Permute reorders x's axes: axis i of the result is axis perm[i] of x.
func Permute(x *Node, perm ...int) *Node {
	perm = slices.Clone(perm)
	return Apply("Permute", tensor.Permute(x.value, perm...), func(g *Node, _ []*Node, _ *Node, _ []bool) []*Node {
		inv := make([]int, len(perm))
		for i, p := range perm {
			if p < 0 {
				p += len(perm)
			}
			inv[p] = i
		}
		return []*Node{Permute(g, inv...)}
	}, x)
}

// Transpose swaps axes a and b.
func Transpose(x *Node, a, b int) *Node {
	return Apply("Transpose", tensor.Transpose(x.value, a, b), func(g *Node, _ []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Transpose(g, a, b)}
	}, x)
}

// T transposes a matrix (the last two axes of a batch).
func T(x *Node) *Node { return Transpose(x, -2, -1) }

// BroadcastTo stretches x to shape by numpy's rules.
func BroadcastTo(x *Node, shape ...int) *Node {
	return Apply("BroadcastTo", tensor.BroadcastTo(x.value, shape...), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{SumTo(g, in[0].Shape()...)}
	}, x)
}

// SumTo sums x down to shape, undoing a broadcast; it returns x itself when
// the shapes already agree.
func SumTo(x *Node, shape ...int) *Node {
	if tensor.EqualShape(x.Shape(), shape) {
		return x
	}
	return Apply("SumTo", tensor.SumTo(x.value, shape...), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{BroadcastTo(g, in[0].Shape()...)}
	}, x)
}

// Slice keeps [start, end) of axis. A negative start or end counts from
// the end of the axis, as Python's and PyTorch's indices do: Slice(x, 0,
// -3, -1) keeps the third- and second-last rows (to keep the last ones,
// pass the axis' length as end). An index still outside [0, len] after
// that, or start > end, panics with a *tensor.ShapeError.
func Slice(x *Node, axis, start, end int) *Node {
	start, end = sliceBounds(x.value, axis, start, end)
	return Apply("Slice", tensor.Slice(x.value, axis, start, end), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{PadSlice(g, in[0].Shape(), axis, start)}
	}, x)
}

// PadSlice places x into zeros of shape at start along axis: the adjoint of
// Slice.
func PadSlice(x *Node, shape []int, axis, start int) *Node {
	shape = slices.Clone(shape)
	return Apply("PadSlice", tensor.PadSlice(x.value, shape, axis, start), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Slice(g, axis, start, start+in[0].value.Dim(axis))}
	}, x)
}

// Concat joins xs along axis.
func Concat(axis int, xs ...*Node) *Node {
	vals := make([]*tensor.Tensor, len(xs))
	for i, x := range xs {
		vals[i] = x.value
	}
	return Apply("Concat", tensor.Concat(axis, vals...), func(g *Node, in []*Node, _ *Node, need []bool) []*Node {
		gs := make([]*Node, len(in))
		at := 0
		for i, x := range in {
			n := x.value.Dim(axis)
			if need[i] {
				gs[i] = Slice(g, axis, at, at+n)
			}
			at += n
		}
		return gs
	}, xs...)
}

// IndexSelect picks entries idx along axis (repeats allowed), as
// torch.index_select.
func IndexSelect(x *Node, axis int, idx []int) *Node {
	idx = slices.Clone(idx)
	return Apply("IndexSelect", tensor.IndexSelect(x.value, axis, idx), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{IndexAdd(g, in[0].Shape(), axis, idx)}
	}, x)
}

// IndexAdd adds entry i of x along axis into zeros of shape at idx[i]: the
// adjoint of IndexSelect.
func IndexAdd(x *Node, shape []int, axis int, idx []int) *Node {
	idx, shape = slices.Clone(idx), slices.Clone(shape)
	return Apply("IndexAdd", tensor.IndexAdd(x.value, shape, axis, idx), func(g *Node, _ []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{IndexSelect(g, axis, idx)}
	}, x)
}

// Gather removes axis from x, keeping entry idx[p] along it at each other
// position p (row-major). For scores [N, C] and labels, Gather(x, 1,
// labels) is each row's score for its label.
func Gather(x *Node, axis int, idx []int) *Node {
	idx = slices.Clone(idx)
	return Apply("Gather", tensor.Gather(x.value, axis, idx), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Scatter(g, in[0].Shape(), axis, idx)}
	}, x)
}

// Scatter adds x into zeros of shape at the positions Gather reads: the
// adjoint of Gather.
func Scatter(x *Node, shape []int, axis int, idx []int) *Node {
	idx, shape = slices.Clone(idx), slices.Clone(shape)
	return Apply("Scatter", tensor.Scatter(x.value, shape, axis, idx), func(g *Node, _ []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Gather(g, axis, idx)}
	}, x)
}
