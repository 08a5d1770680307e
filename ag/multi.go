package ag

import (
	"fmt"
	"slices"

	"github.com/nabla-go/nabla/tensor"
)

// FuncN is a differentiable function of several tensors, written with this
// package's ops: the multi-input form of Func (torch.autograd.functional
// takes a tuple of inputs the same way).
type FuncN func(xs []*Node) *Node

// VJPN evaluates f at xs and returns f(xs) and, for each input, the
// vector-Jacobian product vᵀ·∂f/∂xᵢ (shaped like xᵢ), with v shaped like
// f(xs): one backward pass for all of them.
func VJPN(f FuncN, xs []*tensor.Tensor, v *tensor.Tensor) (y *tensor.Tensor, vjps []*tensor.Tensor) {
	vars := vars(xs)
	yn := f(vars)
	return yn.value, VJPAt(yn, vars, v)
}

// JVPN evaluates f at xs and returns f(xs) and the Jacobian-vector product
// Σᵢ (∂f/∂xᵢ)·vᵢ, the directional derivative of f along the tangents vs
// (one per input, shaped like it), by double backward as JVP.
func JVPN(f FuncN, xs, vs []*tensor.Tensor) (y, jvp *tensor.Tensor) {
	vars := vars(xs)
	yn := f(vars)
	return yn.value, JVPAt(yn, vars, vs)
}

// JacobianN returns the Jacobian of f at xs with respect to each input:
// the i-th has shape f(xs).shape ++ xs[i].shape. It runs one backward pass
// per output element, as Jacobian.
func JacobianN(f FuncN, xs []*tensor.Tensor) []*tensor.Tensor {
	vars := vars(xs)
	return JacobianAt(f(vars), vars)
}

// HessianN returns the second derivatives of a scalar f at xs as blocks:
// H[i][j] = ∂²f/∂xᵢ∂xⱼ, of shape xs[i].shape ++ xs[j].shape (H[j][i] is
// the transpose of H[i][j]).
func HessianN(f FuncN, xs []*tensor.Tensor) [][]*tensor.Tensor {
	vars := vars(xs)
	return HessianAt(f(vars), vars)
}

// HVPN returns the Hessian-vector product of a scalar f at xs along vs
// without forming the Hessian: for each input i, Σⱼ H[i][j]·vⱼ, shaped
// like xs[i].
func HVPN(f FuncN, xs, vs []*tensor.Tensor) []*tensor.Tensor {
	vars := vars(xs)
	return HVPAt(f(vars), vars, vs)
}

func vars(xs []*tensor.Tensor) []*Node {
	out := make([]*Node, len(xs))
	for i, x := range xs {
		out[i] = Var(x)
	}
	return out
}

// The At forms differentiate an output already built from leaves that
// require gradients: a model's loss with respect to its parameters, say,
// without copying them into a function of tensors:
//
//	loss := lossFn(model.Forward(x), y)
//	hv := ag.HVPAt(loss, params, directions)
//
// The graph of y is walked once per backward pass and left as it was: y
// can be differentiated again. Stored gradients (Node.Grad) are not
// touched.

// VJPAt returns vᵀ·∂y/∂xᵢ for each x in xs (see VJPN).
func VJPAt(y *Node, xs []*Node, v *tensor.Tensor) []*tensor.Tensor {
	return values(Grad(y, xs, WithUpstream(v)))
}

// JVPAt returns Σᵢ (∂y/∂xᵢ)·vᵢ (see JVPN). vs must be shaped like xs.
func JVPAt(y *Node, xs []*Node, vs []*tensor.Tensor) *tensor.Tensor {
	checkTangents("JVPAt", xs, vs)
	u := Var(tensor.ZerosLike(y.value))
	gs := Grad(y, xs, WithUpstreamNode(u), CreateGraph())
	dot := dotWith(gs, vs)
	if dot == nil { // y does not depend on xs
		return tensor.ZerosLike(y.value)
	}
	return Grad(dot, []*Node{u})[0].value
}

// JacobianAt returns ∂y/∂xᵢ for each x in xs, of shape y.shape ++
// xᵢ.shape (see JacobianN).
func JacobianAt(y *Node, xs []*Node) []*tensor.Tensor {
	ny := y.value.Len()
	out := make([]*tensor.Tensor, len(xs))
	for i, x := range xs {
		out[i] = tensor.New(x.DType(), ny, x.value.Len())
	}
	for k := range ny {
		rows := Grad(y, xs, WithUpstream(oneHot(y.value, k)))
		for i, r := range rows {
			tensor.Slice(out[i], 0, k, k+1).CopyFrom(tensor.Reshape(r.value, 1, r.value.Len()))
		}
	}
	for i, x := range xs {
		out[i] = tensor.Reshape(out[i], slices.Concat(y.Shape(), x.Shape())...)
	}
	return out
}

// HessianAt returns the blocks ∂²y/∂xᵢ∂xⱼ of a scalar y, of shape
// xᵢ.shape ++ xⱼ.shape (see HessianN): the Jacobians of the gradient,
// reverse mode over reverse mode.
func HessianAt(y *Node, xs []*Node) [][]*tensor.Tensor {
	gs := Grad(y, xs, CreateGraph())
	out := make([][]*tensor.Tensor, len(xs))
	for i, g := range gs {
		if !g.requiresGrad { // ∂y/∂xᵢ is a constant: its row of blocks is 0
			out[i] = make([]*tensor.Tensor, len(xs))
			for j, x := range xs {
				out[i][j] = tensor.New(x.DType(), slices.Concat(xs[i].Shape(), x.Shape())...)
			}
			continue
		}
		out[i] = JacobianAt(g, xs)
	}
	return out
}

// HVPAt returns Σⱼ ∂²y/∂xᵢ∂xⱼ·vⱼ for each x in xs, for a scalar y (see
// HVPN): the gradient of ⟨∇y, v⟩.
func HVPAt(y *Node, xs []*Node, vs []*tensor.Tensor) []*tensor.Tensor {
	checkTangents("HVPAt", xs, vs)
	dot := dotWith(Grad(y, xs, CreateGraph()), vs)
	if dot == nil {
		out := make([]*tensor.Tensor, len(xs))
		for i, x := range xs {
			out[i] = tensor.ZerosLike(x.value)
		}
		return out
	}
	return values(Grad(dot, xs))
}

// dotWith returns Σᵢ ⟨gᵢ, vᵢ⟩ over the gradients that depend on something,
// or nil when none does.
func dotWith(gs []*Node, vs []*tensor.Tensor) *Node {
	var dot *Node
	for i, g := range gs {
		if !g.requiresGrad {
			continue
		}
		t := Sum(Mul(g, Const(vs[i])))
		if dot == nil {
			dot = t
		} else {
			dot = Add(dot, t)
		}
	}
	return dot
}

func checkTangents(op string, xs []*Node, vs []*tensor.Tensor) {
	if len(vs) != len(xs) {
		panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("%d tangents for %d inputs", len(vs), len(xs))})
	}
	for i, x := range xs {
		if !tensor.EqualShape(x.Shape(), vs[i].Shape()) {
			panic(&tensor.ShapeError{Op: op, Shapes: [][]int{slices.Clone(x.Shape()), slices.Clone(vs[i].Shape())}, Msg: fmt.Sprintf("tangent %d is not shaped like its input", i)})
		}
	}
}

func values(ns []*Node) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(ns))
	for i, n := range ns {
		out[i] = n.value
	}
	return out
}
