package ag

import (
	"fmt"
	"slices"

	"github.com/nabla-go/nabla/tensor"
)

// matMulVector is MatMul with at least one 1-D operand, by torch.matmul's
// rules: a 1-D a is a row [1, k] whose added axis is removed from the
// result, a 1-D b a column [k, 1] likewise, so [k]·[k] is a scalar. It is
// composed from Reshape and MatMul, so its VJP is theirs.
func matMulVector(a, b *Node) *Node {
	as, bs := a.Shape(), b.Shape()
	bad := func(msg string) {
		panic(&tensor.ShapeError{Op: "MatMul", Shapes: [][]int{slices.Clone(as), slices.Clone(bs)}, Msg: msg})
	}
	if len(as) == 0 || len(bs) == 0 {
		bad("operands need at least 1 dimension")
	}
	k := as[len(as)-1]
	kb := bs[0]
	if len(bs) > 1 {
		kb = bs[len(bs)-2]
	}
	if k != kb {
		bad(fmt.Sprintf("inner dimensions differ (%d vs %d)", k, kb))
	}
	switch {
	case len(as) == 1 && len(bs) == 1:
		return Reshape(MatMul(Reshape(a, 1, k), Reshape(b, k, 1)))
	case len(as) == 1:
		out := MatMul(Reshape(a, 1, k), b) // [..., 1, n]
		s := out.Shape()
		return Reshape(out, append(slices.Clone(s[:len(s)-2]), s[len(s)-1])...)
	default:
		out := MatMul(a, Reshape(b, k, 1)) // [..., m, 1]
		s := out.Shape()
		return Reshape(out, s[:len(s)-1]...)
	}
}

// sliceBounds turns Slice's possibly negative start and end into indices
// on axis (counting a negative one from the axis' end); tensor.Slice
// checks what comes out.
func sliceBounds(x *tensor.Tensor, axis, start, end int) (int, int) {
	if axis < -x.Dims() || axis >= x.Dims() {
		return start, end // tensor.Slice names the bad axis
	}
	n := x.Dim(axis)
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	return start, end
}
