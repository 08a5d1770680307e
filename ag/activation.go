package ag

import (
	"math"

	"github.com/nabla-go/nabla/tensor"
)

// Activations are primitives with fused forward kernels (for speed, and
// for stability in Sigmoid and Softplus); their derivatives are composed
// from other ops so that they can be differentiated again. Conventions at
// kinks follow PyTorch: ReLU'(0) = 0, LeakyReLU'(0) = slope, ELU'(0) = alpha
// (the left branch), |x|' = 0 at 0.

// ReLU returns max(0, x). Its derivative is 1 for x > 0 and 0 elsewhere,
// ReLU'(0) = 0.
func ReLU(x *Node) *Node {
	return Apply("ReLU", tensor.ReLU(x.value), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{maskPositive(g, in[0].value)}
	}, x)
}

// afterReLU is the backward pass of an op with a fused ReLU (LinearReLU,
// Conv2DReLU, BatchNormReLU): it masks g where the op's output is not
// positive, hands the masked gradient to vjp, and, when no graph of the
// backward pass is recorded, recycles the masked gradient afterwards —
// it is dead then, since vjp's results are new products and sums that
// share no buffer with it. That saves a buffer of the output's size a
// step for every fused layer.
func afterReLU(g *Node, out *tensor.Tensor, vjp func(m *Node) []*Node) []*Node {
	m := maskPositive(g, out)
	gs := vjp(m)
	if !m.RequiresGrad() {
		tensor.Recycle(m.value)
	}
	return gs
}

// maskPositive is g where x > 0 and 0 elsewhere, in one pass (a primitive
// for speed: it is ReLU's whole backward pass). It is linear in g, so its
// own VJP is itself; x is a constant mask.
func maskPositive(g *Node, x *tensor.Tensor) *Node {
	if !g.requiresGrad && !g.untracked {
		return Const(tensor.MaskPositive(g.value, x)) // what Apply would make, without its rule
	}
	return Apply("MaskPositive", tensor.MaskPositive(g.value, x), func(gg *Node, _ []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{maskPositive(gg, x)}
	}, g)
}

// LeakyReLU returns x for x > 0 and slope·x elsewhere (PyTorch's default
// slope is 0.01; see DefaultLeakySlope).
func LeakyReLU(x *Node, slope float64) *Node {
	return Apply("LeakyReLU", tensor.LeakyReLU(x.value, slope), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		step := tensor.Step(in[0].value)
		d := tensor.AddScalar(tensor.Scale(step, 1-slope), slope) // 1 where x > 0, slope elsewhere
		return []*Node{Mul(g, Const(d))}
	}, x)
}

// DefaultLeakySlope is the negative slope PyTorch's LeakyReLU uses.
const DefaultLeakySlope = 0.01

// Sigmoid returns σ(x) = 1/(1+e⁻ˣ), with σ' = σ(1−σ).
func Sigmoid(x *Node) *Node {
	return Apply("Sigmoid", tensor.Sigmoid(x.value), func(g *Node, _ []*Node, out *Node, _ []bool) []*Node {
		return []*Node{Mul(g, Mul(out, AddScalar(Neg(out), 1)))}
	}, x)
}

// Tanh returns tanh x, with tanh' = 1 − tanh².
func Tanh(x *Node) *Node {
	return Apply("Tanh", tensor.Tanh(x.value), func(g *Node, _ []*Node, out *Node, _ []bool) []*Node {
		return []*Node{Mul(g, AddScalar(Neg(Square(out)), 1))}
	}, x)
}

// ELU returns x for x > 0 and alpha·(eˣ−1) elsewhere (Clevert et al.,
// 2015); PyTorch's default alpha is 1.
func ELU(x *Node, alpha float64) *Node {
	return Apply("ELU", tensor.ELU(x.value, alpha), func(g *Node, in []*Node, out *Node, _ []bool) []*Node {
		// For x ≤ 0, d/dx alpha(eˣ−1) = alpha·eˣ = out + alpha.
		pos := tensor.Step(in[0].value)
		return []*Node{Mul(g, Where(pos, Const(tensor.Ones(g.DType())), AddScalar(out, alpha)))}
	}, x)
}

// Erf returns the error function; erf'(x) = 2/√π·e^(−x²).
func Erf(x *Node) *Node {
	return Apply("Erf", tensor.Erf(x.value), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Mul(g, Scale(Exp(Neg(Square(in[0]))), 2/math.SqrtPi))}
	}, x)
}

// GELU returns x·Φ(x), the exact Gaussian error linear unit, where Φ is the
// standard normal CDF. GELU'(x) = Φ(x) + x·φ(x).
func GELU(x *Node) *Node {
	return Apply("GELU", tensor.GELU(x.value), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		x := in[0]
		cdf := Scale(AddScalar(Erf(Scale(x, 1/math.Sqrt2)), 1), 0.5)
		pdf := Scale(Exp(Scale(Square(x), -0.5)), 1/math.Sqrt(2*math.Pi))
		return []*Node{Mul(g, Add(cdf, Mul(x, pdf)))}
	}, x)
}

// GELUTanh returns the tanh approximation x/2·(1+tanh(√(2/π)(x+0.044715x³)))
// of GELU (PyTorch's approximate="tanh").
func GELUTanh(x *Node) *Node {
	const c, k = 0.7978845608028654, 0.044715 // √(2/π) and the cubic coefficient
	return Apply("GELUTanh", tensor.GELUTanh(x.value), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		x := in[0]
		x2 := Square(x)
		t := Tanh(Scale(Mul(x, AddScalar(Scale(x2, k), 1)), c))
		// d/dx = ½(1+t) + ½x(1−t²)·c(1+3k x²)
		left := Scale(AddScalar(t, 1), 0.5)
		right := Mul(Scale(x, 0.5*c), Mul(AddScalar(Neg(Square(t)), 1), AddScalar(Scale(x2, 3*k), 1)))
		return []*Node{Mul(g, Add(left, right))}
	}, x)
}

// SiLU returns x·σ(x) (swish); SiLU' = σ(x)(1 + x(1−σ(x))).
func SiLU(x *Node) *Node {
	return Apply("SiLU", tensor.SiLU(x.value), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		s := Sigmoid(in[0])
		return []*Node{Mul(g, Mul(s, AddScalar(Mul(in[0], AddScalar(Neg(s), 1)), 1)))}
	}, x)
}

// Softplus returns log(1+eˣ), a smooth ReLU; Softplus' = σ. Unlike
// PyTorch it does not switch to x above a threshold: the stable formula
// needs no switch.
func Softplus(x *Node) *Node {
	return Apply("Softplus", tensor.Softplus(x.value), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Mul(g, Sigmoid(in[0]))}
	}, x)
}
