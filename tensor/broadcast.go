package tensor

// BroadcastShapes returns the shape that shapes broadcast to under numpy's
// rules (align trailing dimensions; a dimension of 1 stretches), or panics
// with a *ShapeError naming op.
func BroadcastShapes(op string, shapes ...[]int) []int {
	nd := 0
	for _, s := range shapes {
		nd = max(nd, len(s))
	}
	out := make([]int, nd)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		for i, d := range s {
			j := nd - len(s) + i
			switch {
			case out[j] == d || d == 1:
			case out[j] == 1:
				out[j] = d
			default:
				shapePanic(op, "shapes do not broadcast", shapes...)
			}
		}
	}
	return out
}

// broadcastStrides returns t's strides as seen from the broadcast shape:
// missing leading dimensions and stretched ones get stride 0.
func broadcastStrides(t *Tensor, shape []int) []int {
	st := make([]int, len(shape))
	k := len(shape) - len(t.shape)
	for i := range t.shape {
		if t.shape[i] != 1 {
			st[k+i] = t.strides[i]
		}
	}
	return st
}

// BroadcastTo returns a view of x stretched to shape (no copy), or panics
// if x does not broadcast to it.
func BroadcastTo(x *Tensor, shape ...int) *Tensor {
	if len(shape) < len(x.shape) {
		shapePanic("BroadcastTo", "cannot broadcast to fewer dimensions", x.shape, shape)
	}
	got := BroadcastShapes("BroadcastTo", x.shape, shape)
	if !equalShape(got, shape) {
		shapePanic("BroadcastTo", "shape does not broadcast to the target", x.shape, shape)
	}
	return viewOf(x, shape, broadcastStrides(x, shape), x.offset)
}

// SumTo sums x over the dimensions that broadcasting stretched, so that
// the result has shape; it is the adjoint of BroadcastTo. It panics if
// shape does not broadcast to x's shape.
func SumTo(x *Tensor, shape ...int) *Tensor {
	if equalShape(x.shape, shape) {
		return x
	}
	if got := BroadcastShapes("SumTo", shape, x.shape); !equalShape(got, x.shape) {
		shapePanic("SumTo", "target does not broadcast to the tensor's shape", x.shape, shape)
	}
	lead := len(x.shape) - len(shape)
	var axes []int
	for i := range x.shape {
		if i < lead || (shape[i-lead] == 1 && x.shape[i] != 1) {
			axes = append(axes, i)
		}
	}
	return Reshape(SumKeep(x, axes...), shape...)
}
