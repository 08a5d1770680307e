package ag

import (
	"slices"

	"github.com/nabla-go/nabla/tensor"
)

// Func is a differentiable function of one tensor, written with this
// package's ops.
type Func func(x *Node) *Node

// VJP evaluates f at x and returns f(x) and the vector-Jacobian product
// vᵀ·J, where J = ∂f/∂x at x and v is shaped like f(x). It costs about one
// extra evaluation of f, whatever the sizes: this is what backpropagation
// does at every op, and why training never builds a Jacobian.
func VJP(f Func, x, v *tensor.Tensor) (y, vjp *tensor.Tensor) {
	xn := Var(x)
	yn := f(xn)
	return yn.value, Grad(yn, []*Node{xn}, WithUpstream(v))[0].value
}

// JVP evaluates f at x and returns f(x) and the Jacobian-vector product J·v
// (v shaped like x): the directional derivative of f along v, forward
// mode. It uses the double-backward trick: u ↦ Jᵀu is linear in u, and
// its VJP with v is J·v. Every VJP here is built from differentiable ops,
// which is what makes this work (PyTorch's autograd.functional.jvp does
// the same).
func JVP(f Func, x, v *tensor.Tensor) (y, jvp *tensor.Tensor) {
	xn := Var(x)
	yn := f(xn)
	u := Var(tensor.ZerosLike(yn.value))
	gx := Grad(yn, []*Node{xn}, WithUpstreamNode(u), CreateGraph())[0]
	if !gx.requiresGrad { // f does not depend on x: J = 0
		return yn.value, tensor.ZerosLike(yn.value)
	}
	return yn.value, Grad(gx, []*Node{u}, WithUpstream(v))[0].value
}

// Jacobian returns ∂f/∂x at x as a tensor of shape f(x).shape ++ x.shape,
// built by reverse mode: one VJP per output element, with a one-hot v.
// Use it to look at small layers; it is too costly for training, which
// needs only VJPs.
func Jacobian(f Func, x *tensor.Tensor) *tensor.Tensor {
	xn := Var(x)
	yn := f(xn)
	ny, nx := yn.value.Len(), x.Len()
	out := tensor.New(x.DType(), ny, nx)
	for i := 0; i < ny; i++ {
		e := oneHot(yn.value, i)
		row := Grad(yn, []*Node{xn}, WithUpstream(e))[0].value
		tensor.Slice(out, 0, i, i+1).CopyFrom(tensor.Reshape(row, 1, nx))
	}
	return tensor.Reshape(out, slices.Concat(yn.Shape(), x.Shape())...)
}

// JacobianFwd is Jacobian built by forward mode: one JVP per input
// element, giving a column each. It is the cheaper direction when x has
// fewer elements than f(x).
func JacobianFwd(f Func, x *tensor.Tensor) *tensor.Tensor {
	var ys []int
	var out *tensor.Tensor
	nx := x.Len()
	for j := 0; j < nx; j++ {
		y, col := JVP(f, x, oneHot(x, j))
		if out == nil {
			ys = y.Shape()
			out = tensor.New(x.DType(), y.Len(), nx)
		}
		tensor.Slice(out, 1, j, j+1).CopyFrom(tensor.Reshape(col, y.Len(), 1))
	}
	if out == nil { // x has no elements
		y := f(Var(x)).value
		return tensor.New(x.DType(), slices.Concat(y.Shape(), x.Shape())...)
	}
	return tensor.Reshape(out, slices.Concat(ys, x.Shape())...)
}

// Hessian returns the matrix of second derivatives of a scalar f at x,
// shaped x.shape ++ x.shape: the Jacobian of the gradient, by reverse mode
// over reverse mode.
func Hessian(f Func, x *tensor.Tensor) *tensor.Tensor {
	return Jacobian(gradFunc(f), x)
}

// HVP returns the Hessian-vector product H·v of a scalar f at x without
// forming H: the gradient of ⟨∇f(x), v⟩.
func HVP(f Func, x, v *tensor.Tensor) *tensor.Tensor {
	_, hv := VJP(gradFunc(f), x, v) // H is symmetric, so vᵀH = (Hv)ᵀ
	return hv
}

// gradFunc returns x ↦ ∇f(x) as a differentiable function.
func gradFunc(f Func) Func {
	return func(x *Node) *Node {
		return Grad(f(x), []*Node{x}, CreateGraph())[0]
	}
}

func oneHot(like *tensor.Tensor, i int) *tensor.Tensor {
	e := tensor.New(like.DType(), like.Len())
	e.Set(1, i)
	return tensor.Reshape(e, like.Shape()...)
}
