package gradcheck

import (
	"math"
	"math/rand/v2"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// Case is one entry of the op table: an ag op applied to inputs drawn by
// Inputs. Inputs are float64 and keep clear of kinks (|x| ≥ 0.1 for ReLU
// and friends, distinct values for Max), where a finite difference would
// straddle the corner.
type Case struct {
	Op     string // the ag function checked
	Name   string // what this variant covers
	Inputs func(rng *rand.Rand) []*tensor.Tensor
	F      Fn
	Wrt    []int // inputs to differentiate; nil means all
}

func randn(shape ...int) func(*rand.Rand) *tensor.Tensor {
	return func(r *rand.Rand) *tensor.Tensor { return tensor.Normal(r, tensor.Float64, 0, 1, shape...) }
}

// away draws from ±[0.1, 2]: never within 0.1 of a kink at 0.
func away(shape ...int) func(*rand.Rand) *tensor.Tensor {
	return func(r *rand.Rand) *tensor.Tensor {
		t := tensor.Uniform(r, tensor.Float64, 0.1, 2, shape...)
		for i, v := range t.Float64s() {
			if r.IntN(2) == 0 {
				t.Float64s()[i] = -v
			}
		}
		return t
	}
}

// avoiding draws from [−2, 2] but never within 0.05 of the given points
// (an op's corners).
func avoiding(points []float64, shape ...int) func(*rand.Rand) *tensor.Tensor {
	return func(r *rand.Rand) *tensor.Tensor {
		t := tensor.New(tensor.Float64, shape...)
		d := t.Float64s()
		for i := range d {
		again:
			v := 4*r.Float64() - 2
			for _, p := range points {
				if v > p-0.05 && v < p+0.05 {
					goto again
				}
			}
			d[i] = v
		}
		return t
	}
}

// positive draws from [0.5, 2], for Log, Sqrt and Pow's base.
func positive(shape ...int) func(*rand.Rand) *tensor.Tensor {
	return func(r *rand.Rand) *tensor.Tensor { return tensor.Uniform(r, tensor.Float64, 0.5, 2, shape...) }
}

// distinct draws a shuffled grid with spacing 0.1 plus a little noise: no
// two elements within 0.05, so Max and Min have no ties.
func distinct(shape ...int) func(*rand.Rand) *tensor.Tensor {
	return func(r *rand.Rand) *tensor.Tensor {
		t := tensor.New(tensor.Float64, shape...)
		d := t.Float64s()
		for i, p := range r.Perm(len(d)) {
			d[i] = 0.1*float64(p) - 0.05*float64(len(d)) + 0.02*r.Float64()
		}
		return t
	}
}

// uniform draws from [lo, hi].
func uniform(lo, hi float64, shape ...int) func(*rand.Rand) *tensor.Tensor {
	return func(r *rand.Rand) *tensor.Tensor { return tensor.Uniform(r, tensor.Float64, lo, hi, shape...) }
}

// withZeros is randn with exact zeros at the given flat positions (Prod's
// and Norm's special points; both are smooth along each coordinate there,
// so central differences stay exact).
func withZeros(at []int, shape ...int) func(*rand.Rand) *tensor.Tensor {
	return func(r *rand.Rand) *tensor.Tensor {
		t := tensor.Normal(r, tensor.Float64, 0, 1, shape...)
		for _, i := range at {
			t.Float64s()[i] = 0
		}
		return t
	}
}

func gen(fs ...func(*rand.Rand) *tensor.Tensor) func(*rand.Rand) []*tensor.Tensor {
	return func(r *rand.Rand) []*tensor.Tensor {
		out := make([]*tensor.Tensor, len(fs))
		for i, f := range fs {
			out[i] = f(r)
		}
		return out
	}
}

func unary(op, name string, in func(*rand.Rand) *tensor.Tensor, f func(*ag.Node) *ag.Node) Case {
	return Case{Op: op, Name: name, Inputs: gen(in), F: func(x []*ag.Node) *ag.Node { return f(x[0]) }}
}

func binary(op, name string, a, b func(*rand.Rand) *tensor.Tensor, f func(a, b *ag.Node) *ag.Node) Case {
	return Case{Op: op, Name: name, Inputs: gen(a, b), F: func(x []*ag.Node) *ag.Node { return f(x[0], x[1]) }}
}

// Cases returns the table of gradient checks: at least one per exported op
// of package ag (a test enforces this), covering broadcasting, axes and
// parameters.
func Cases() []Case {
	mask := tensor.FromFloat64([]float64{1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1}, 3, 4)
	labels := []int{2, 0, 4, 1}
	return append([]Case{
		binary("Add", "same shape", randn(3, 4), randn(3, 4), ag.Add),
		binary("Add", "broadcast [3,4]+[4]", randn(3, 4), randn(4), ag.Add),
		binary("Sub", "broadcast [2,1,4]-[3,1]", randn(2, 1, 4), randn(3, 1), ag.Sub),
		binary("Mul", "broadcast [3,4]*[3,1]", randn(3, 4), randn(3, 1), ag.Mul),
		binary("Div", "broadcast [4]/[3,4]", randn(4), positive(3, 4), ag.Div),
		binary("Pow", "positive base, both inputs", positive(3, 4), randn(3, 4), ag.Pow),
		binary("Maximum", "distinct values", distinct(3, 4), distinct(3, 4), ag.Maximum),
		binary("Minimum", "broadcast [3,4] vs [4]", distinct(3, 4), distinct(4), ag.Minimum),
		binary("MatMul", "2-D", randn(3, 5), randn(5, 4), ag.MatMul),
		binary("MatMul", "batched", randn(2, 3, 5), randn(2, 5, 4), ag.MatMul),
		binary("MatMul", "batch times matrix", randn(2, 3, 5), randn(5, 4), ag.MatMul),
		binary("MatMul", "broadcast batch", randn(2, 1, 3, 5), randn(3, 5, 2), ag.MatMul),
		binary("MatMul", "transposed left operand", randn(5, 3), randn(5, 4), func(a, b *ag.Node) *ag.Node { return ag.MatMul(ag.T(a), b) }),
		binary("MatMul", "x·Wᵀ (linear layer)", randn(3, 5), randn(4, 5), func(a, b *ag.Node) *ag.Node { return ag.MatMul(a, ag.T(b)) }),
		binary("MatMul", "batch times Wᵀ", randn(2, 3, 5), randn(4, 5), func(a, b *ag.Node) *ag.Node { return ag.MatMul(a, ag.T(b)) }),
		{Op: "Linear", Name: "with bias", Inputs: gen(randn(4, 3), randn(5, 3), randn(5)), F: func(x []*ag.Node) *ag.Node { return ag.Linear(x[0], x[1], x[2]) }},
		{Op: "Linear", Name: "batched, no bias", Inputs: gen(randn(2, 4, 3), randn(5, 3)), F: func(x []*ag.Node) *ag.Node { return ag.Linear(x[0], x[1], nil) }},
		{Op: "LinearReLU", Name: "with bias", Inputs: gen(randn(4, 3), randn(5, 3), randn(5)), F: func(x []*ag.Node) *ag.Node { return ag.LinearReLU(x[0], x[1], x[2]) }},
		{Op: "LinearReLU", Name: "batched, no bias", Inputs: gen(randn(2, 4, 3), randn(5, 3)), F: func(x []*ag.Node) *ag.Node { return ag.LinearReLU(x[0], x[1], nil) }},
		unary("Neg", "", randn(3, 4), ag.Neg),
		unary("Scale", "c=-2.5", randn(3, 4), func(x *ag.Node) *ag.Node { return ag.Scale(x, -2.5) }),
		unary("AddScalar", "c=3", randn(3, 4), func(x *ag.Node) *ag.Node { return ag.AddScalar(x, 3) }),
		unary("Exp", "", randn(3, 4), ag.Exp),
		unary("Log", "", positive(3, 4), ag.Log),
		unary("Sqrt", "", positive(3, 4), ag.Sqrt),
		unary("Square", "", randn(3, 4), ag.Square),
		unary("PowScalar", "p=3", randn(3, 4), func(x *ag.Node) *ag.Node { return ag.PowScalar(x, 3) }),
		unary("PowScalar", "p=-1.5", positive(3, 4), func(x *ag.Node) *ag.Node { return ag.PowScalar(x, -1.5) }),
		unary("Abs", "", away(3, 4), ag.Abs),
		unary("Clamp", "[-0.5, 0.8]", avoiding([]float64{-0.5, 0.8}, 4, 5), func(x *ag.Node) *ag.Node { return ag.Clamp(x, -0.5, 0.8) }),
		unary("Clamp", "[-1, inf)", avoiding([]float64{-1}, 4, 5), func(x *ag.Node) *ag.Node { return ag.Clamp(x, -1, math.Inf(1)) }),
		binary("Where", "constant mask", randn(3, 4), randn(4), func(a, b *ag.Node) *ag.Node { return ag.Where(mask, a, b) }),
		unary("ReLU", "", away(3, 4), ag.ReLU),
		unary("LeakyReLU", "slope 0.01", away(3, 4), func(x *ag.Node) *ag.Node { return ag.LeakyReLU(x, ag.DefaultLeakySlope) }),
		unary("LeakyReLU", "slope 0.2", away(3, 4), func(x *ag.Node) *ag.Node { return ag.LeakyReLU(x, 0.2) }),
		unary("Sigmoid", "", randn(3, 4), ag.Sigmoid),
		unary("Tanh", "", randn(3, 4), ag.Tanh),
		unary("ELU", "alpha 1", away(3, 4), func(x *ag.Node) *ag.Node { return ag.ELU(x, 1) }),
		unary("ELU", "alpha 0.5", away(3, 4), func(x *ag.Node) *ag.Node { return ag.ELU(x, 0.5) }),
		unary("Erf", "", randn(3, 4), ag.Erf),
		unary("GELU", "exact", randn(3, 4), ag.GELU),
		unary("GELUTanh", "tanh approximation", randn(3, 4), ag.GELUTanh),
		unary("SiLU", "", randn(3, 4), ag.SiLU),
		unary("Softplus", "", randn(3, 4), ag.Softplus),
		unary("Sum", "all", randn(3, 4), func(x *ag.Node) *ag.Node { return ag.Sum(x) }),
		unary("Sum", "axis 0 of 3-D", randn(2, 3, 4), func(x *ag.Node) *ag.Node { return ag.Sum(x, 0) }),
		unary("Sum", "axes 0 and 2", randn(2, 3, 4), func(x *ag.Node) *ag.Node { return ag.Sum(x, 0, 2) }),
		unary("SumKeep", "axis -1", randn(2, 3, 4), func(x *ag.Node) *ag.Node { return ag.SumKeep(x, -1) }),
		unary("Mean", "axis 1", randn(2, 3, 4), func(x *ag.Node) *ag.Node { return ag.Mean(x, 1) }),
		unary("MeanKeep", "axes 1,2", randn(2, 3, 4), func(x *ag.Node) *ag.Node { return ag.MeanKeep(x, 1, 2) }),
		unary("Max", "all", distinct(3, 4), func(x *ag.Node) *ag.Node { return ag.Max(x) }),
		unary("Max", "axis 1", distinct(3, 4), func(x *ag.Node) *ag.Node { return ag.Max(x, 1) }),
		unary("MaxKeep", "axes 0,2", distinct(2, 3, 4), func(x *ag.Node) *ag.Node { return ag.MaxKeep(x, 0, 2) }),
		unary("Min", "axis 0", distinct(3, 4), func(x *ag.Node) *ag.Node { return ag.Min(x, 0) }),
		unary("MinKeep", "axis -1", distinct(3, 4), func(x *ag.Node) *ag.Node { return ag.MinKeep(x, -1) }),
		unary("Reshape", "[3,4] to [2,-1]", randn(3, 4), func(x *ag.Node) *ag.Node { return ag.Reshape(x, 2, -1) }),
		unary("Permute", "[2,3,4] by (2,0,1)", randn(2, 3, 4), func(x *ag.Node) *ag.Node { return ag.Permute(x, 2, 0, 1) }),
		unary("Transpose", "axes 0,2", randn(2, 3, 4), func(x *ag.Node) *ag.Node { return ag.Transpose(x, 0, 2) }),
		unary("T", "", randn(3, 4), ag.T),
		unary("BroadcastTo", "[3,1] to [2,3,4]", randn(3, 1), func(x *ag.Node) *ag.Node { return ag.BroadcastTo(x, 2, 3, 4) }),
		unary("SumTo", "[2,3,4] to [3,1]", randn(2, 3, 4), func(x *ag.Node) *ag.Node { return ag.SumTo(x, 3, 1) }),
		unary("Slice", "axis 1 [1,3)", randn(3, 4), func(x *ag.Node) *ag.Node { return ag.Slice(x, 1, 1, 3) }),
		unary("PadSlice", "into [3,5] at 2", randn(3, 2), func(x *ag.Node) *ag.Node { return ag.PadSlice(x, []int{3, 5}, 1, 2) }),
		binary("Concat", "axis 0", randn(2, 3), randn(1, 3), func(a, b *ag.Node) *ag.Node { return ag.Concat(0, a, b) }),
		unary("IndexSelect", "repeats", randn(4, 3), func(x *ag.Node) *ag.Node { return ag.IndexSelect(x, 0, []int{3, 0, 3, 1}) }),
		unary("IndexAdd", "repeats", randn(4, 3), func(x *ag.Node) *ag.Node { return ag.IndexAdd(x, []int{3, 3}, 0, []int{2, 0, 2, 1}) }),
		unary("Gather", "labels", randn(4, 5), func(x *ag.Node) *ag.Node { return ag.Gather(x, 1, labels) }),
		unary("Scatter", "labels", randn(4), func(x *ag.Node) *ag.Node { return ag.Scatter(x, []int{4, 5}, 1, labels) }),
		unary("Softmax", "axis 1", randn(4, 5), func(x *ag.Node) *ag.Node { return ag.Softmax(x, 1) }),
		unary("Softmax", "axis 0", randn(4, 5), func(x *ag.Node) *ag.Node { return ag.Softmax(x, 0) }),
		unary("LogSoftmax", "axis -1", randn(4, 5), func(x *ag.Node) *ag.Node { return ag.LogSoftmax(x, -1) }),
		unary("SoftmaxCrossEntropy", "4 rows, 5 classes", randn(4, 5), func(x *ag.Node) *ag.Node { return ag.SoftmaxCrossEntropy(x, labels) }),
		unary("Slice", "negative start and end", randn(3, 5), func(x *ag.Node) *ag.Node { return ag.Slice(x, -1, -4, -1) }),
		binary("MatMul", "vector·vector", randn(5), randn(5), ag.MatMul),
		binary("MatMul", "vector·batch", randn(3), randn(2, 3, 4), ag.MatMul),
		binary("MatMul", "matrix·vector", randn(4, 3), randn(3), ag.MatMul),
		binary("MatMul", "batch·vector", randn(2, 4, 3), randn(3), ag.MatMul),
		unary("Log1p", "", uniform(-0.5, 2, 3, 4), ag.Log1p),
		unary("Expm1", "", randn(3, 4), ag.Expm1),
		unary("LogSigmoid", "", uniform(-6, 6, 3, 4), ag.LogSigmoid),
		unary("Sin", "", uniform(-4, 4, 3, 4), ag.Sin),
		unary("Cos", "", uniform(-4, 4, 3, 4), ag.Cos),
		unary("LogSumExp", "all", randn(3, 4), func(x *ag.Node) *ag.Node { return ag.LogSumExp(x) }),
		unary("LogSumExp", "axes 0,2", uniform(-5, 5, 2, 3, 4), func(x *ag.Node) *ag.Node { return ag.LogSumExp(x, 0, 2) }),
		unary("Variance", "correction 1, axis 1", randn(3, 4), func(x *ag.Node) *ag.Node { return ag.Variance(x, 1, 1) }),
		unary("Variance", "correction 0, all", randn(2, 3, 4), func(x *ag.Node) *ag.Node { return ag.Variance(x, 0) }),
		unary("Std", "correction 1, axes 0,2", randn(2, 3, 4), func(x *ag.Node) *ag.Node { return ag.Std(x, 1, 0, 2) }),
		unary("Std", "correction 0, axis -1", randn(3, 4), func(x *ag.Node) *ag.Node { return ag.Std(x, 0, -1) }),
		unary("Norm", "p=1, axis 1", away(3, 4), func(x *ag.Node) *ag.Node { return ag.Norm(x, 1, 1) }),
		unary("Norm", "p=2, all", randn(3, 4), func(x *ag.Node) *ag.Node { return ag.Norm(x, 2) }),
		unary("Norm", "p=2, a zero row", withZeros([]int{4, 5, 6, 7}, 3, 4), func(x *ag.Node) *ag.Node { return ag.Norm(x, 2, -1) }),
		unary("Norm", "Frobenius", randn(2, 3, 4), func(x *ag.Node) *ag.Node { return ag.Norm(x, 2, -2, -1) }),
		unary("Norm", "p=inf, axis 0", distinct(3, 4), func(x *ag.Node) *ag.Node { return ag.Norm(x, math.Inf(1), 0) }),
		unary("Norm", "p=3", away(3, 4), func(x *ag.Node) *ag.Node { return ag.Norm(x, 3, 1) }),
		unary("Prod", "all", uniform(0.5, 1.5, 3, 4), func(x *ag.Node) *ag.Node { return ag.Prod(x) }),
		unary("Prod", "axis 1, zeros", withZeros([]int{1, 4, 6}, 3, 4), func(x *ag.Node) *ag.Node { return ag.Prod(x, 1) }),
		unary("Prod", "axes 0,2", randn(2, 3, 2), func(x *ag.Node) *ag.Node { return ag.Prod(x, 0, 2) }),
		unary("Cumsum", "axis 0", randn(3, 4), func(x *ag.Node) *ag.Node { return ag.Cumsum(x, 0) }),
		unary("Cumsum", "axis -1 of 3-D", randn(2, 3, 4), func(x *ag.Node) *ag.Node { return ag.Cumsum(x, -1) }),
	}, convCases()...)
}

// Row is one line of a table run: a case, the dtype of its analytic
// gradient, and the result.
type Row struct {
	Op, Name string
	DType    tensor.DType
	Result   Result
	Err      error
}

// RunTable checks every case in Cases with analytic gradients in dtype dt,
// drawing inputs and upstream gradients from a generator seeded with seed.
func RunTable(dt tensor.DType, seed uint64) []Row {
	var rows []Row
	for i, c := range Cases() {
		rng := tensor.NewRand(seed + uint64(i))
		res, err := Check(c.F, c.Inputs(rng), rng, Options{Float32: dt == tensor.Float32, Wrt: c.Wrt})
		rows = append(rows, Row{Op: c.Op, Name: c.Name, DType: dt, Result: res, Err: err})
	}
	return rows
}
