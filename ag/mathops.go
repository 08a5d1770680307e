package ag

import (
	"fmt"
	"math"
	"slices"

	"github.com/nabla-go/nabla/tensor"
)

// This file holds the element-wise functions, reductions and scans that
// PyTorch users reach for daily beyond the core set: Log1p, Expm1,
// LogSigmoid, Sin, Cos, LogSumExp, Variance, Std, Norm, Prod, Cumsum. Their
// values are computed here element by element in float64 (rounded once to
// float32 for float32 tensors); their VJPs are written with ag ops, so
// they can be differentiated again.

// Log1p returns log(1 + x) element-wise, accurate for small x. It is a
// primitive for accuracy: Log(AddScalar(x, 1)) loses the digits of x
// below 1's rounding.
func Log1p(x *Node) *Node {
	return Apply("Log1p", mapValue(x.value, math.Log1p), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Div(g, AddScalar(in[0], 1))}
	}, x)
}

// Expm1 returns eˣ − 1 element-wise, accurate for small x (a primitive for
// accuracy, as Log1p).
func Expm1(x *Node) *Node {
	return Apply("Expm1", mapValue(x.value, math.Expm1), func(g *Node, _ []*Node, out *Node, _ []bool) []*Node {
		return []*Node{Mul(g, AddScalar(out, 1))}
	}, x)
}

// LogSigmoid returns log σ(x) = −softplus(−x) element-wise. It is a
// primitive for stability: computed as min(x, 0) − log1p(e^−|x|), it
// never overflows and keeps its digits for large |x|, where Log(Sigmoid(x))
// gives −Inf. Its derivative is σ(−x).
func LogSigmoid(x *Node) *Node {
	f := func(v float64) float64 { return math.Min(v, 0) - math.Log1p(math.Exp(-math.Abs(v))) }
	return Apply("LogSigmoid", mapValue(x.value, f), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Mul(g, Sigmoid(Neg(in[0])))}
	}, x)
}

// Sin returns sin x element-wise.
func Sin(x *Node) *Node {
	return Apply("Sin", mapValue(x.value, math.Sin), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Mul(g, Cos(in[0]))}
	}, x)
}

// Cos returns cos x element-wise.
func Cos(x *Node) *Node {
	return Apply("Cos", mapValue(x.value, math.Cos), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{Neg(Mul(g, Sin(in[0])))}
	}, x)
}

// mapValue applies f to every element of x, in float64, into a new
// contiguous tensor of x's dtype.
func mapValue(x *tensor.Tensor, f func(float64) float64) *tensor.Tensor {
	out := x.Clone()
	switch out.DType() {
	case tensor.Float64:
		d := tensor.Data[float64](out)
		for i, v := range d {
			d[i] = f(v)
		}
	default:
		d := tensor.Data[float32](out)
		for i, v := range d {
			d[i] = float32(f(float64(v)))
		}
	}
	return out
}

// LogSumExp returns log Σ eˣ over axes (all when none), removing them, as
// torch.logsumexp. It is composed stably: with m the maximum over the
// axes, held constant (the gradient through it cancels), it is m + log Σ
// e^(x−m), so no exponential overflows. Its gradient is the softmax over
// the axes. A slice of all −Inf gives −Inf, as in PyTorch.
func LogSumExp(x *Node, axes ...int) *Node {
	m := tensor.MaxKeep(x.value, axes...)
	if md := m.Values(); slices.ContainsFunc(md, func(v float64) bool { return math.IsInf(v, 0) || math.IsNaN(v) }) {
		m = mapValue(m, func(v float64) float64 {
			if math.IsInf(v, 0) {
				return 0
			}
			return v
		})
	}
	mc := Const(m)
	lse := Add(Log(SumKeep(Exp(Sub(x, mc)), axes...)), mc)
	return Reshape(lse, keptShapeDropped(x.Shape(), axes)...)
}

// keptShapeDropped is shape without the reduced axes (all of them when
// axes is empty: a scalar's shape).
func keptShapeDropped(shape, axes []int) []int {
	if len(axes) == 0 {
		return []int{}
	}
	drop := make([]bool, len(shape))
	for _, a := range axes {
		if a < 0 {
			a += len(shape)
		}
		drop[a] = true
	}
	var out []int
	for i, d := range shape {
		if !drop[i] {
			out = append(out, d)
		}
	}
	if out == nil {
		out = []int{}
	}
	return out
}

// reducedCount is the number of elements each output of a reduction over
// axes (all when none) gathers.
func reducedCount(shape, axes []int) int {
	n := 1
	for i, d := range keptShape(shape, axes) {
		if d == 1 {
			n *= shape[i]
		}
	}
	return n
}

// Variance returns the variance of x over axes (all when none), removing them:
// Σ(x − mean)²/(n − correction) with n the number of elements reduced, as
// torch.var(x, dims, correction=correction). correction 1 is the unbiased
// (sample) variance, PyTorch's default; 0 the population variance. n ≤
// correction gives +Inf or NaN, as in PyTorch. It is composed from Mean,
// Sub, Square and Sum. (It is not called Var: that makes a leaf.)
func Variance(x *Node, correction int, axes ...int) *Node {
	n := reducedCount(x.Shape(), axes)
	d := Sub(x, MeanKeep(x, axes...))
	den := float64(n - correction)
	if den <= 0 {
		den = 0 // 1/0: +Inf (NaN for a zero sum), as torch's max(0, n − correction)
	}
	return Scale(Sum(Square(d), axes...), 1/den)
}

// Std returns the standard deviation √Variance(x, correction, axes...)
// (see Variance), as torch.std. Its gradient is infinite where the deviation is 0.
func Std(x *Node, correction int, axes ...int) *Node {
	return Sqrt(Variance(x, correction, axes...))
}

// Norm returns the p-norm of x over axes (all when none), removing them, as
// torch.linalg.vector_norm(x, ord=p, dim=axes):
//
//	p = 1:  Σ|x|
//	p = 2:  √Σx²  (over the last two axes of a matrix: the Frobenius norm)
//	p = ∞:  max|x|  (math.Inf(1); ties split the gradient, as Max)
//	other p > 0: (Σ|x|^p)^(1/p)
//
// p = 2 is a primitive, so that its gradient x/‖x‖ is 0, not NaN, where
// the norm is 0 (PyTorch's convention); the others are composed from Abs,
// Sum, Max and PowScalar, and take Abs's derivative 0 at x = 0. A p that
// is not > 0 panics.
func Norm(x *Node, p float64, axes ...int) *Node {
	switch {
	case p == 1:
		return Sum(Abs(x), axes...)
	case p == 2:
		axes = slices.Clone(axes)
		sq := tensor.Sum(tensor.Square(x.value), axes...)
		return Apply("Norm", tensor.Sqrt(sq), func(g *Node, in []*Node, out *Node, _ []bool) []*Node {
			ks := keptShape(in[0].Shape(), axes)
			n := Reshape(out, ks...)
			zero := tensor.Equal(n.value, tensor.Zeros(n.DType()))
			safe := Where(zero, Const(tensor.Ones(n.DType())), n)
			return []*Node{Mul(BroadcastTo(Reshape(g, ks...), in[0].Shape()...), Div(in[0], safe))}
		}, x)
	case math.IsInf(p, 1):
		return Max(Abs(x), axes...)
	case p > 0 && !math.IsNaN(p):
		return PowScalar(Sum(PowScalar(Abs(x), p), axes...), 1/p)
	}
	panic(&tensor.ShapeError{Op: "Norm", Shapes: [][]int{slices.Clone(x.Shape())}, Msg: fmt.Sprintf("order p = %v, want p > 0", p)})
}

// Prod returns the product of x over axes (all when none), removing them,
// as torch.prod. The gradient of element i is the product of the other
// elements of its slice, computed without dividing by a zero: where a
// slice holds one zero, only that element gets a gradient (the product of
// the others); where it holds two or more, none does. The VJP is written
// with Prod itself, so it can be differentiated again, except that at a
// slice with two or more zeros the second derivative comes out as 0.
func Prod(x *Node, axes ...int) *Node {
	axes = slices.Clone(axes)
	return Apply("Prod", prodValue(x.value, axes), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		x := in[0]
		shape, dt := x.Shape(), x.DType()
		ks := keptShape(shape, axes)
		isZero := tensor.Equal(x.value, tensor.Zeros(dt))
		zeros := tensor.SumKeep(isZero, axes...) // zeros per slice
		one := Const(tensor.Ones(dt))
		nz := Where(isZero, one, x)                      // zeros replaced by 1
		pnz := BroadcastTo(prodKeep(nz, axes), shape...) // product of the non-zeros
		noZero := tensor.BroadcastTo(tensor.Equal(zeros, tensor.Zeros(dt)), shape...)
		oneZero := tensor.Mul(isZero, tensor.BroadcastTo(tensor.Equal(zeros, tensor.Ones(dt)), shape...))
		zero := Const(tensor.Zeros(dt))
		d := Where(noZero, Div(pnz, nz), Where(oneZero, pnz, zero))
		return []*Node{Mul(BroadcastTo(Reshape(g, ks...), shape...), d)}
	}, x)
}

// prodKeep is Prod keeping the reduced axes with size 1.
func prodKeep(x *Node, axes []int) *Node {
	return Reshape(Prod(x, axes...), keptShape(x.Shape(), axes)...)
}

// prodValue multiplies x over axes (all when none), removing them.
func prodValue(x *tensor.Tensor, axes []int) *tensor.Tensor {
	shape := x.Shape()
	for _, a := range axes {
		if a < -len(shape) || a >= len(shape) {
			panic(&tensor.ShapeError{Op: "Prod", Shapes: [][]int{slices.Clone(shape)}, Msg: fmt.Sprintf("axis %d out of range", a)})
		}
	}
	ks := keptShape(shape, axes)
	xs := x.Values()
	outLen := 1
	for _, d := range ks {
		outLen *= d
	}
	acc := make([]float64, outLen)
	for i := range acc {
		acc[i] = 1
	}
	idx := make([]int, len(shape))
	for _, v := range xs {
		o := 0
		for d := range shape {
			o *= ks[d]
			if ks[d] != 1 {
				o += idx[d]
			}
		}
		acc[o] *= v
		for d := len(shape) - 1; d >= 0; d-- { // next row-major index
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return tensor.FromValues(x.DType(), acc, keptShapeDropped(shape, axes)...)
}

// Cumsum returns the running sums of x along axis, as torch.cumsum: element
// i is the sum of elements 0…i. Its VJP is the reversed running sum of g,
// written as Σg − Cumsum(g) + g.
func Cumsum(x *Node, axis int) *Node {
	shape := x.Shape()
	if axis < -len(shape) || axis >= len(shape) {
		panic(&tensor.ShapeError{Op: "Cumsum", Shapes: [][]int{slices.Clone(shape)}, Msg: fmt.Sprintf("axis %d out of range", axis)})
	}
	if axis < 0 {
		axis += len(shape)
	}
	return Apply("Cumsum", cumsumValue(x.value, axis), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		total := BroadcastTo(SumKeep(g, axis), in[0].Shape()...)
		return []*Node{Add(Sub(total, Cumsum(g, axis)), g)}
	}, x)
}

// cumsumValue is the running sum of x along axis (≥ 0), accumulated in
// x's dtype as torch does.
func cumsumValue(x *tensor.Tensor, axis int) *tensor.Tensor {
	out := x.Clone()
	shape := x.Shape()
	inner := 1
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	n := shape[axis]
	switch out.DType() {
	case tensor.Float64:
		cumsumRun(tensor.Data[float64](out), n, inner)
	default:
		cumsumRun(tensor.Data[float32](out), n, inner)
	}
	return out
}

func cumsumRun[T tensor.Float](d []T, n, inner int) {
	block := n * inner
	for b := 0; b+block <= len(d) && block > 0; b += block {
		for k := 1; k < n; k++ {
			row, prev := d[b+k*inner:b+(k+1)*inner], d[b+(k-1)*inner:b+k*inner]
			for j := range row {
				row[j] += prev[j]
			}
		}
	}
}
