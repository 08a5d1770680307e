package ag_test

import (
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// TestNewOpsSecondOrder checks that the VJPs of the issue-14 ops are
// themselves differentiable: the Hessian-vector product of ⟨op(x), u⟩ (u
// a random upstream) by double backward against central differences of
// the gradient, in float64.
func TestNewOpsSecondOrder(t *testing.T) {
	ops := map[string]func(*ag.Node) *ag.Node{
		"Log1p":         ag.Log1p,
		"Expm1":         ag.Expm1,
		"LogSigmoid":    ag.LogSigmoid,
		"Sin":           ag.Sin,
		"Cos":           ag.Cos,
		"LogSumExp":     func(x *ag.Node) *ag.Node { return ag.LogSumExp(x, 1) },
		"Variance":      func(x *ag.Node) *ag.Node { return ag.Variance(x, 1, 0) },
		"Std":           func(x *ag.Node) *ag.Node { return ag.Std(x, 0, 1) },
		"Norm/p=2":      func(x *ag.Node) *ag.Node { return ag.Norm(x, 2, 1) },
		"Norm/p=3":      func(x *ag.Node) *ag.Node { return ag.Norm(x, 3) },
		"Prod":          func(x *ag.Node) *ag.Node { return ag.Prod(x, 1) },
		"Prod/all":      func(x *ag.Node) *ag.Node { return ag.Prod(x) },
		"Cumsum":        func(x *ag.Node) *ag.Node { return ag.Cumsum(ag.Square(x), 1) },
		"MatMul/vector": func(x *ag.Node) *ag.Node { return ag.MatMul(x, ag.Reshape(ag.Slice(x, 0, 0, 1), -1)) },
	}
	// Each op draws from its own seeded generator, in name order, so the
	// inputs are the same on every run (a map's order is random).
	names := slices.Sorted(maps.Keys(ops))
	for i, name := range names {
		op := ops[name]
		rng := tensor.NewRand(uint64(21 + i))
		t.Run(name, func(t *testing.T) {
			x := tensor.Uniform(rng, tensor.Float64, 0.2, 1.5, 3, 3)
			u := tensor.Normal(rng, tensor.Float64, 0, 1, op(ag.Const(x)).Shape()...)
			v := tensor.Normal(rng, tensor.Float64, 0, 1, 3, 3)
			f := func(x *ag.Node) *ag.Node { return ag.Sum(ag.Mul(op(x), ag.Const(u))) }
			hv := ag.HVP(f, x, v)
			grad := func(x *tensor.Tensor) *tensor.Tensor {
				xn := ag.Var(x)
				return ag.Grad(f(xn), []*ag.Node{xn})[0].Value()
			}
			const h = 1e-5
			fd := tensor.Scale(tensor.Sub(grad(tensor.Add(x, tensor.Scale(v, h))), grad(tensor.Sub(x, tensor.Scale(v, h)))), 1/(2*h))
			scale := 0.0
			for _, e := range fd.Values() {
				scale = max(scale, math.Abs(e))
			}
			if scale == 0 {
				t.Fatal("finite-difference HVP is zero; the test would prove nothing")
			}
			if d := maxAbsDiff(t, hv, fd); d > 1e-7*scale {
				t.Fatalf("HVP differs from finite differences by %g (scale %g)\nhvp %v\nfd  %v", d, scale, hv, fd)
			}
		})
	}
}

// TestProdZeros checks Prod's gradient where a slice holds zeros, against
// the products of the other elements, and LogSumExp and Norm at their
// special points.
func TestProdZeros(t *testing.T) {
	x := ag.Var(tensor.FromFloat64([]float64{2, 0, 3, 0, 0, 5, 4, 1, 2}, 3, 3))
	ag.Backward(ag.Sum(ag.Prod(x, 1)))
	want := []float64{0, 6, 0, 0, 0, 0, 2, 8, 4}
	if d := maxAbsDiff(t, x.Grad(), tensor.FromFloat64(want, 3, 3)); d != 0 {
		t.Errorf("Prod gradient %v, want %v", x.Grad().Values(), want)
	}
	z := ag.Var(tensor.New(tensor.Float64, 2, 3))
	ag.Backward(ag.Sum(ag.Norm(z, 2, 1)))
	for _, g := range z.Grad().Values() {
		if g != 0 {
			t.Fatalf("gradient of the 2-norm at 0: %v, want zeros", z.Grad().Values())
		}
	}
	inf := math.Inf(-1)
	l := ag.LogSumExp(ag.Const(tensor.FromFloat64([]float64{inf, inf, 1000, 1000}, 2, 2)), 1)
	if got := l.Value().Values(); !math.IsInf(got[0], -1) || math.Abs(got[1]-(1000+math.Ln2)) > 1e-12 {
		t.Errorf("LogSumExp of [-inf -inf] and [1000 1000]: %v", got)
	}
	if got := ag.LogSigmoid(ag.Const(tensor.FromFloat64([]float64{-800, 800}, 2))).Value().Values(); got[0] != -800 || got[1] != 0 {
		t.Errorf("LogSigmoid(∓800) = %v, want [-800 0]", got)
	}
}

// TestSliceNegative checks that negative indices count from the end and
// that indices out of range still panic.
func TestSliceNegative(t *testing.T) {
	x := ag.Const(tensor.Arange(tensor.Float64, 0, 1, 5))
	if got := ag.Slice(x, 0, -3, -1).Value().Values(); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Errorf("Slice(x, 0, -3, -1) = %v, want [2 3]", got)
	}
	if got := ag.Slice(x, -1, -2, 5).Value().Values(); len(got) != 2 || got[0] != 3 {
		t.Errorf("Slice(x, -1, -2, 5) = %v, want [3 4]", got)
	}
	for _, r := range [][2]int{{-6, 2}, {0, 6}, {3, 1}, {0, -6}} {
		if err := tensor.Try(func() { ag.Slice(x, 0, r[0], r[1]) }); err == nil {
			t.Errorf("Slice(x, 0, %d, %d): no error", r[0], r[1])
		}
	}
}

// TestMatMulVectorShapes checks torch.matmul's shapes for 1-D operands and
// the error for mismatched inner dimensions.
func TestMatMulVectorShapes(t *testing.T) {
	n := func(s ...int) *ag.Node { return ag.Const(tensor.New(tensor.Float64, s...)) }
	for _, c := range []struct{ a, b, want []int }{
		{[]int{4}, []int{4}, []int{}},
		{[]int{4}, []int{4, 5}, []int{5}},
		{[]int{3, 4}, []int{4}, []int{3}},
		{[]int{4}, []int{2, 4, 5}, []int{2, 5}},
		{[]int{2, 3, 4}, []int{4}, []int{2, 3}},
	} {
		if got := ag.MatMul(n(c.a...), n(c.b...)).Shape(); !tensor.EqualShape(got, c.want) {
			t.Errorf("MatMul %v·%v: shape %v, want %v", c.a, c.b, got, c.want)
		}
	}
	if err := tensor.Try(func() { ag.MatMul(n(3), n(4, 2)) }); err == nil {
		t.Error("MatMul [3]·[4,2]: no error")
	}
}
