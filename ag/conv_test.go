package ag_test

import (
	"errors"
	"math"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// convNetLoss is a small convolutional network's loss as a function of one
// vector holding its input and all its parameters, so that a Hessian-vector
// product reaches every second derivative: a grouped 3×3 convolution, tanh,
// max pooling, a 2×2 convolution, a strided transposed convolution,
// softplus, average pooling, batch normalisation, global average pooling
// and cross-entropy.
func convNetLoss() (ag.Func, int) {
	shapes := [][]int{
		{2, 2, 6, 6}, // x
		{4, 1, 3, 3}, // w1: 2 groups
		{4},          // b1
		{3, 4, 2, 2}, // w2
		{3, 2, 2, 2}, // wt: transposed, 3 → 2 channels
		{2},          // bt
	}
	labels := []int{1, 0}
	n := 0
	for _, s := range shapes {
		n += tensor.New(tensor.Float64, s...).Len()
	}
	return func(p *ag.Node) *ag.Node {
		parts := make([]*ag.Node, len(shapes))
		off := 0
		for i, s := range shapes {
			k := tensor.New(tensor.Float64, s...).Len()
			parts[i] = ag.Reshape(ag.Slice(p, 0, off, off+k), s...)
			off += k
		}
		h := ag.Tanh(ag.Conv2D(parts[0], parts[1], parts[2], ag.ConvParams{Groups: 2, Padding: ag.Pad(1)}))
		h = ag.MaxPool2D(h, ag.PoolParams{Kernel: [2]int{2, 2}})                                              // [2,4,3,3]
		h = ag.Conv2D(h, parts[3], nil, ag.ConvParams{})                                                      // [2,3,2,2]
		h = ag.Softplus(ag.ConvTranspose2D(h, parts[4], parts[5], ag.ConvParams{Stride: [2]int{2, 2}}))       // [2,2,4,4]
		h = ag.AvgPool2D(h, ag.PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Padding: [2]int{1, 1}}) // [2,2,4,4]
		h = ag.BatchNorm(h, nil, nil, 1e-5)
		h = ag.Reshape(ag.AdaptiveAvgPool2D(h, 1, 1), 2, 2)
		return ag.SoftmaxCrossEntropy(ag.Scale(h, 3), labels)
	}, n
}

// The Hessian-vector product of a conv net's loss, with respect to its
// input and parameters together, matches central differences of its
// gradient: every conv op's VJP is itself differentiated correctly.
func TestHVPOfConvNetMatchesFiniteDifferences(t *testing.T) {
	f, n := convNetLoss()
	rng := tensor.NewRand(21)
	p := tensor.Normal(rng, tensor.Float64, 0, 0.7, n)
	v := tensor.Normal(rng, tensor.Float64, 0, 1, n)
	hv := ag.HVP(f, p, v)
	grad := func(p *tensor.Tensor) *tensor.Tensor {
		pn := ag.Var(p)
		return ag.Grad(f(pn), []*ag.Node{pn})[0].Value()
	}
	const h = 1e-5
	fd := tensor.Scale(tensor.Sub(grad(tensor.Add(p, tensor.Scale(v, h))), grad(tensor.Sub(p, tensor.Scale(v, h)))), 1/(2*h))
	scale := 0.0
	for _, x := range fd.Values() {
		scale = max(scale, math.Abs(x))
	}
	if scale == 0 {
		t.Fatal("finite-difference HVP is zero; the test would prove nothing")
	}
	if d := maxAbsDiff(t, hv, fd); d > 1e-7*scale {
		t.Fatalf("HVP differs from finite differences by %g (scale %g)", d, scale)
	}
}

// MaxPool2D sends the gradient of a tied window to its first element in
// row-major order, as PyTorch's CPU kernel does (torch 1.13 gives the
// same gradient for F.max_pool2d(x, 2) with this upstream).
func TestMaxPoolTieGoesToFirstIndex(t *testing.T) {
	x := ag.Var(tensor.FromFloat64([]float64{
		1, 3, 3, 0,
		3, 2, 0, 0,
		5, 5, 7, 7,
		5, 5, 7, 7,
	}, 1, 1, 4, 4))
	y := ag.MaxPool2D(x, ag.PoolParams{Kernel: [2]int{2, 2}})
	ag.Backward(y, ag.WithUpstream(tensor.FromFloat64([]float64{10, 20, 30, 40}, 1, 1, 2, 2)))
	want := []float64{
		0, 10, 20, 0,
		0, 0, 0, 0,
		30, 0, 40, 0,
		0, 0, 0, 0,
	}
	for i, g := range x.Grad().Values() {
		if g != want[i] {
			t.Fatalf("gradient %v, want %v", x.Grad().Values(), want)
		}
	}
}

// A NaN in a window is its maximum and takes the gradient; padding is −∞
// and never does.
func TestMaxPoolNaNAndPadding(t *testing.T) {
	x := ag.Var(tensor.FromFloat64([]float64{-5, math.NaN(), -7, -6}, 1, 1, 2, 2))
	y := ag.MaxPool2D(x, ag.PoolParams{Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}, Padding: [2]int{1, 1}})
	if got := y.Shape(); !tensor.EqualShape(got, []int{1, 1, 3, 3}) {
		t.Fatalf("shape %v", got)
	}
	v := y.Value().Values()
	if v[0] != -5 || !math.IsNaN(v[1]) || v[6] != -7 || v[8] != -6 {
		t.Fatalf("values %v", v)
	}
	ag.Backward(y, ag.WithUpstream(tensor.Ones(tensor.Float64, 1, 1, 3, 3)))
	// torch 1.13 gives [[2, 4], [1, 2]] (F.max_pool2d(x, 2, 1, 1)).
	if g := x.Grad().Values(); g[0] != 2 || g[1] != 4 || g[2] != 1 || g[3] != 2 {
		t.Fatalf("gradient %v, want [2 4 1 2]", g)
	}
}

// Shape errors name the op.
func TestConvShapeErrors(t *testing.T) {
	x := ag.Const(tensor.New(tensor.Float32, 1, 3, 5, 5))
	cases := map[string]func(){
		"Conv2D":            func() { ag.Conv2D(x, ag.Const(tensor.New(tensor.Float32, 2, 2, 3, 3)), nil, ag.ConvParams{}) },
		"Conv2DReLU":        func() { ag.Conv2DReLU(x, ag.Const(tensor.New(tensor.Float32, 2, 3, 7, 7)), nil, ag.ConvParams{}) },
		"ConvTranspose2D":   func() { ag.ConvTranspose2D(x, ag.Const(tensor.New(tensor.Float32, 2, 2, 3, 3)), nil, ag.ConvParams{}) },
		"MaxPool2D":         func() { ag.MaxPool2D(x, ag.PoolParams{Kernel: [2]int{2, 2}, Padding: [2]int{2, 0}}) },
		"AvgPool2D":         func() { ag.AvgPool2D(x, ag.PoolParams{Kernel: [2]int{6, 6}}) },
		"AdaptiveAvgPool2D": func() { ag.AdaptiveAvgPool2D(ag.Const(tensor.New(tensor.Float32, 3, 5)), 1, 1) },
		"BatchNorm":         func() { ag.BatchNorm(x, ag.Const(tensor.New(tensor.Float32, 4)), nil, 1e-5) },
		"GroupNorm":         func() { ag.GroupNorm(x, 2, nil, nil, 1e-5) },
		"LayerNorm":         func() { ag.LayerNorm(x, nil, nil, 5, 1e-5) },
	}
	for op, f := range cases {
		err := tensor.Try(f)
		var se *tensor.ShapeError
		if !errors.As(err, &se) || se.Op != op {
			t.Errorf("%s: got %v, want a *tensor.ShapeError naming %s", op, err, op)
		}
	}
}

// Conv2D with "same" padding keeps the size, and ConvTranspose2D inverts
// a strided Conv2D's sizes, output padding picking among them.
func TestConvSizes(t *testing.T) {
	x := ag.Const(tensor.New(tensor.Float32, 2, 3, 7, 8))
	w := ag.Const(tensor.New(tensor.Float32, 4, 3, 4, 5))
	if got := ag.Conv2D(x, w, nil, ag.ConvParams{Padding: ag.SamePadding(4, 5, 1, 1)}).Shape(); !tensor.EqualShape(got, []int{2, 4, 7, 8}) {
		t.Errorf("same padding: shape %v", got)
	}
	wt := ag.Const(tensor.New(tensor.Float32, 3, 5, 3, 3))
	for op := range 2 {
		y := ag.ConvTranspose2D(x, wt, nil, ag.ConvParams{Stride: [2]int{2, 2}, Padding: ag.Pad(1), OutputPadding: [2]int{op, op}})
		want := []int{2, 5, 13 + op, 15 + op}
		if !tensor.EqualShape(y.Shape(), want) {
			t.Errorf("output padding %d: shape %v, want %v", op, y.Shape(), want)
		}
	}
}

// BatchNorm's VJP runs as one fused kernel for first-order gradients and
// as ag ops when the gradient is recorded (CreateGraph); both give the
// same gradients.
func TestBatchNormFusedAndComposedVJPsAgree(t *testing.T) {
	for _, shape := range [][]int{{4, 3, 2, 5}, {6, 4}, {3, 2, 7}} {
		for _, affine := range []bool{true, false} {
			rng := tensor.NewRand(31)
			x := ag.Var(tensor.Normal(rng, tensor.Float64, 1, 2, shape...))
			xs := []*ag.Node{x}
			var w, b *ag.Node
			if affine {
				w = ag.Var(tensor.Uniform(rng, tensor.Float64, 0.5, 1.5, shape[1]))
				b = ag.Var(tensor.Normal(rng, tensor.Float64, 0, 1, shape[1]))
				xs = append(xs, w, b)
			}
			u := ag.Const(tensor.Normal(rng, tensor.Float64, 0, 1, shape...))
			loss := func() *ag.Node { return ag.Sum(ag.Mul(ag.BatchNorm(x, w, b, 1e-5), u)) }
			fused := ag.Grad(loss(), xs)
			composed := ag.Grad(loss(), xs, ag.CreateGraph())
			for i := range xs {
				if d := maxAbsDiff(t, fused[i].Value(), composed[i].Value()); d > 1e-12 {
					t.Errorf("shape %v affine %v: input %d gradients differ by %g", shape, affine, i, d)
				}
			}
			if !composed[0].RequiresGrad() {
				t.Errorf("shape %v: CreateGraph gave a gradient without a graph", shape)
			}
		}
	}
}
