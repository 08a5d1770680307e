package ag

import "github.com/nabla-go/nabla/tensor"

// MatMul returns the matrix product a·b of [..., m, k] and [..., k, n],
// broadcasting batch dimensions. A 1-D operand follows PyTorch's
// torch.matmul rules (see matMulVector): [k]·[k] is the dot product (a
// scalar), [k]·[..., k, n] is [..., n] and [..., m, k]·[k] is [..., m]. Its VJP is the pair of products g·bᵀ and
// aᵀ·g: the m·k×k·n Jacobian is never formed.
//
// Each gradient is produced in its input's memory layout: for an input
// that is a transposed view, such as the weight of a linear layer used as
// x·Wᵀ, the product is computed transposed, so that the gradient that
// reaches W is contiguous and needs no copy.
func MatMul(a, b *Node) *Node {
	if a.value.Dims() == 1 || b.value.Dims() == 1 {
		return matMulVector(a, b)
	}
	return Apply("MatMul", tensor.MatMul(a.value, b.value), func(g *Node, in []*Node, _ *Node, need []bool) []*Node {
		a, b := in[0], in[1]
		var ga, gb *Node
		if need[0] {
			if transposedMatrix(a.value) && b.value.Dims() == 2 && g.value.Dims() == 2 {
				ga = T(MatMul(b, T(g))) // (g·bᵀ)ᵀ = b·gᵀ
			} else {
				ga = SumTo(MatMul(g, T(b)), a.Shape()...)
			}
		}
		if need[1] {
			switch {
			case b.value.Dims() == 2 && a.value.Dims() > 2:
				// One weight matrix shared by a batch: fold the batch into rows.
				k, n := a.value.Dim(-1), g.value.Dim(-1)
				a2, g2 := Reshape(a, -1, k), Reshape(g, -1, n)
				if transposedMatrix(b.value) {
					gb = T(MatMul(T(g2), a2))
				} else {
					gb = MatMul(T(a2), g2)
				}
			case transposedMatrix(b.value) && a.value.Dims() == 2:
				gb = T(MatMul(T(g), a)) // (aᵀ·g)ᵀ = gᵀ·a
			default:
				gb = SumTo(MatMul(T(a), g), b.Shape()...)
			}
		}
		return []*Node{ga, gb}
	}, a, b)
}

// transposedMatrix reports whether t is a 2-D view whose transpose is
// contiguous (column-major storage).
func transposedMatrix(t *tensor.Tensor) bool {
	if t.Dims() != 2 || t.IsContiguous() {
		return false
	}
	st, sh := t.Strides(), t.Shape()
	return st[0] == 1 && st[1] == sh[0]
}

// Linear returns x·wᵀ + b for x [..., in], weight w [out, in] (PyTorch's
// layout) and bias b [out], or no bias when b is nil. It is a primitive for
// speed: the bias is added inside the matrix product, not in a pass of its
// own. Its VJP is g·w for x, gᵀ·x for w (contiguous, in w's layout) and
// the sum of g over the batch for b.
func Linear(x, w, b *Node) *Node {
	inputs, bv := linearInputs(x, w, b)
	return Apply("Linear", tensor.Linear(x.value, w.value, bv), linearVJP, inputs...)
}

// LinearReLU returns max(0, x·wᵀ + b): a linear layer and its ReLU as one
// primitive, for speed (the activation is applied in place to the
// product's output; no second tensor, no second pass). Its VJP masks g
// where the output is not positive (exactly ReLU's, since the output is
// positive where the pre-activation is) and continues as Linear's.
func LinearReLU(x, w, b *Node) *Node {
	inputs, bv := linearInputs(x, w, b)
	return Apply("LinearReLU", tensor.LinearReLU(x.value, w.value, bv), func(g *Node, in []*Node, out *Node, need []bool) []*Node {
		return afterReLU(g, out.value, func(m *Node) []*Node { return linearVJP(m, in, nil, need) })
	}, inputs...)
}

func linearInputs(x, w, b *Node) ([]*Node, *tensor.Tensor) {
	if b == nil {
		return []*Node{x, w}, nil
	}
	return []*Node{x, w, b}, b.value
}

func linearVJP(g *Node, in []*Node, _ *Node, need []bool) []*Node {
	x, w := in[0], in[1]
	hasB := len(in) == 3
	if !g.requiresGrad && !x.requiresGrad && !w.requiresGrad && (!hasB || !in[2].requiresGrad) {
		// No graph of the gradient: the kernels directly (same bits).
		gx, gw, gb := tensor.LinearGrads(g.value, x.value, w.value, need[0], need[1], hasB && need[2])
		gs := make([]*Node, len(in))
		for i, t := range []*tensor.Tensor{gx, gw, gb}[:len(in)] {
			if t != nil {
				gs[i] = Const(t)
			}
		}
		return gs
	}
	out, k := w.value.Dim(0), w.value.Dim(1)
	g2 := Reshape(g, -1, out)
	gs := make([]*Node, len(in))
	if need[0] {
		gs[0] = Reshape(MatMul(g2, w), x.Shape()...)
	}
	if need[1] {
		gs[1] = MatMul(T(g2), Reshape(x, -1, k))
	}
	if len(in) == 3 && need[2] {
		gs[2] = Sum(g2, 0)
	}
	return gs
}
