package ag

import "github.com/nabla-go/nabla/tensor"

// MatMul returns the matrix product a·b of [..., m, k] and [..., k, n],
// broadcasting batch dimensions. Its VJP is the pair of products g·bᵀ and
// aᵀ·g: the m·k×k·n Jacobian is never formed.
func MatMul(a, b *Node) *Node {
	return Apply("MatMul", tensor.MatMul(a.value, b.value), func(g *Node, in []*Node, _ *Node, need []bool) []*Node {
		a, b := in[0], in[1]
		var ga, gb *Node
		if need[0] {
			ga = SumTo(MatMul(g, T(b)), a.Shape()...)
		}
		if need[1] {
			if b.value.Dims() == 2 && a.value.Dims() > 2 {
				// One weight matrix shared by a batch: fold the batch into rows.
				k, n := a.value.Dim(-1), g.value.Dim(-1)
				gb = MatMul(T(Reshape(a, -1, k)), Reshape(g, -1, n))
			} else {
				gb = SumTo(MatMul(T(a), g), b.Shape()...)
			}
		}
		return []*Node{ga, gb}
	}, a, b)
}
