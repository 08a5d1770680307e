package optim

import (
	"math"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// ClipGradNorm rescales the gradients of params so that their global L2
// norm (the norm of all gradient elements together) is at most maxNorm,
// as torch.nn.utils.clip_grad_norm_: with n the norm, every gradient is
// multiplied by maxNorm/(n + 1e-6) when that is below 1, and left alone
// otherwise. Parameters with no gradient are skipped. It returns n, the
// norm before clipping. A NaN or infinite norm is returned as is and, as
// in PyTorch 1.13 (error_if_nonfinite=False), turns the gradients into
// NaNs or zeros.
//
// The norm is computed, as PyTorch does, as the norm of the per-parameter
// norms, each accumulated in float64.
//
// Gradients are scaled in place when they are contiguous and no other
// parameter's gradient shares their buffer (which is always so for
// gradients ag.Backward stored); a gradient set with SetGrad is also
// scaled in place, so a caller that still holds that tensor sees the
// change. A shared or strided gradient is replaced, through SetGrad, by a
// scaled copy, so that no element is scaled twice.
func ClipGradNorm(params []*ag.Node, maxNorm float64) float64 {
	var sq float64
	for _, p := range params {
		g := p.Grad()
		if g == nil {
			continue
		}
		var s float64
		if g.DType() == tensor.Float64 {
			s = sumSquares(tensor.Data[float64](g))
		} else {
			s = sumSquares(tensor.Data[float32](g))
		}
		n := math.Sqrt(s)
		sq += n * n
	}
	norm := math.Sqrt(sq)
	coef := maxNorm / (norm + 1e-6)
	if coef >= 1 {
		return norm
	}
	// Decide which gradients to copy before scaling any: a shared buffer
	// must be read unscaled by every parameter that holds it.
	copyGrad := make([]bool, len(params))
	for i, p := range params {
		if g := p.Grad(); g != nil {
			copyGrad[i] = !g.IsContiguous() || sharesGrad(params, i)
		}
	}
	for i, p := range params {
		g := p.Grad()
		switch {
		case g == nil:
		case copyGrad[i]:
			p.SetGrad(tensor.Scale(g, coef))
		case g.DType() == tensor.Float64:
			scaleInPlace(tensor.Data[float64](g), coef)
		default:
			scaleInPlace(tensor.Data[float32](g), coef)
		}
	}
	return norm
}

// sharesGrad reports whether the gradient of params[i] shares its buffer
// with another parameter's gradient. It costs O(len(params)) buffer
// comparisons, so clipping is quadratic in the number of parameters (a
// pointer comparison each: negligible below thousands of parameters).
func sharesGrad(params []*ag.Node, i int) bool {
	g := params[i].Grad()
	for j, q := range params {
		if h := q.Grad(); j != i && h != nil && tensor.SameBuffer(g, h) {
			return true
		}
	}
	return false
}

func sumSquares[T tensor.Float](x []T) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

func scaleInPlace[T tensor.Float](x []T, c float64) {
	ct := T(c)
	for i := range x {
		x[i] *= ct
	}
}
