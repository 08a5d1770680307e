package ag

import (
	"github.com/nabla-go/nabla/tensor"
)

// Add returns a + b, broadcasting as numpy does.
func Add(a, b *Node) *Node {
	return Apply("Add", tensor.Add(a.value, b.value), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{SumTo(g, in[0].Shape()...), SumTo(g, in[1].Shape()...)}
	}, a, b)
}

// Sub returns a − b, broadcasting.
func Sub(a, b *Node) *Node {
	return Apply("Sub", tensor.Sub(a.value, b.value), func(g *Node, in []*Node, _ *Node, need []bool) []*Node {
		var gb *Node
		if need[1] {
			gb = SumTo(Neg(g), in[1].Shape()...)
		}
		return []*Node{SumTo(g, in[0].Shape()...), gb}
	}, a, b)
}

// Mul returns a·b element-wise, broadcasting.
func Mul(a, b *Node) *Node {
	return Apply("Mul", tensor.Mul(a.value, b.value), func(g *Node, in []*Node, _ *Node, need []bool) []*Node {
		var ga, gb *Node
		if need[0] {
			ga = SumTo(Mul(g, in[1]), in[0].Shape()...)
		}
		if need[1] {
			gb = SumTo(Mul(g, in[0]), in[1].Shape()...)
		}
		return []*Node{ga, gb}
	}, a, b)
}

// Div returns a / b element-wise, broadcasting.
func Div(a, b *Node) *Node {
	return Apply("Div", tensor.Div(a.value, b.value), func(g *Node, in []*Node, out *Node, need []bool) []*Node {
		var ga, gb *Node
		if need[0] {
			ga = SumTo(Div(g, in[1]), in[0].Shape()...)
		}
		if need[1] { // d(a/b)/db = −a/b² = −out/b
			gb = SumTo(Neg(Div(Mul(g, out), in[1])), in[1].Shape()...)
		}
		return []*Node{ga, gb}
	}, a, b)
}

// Neg returns −x.
func Neg(x *Node) *Node {
	return Apply("Neg", tensor.Neg(x.value), func(g *Node, _ []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Neg(g)}
	}, x)
}

// Scale returns c·x for a constant c.
func Scale(x *Node, c float64) *Node {
	return Apply("Scale", tensor.Scale(x.value, c), func(g *Node, _ []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Scale(g, c)}
	}, x)
}

// AddScalar returns x + c for a constant c.
func AddScalar(x *Node, c float64) *Node {
	return Apply("AddScalar", tensor.AddScalar(x.value, c), func(g *Node, _ []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{g}
	}, x)
}

// Exp returns eˣ element-wise.
func Exp(x *Node) *Node {
	return Apply("Exp", tensor.Exp(x.value), func(g *Node, _ []*Node, out *Node, _ []bool) []*Node {
		return []*Node{Mul(g, out)}
	}, x)
}

// Log returns the natural logarithm element-wise.
func Log(x *Node) *Node {
	return Apply("Log", tensor.Log(x.value), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Div(g, in[0])}
	}, x)
}

// Sqrt returns √x element-wise.
func Sqrt(x *Node) *Node {
	return Apply("Sqrt", tensor.Sqrt(x.value), func(g *Node, _ []*Node, out *Node, _ []bool) []*Node {
		return []*Node{Div(Scale(g, 0.5), out)}
	}, x)
}

// Square returns x² element-wise.
func Square(x *Node) *Node {
	return Apply("Square", tensor.Square(x.value), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Mul(Scale(g, 2), in[0])}
	}, x)
}

// PowScalar returns xᵖ element-wise for a constant p.
//
// The gradient is p·x^(p−1), and exactly 0 for p = 0 (where the formula
// would give 0·∞ = NaN at x = 0), as in PyTorch.
func PowScalar(x *Node, p float64) *Node {
	return Apply("PowScalar", tensor.PowScalar(x.value, p), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		if p == 0 {
			return []*Node{Const(tensor.ZerosLike(in[0].value))}
		}
		return []*Node{Mul(Scale(g, p), PowScalar(in[0], p-1))}
	}, x)
}

// Pow returns aᵇ element-wise, broadcasting. The gradient with respect to
// a is b·a^(b−1), taken as 0 where b = 0. The gradient with respect to b
// is g·aᵇ·ln a, taken as 0 where a = 0 and b ≥ 0 (PyTorch's convention);
// for a < 0 it is NaN.
func Pow(a, b *Node) *Node {
	return Apply("Pow", tensor.Pow(a.value, b.value), func(g *Node, in []*Node, out *Node, need []bool) []*Node {
		var ga, gb *Node
		if need[0] {
			// b·a^(b−1), taken as 0 where b = 0 (PyTorch's convention; the
			// formula gives 0·∞ = NaN at a = 0).
			d := Mul(g, Mul(in[1], Pow(in[0], AddScalar(in[1], -1))))
			bZero := tensor.Equal(in[1].value, tensor.Zeros(out.DType()))
			ga = SumTo(Where(bZero, Const(tensor.Zeros(out.DType())), d), in[0].Shape()...)
		}
		if need[1] {
			// Where a = 0 and b ≥ 0 take log 1 = 0 in place of log 0.
			zero := tensor.Zeros(out.DType())
			mask := tensor.Mul(tensor.Equal(in[0].value, zero), tensor.GreaterEqual(in[1].value, zero))
			safeA := Where(mask, Const(tensor.Ones(out.DType())), in[0])
			gb = SumTo(Mul(Mul(g, out), Log(safeA)), in[1].Shape()...)
		}
		return []*Node{ga, gb}
	}, a, b)
}

// Abs returns |x|; its derivative is sign(x), 0 at 0 (as in PyTorch).
func Abs(x *Node) *Node {
	return Apply("Abs", tensor.Abs(x.value), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Mul(g, Const(tensor.Sign(in[0].value)))}
	}, x)
}

// Maximum returns the element-wise larger of a and b, broadcasting. Where
// they are equal the gradient is split evenly, as in PyTorch.
func Maximum(a, b *Node) *Node {
	return Apply("Maximum", tensor.Maximum(a.value, b.value), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return pickGrads(g, in, tensor.Greater(in[0].value, in[1].value), tensor.Equal(in[0].value, in[1].value))
	}, a, b)
}

// Minimum returns the element-wise smaller of a and b, broadcasting; ties
// split the gradient evenly.
func Minimum(a, b *Node) *Node {
	return Apply("Minimum", tensor.Minimum(a.value, b.value), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return pickGrads(g, in, tensor.Less(in[0].value, in[1].value), tensor.Equal(in[0].value, in[1].value))
	}, a, b)
}

// pickGrads routes g to a where first is 1, to b where it is 0, and half to
// each where tie is 1.
func pickGrads(g *Node, in []*Node, first, tie *tensor.Tensor) []*Node {
	wa := tensor.Add(first, tensor.Scale(tie, 0.5))
	wb := tensor.AddScalar(tensor.Neg(wa), 1)
	return []*Node{
		SumTo(Mul(g, Const(wa)), in[0].Shape()...),
		SumTo(Mul(g, Const(wb)), in[1].Shape()...),
	}
}

// Clamp limits x to [lo, hi] (math.Inf leaves a side open). The gradient
// passes where lo ≤ x ≤ hi, bounds included, as in PyTorch.
func Clamp(x *Node, lo, hi float64) *Node {
	return Apply("Clamp", tensor.Clamp(x.value, lo, hi), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		xv := in[0].value
		dt := xv.DType()
		inside := tensor.Mul(tensor.GreaterEqual(xv, tensor.Scalar(dt, lo)), tensor.LessEqual(xv, tensor.Scalar(dt, hi)))
		return []*Node{Mul(g, Const(inside))}
	}, x)
}

// Where returns a where cond is non-zero and b elsewhere, broadcasting.
// cond is a constant mask (no gradient flows to it).
func Where(cond *tensor.Tensor, a, b *Node) *Node {
	return Apply("Where", tensor.Where(cond, a.value, b.value), func(g *Node, in []*Node, _ *Node, need []bool) []*Node {
		var ga, gb *Node
		zero := Const(tensor.Zeros(g.DType()))
		if need[0] {
			ga = SumTo(Where(cond, g, zero), in[0].Shape()...)
		}
		if need[1] {
			gb = SumTo(Where(cond, zero, g), in[1].Shape()...)
		}
		return []*Node{ga, gb}
	}, a, b)
}
