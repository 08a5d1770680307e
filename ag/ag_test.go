package ag_test

import (
	"math"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

func f64(v ...float64) *tensor.Tensor { return tensor.FromFloat64(v) }

func maxAbsDiff(t *testing.T, a, b *tensor.Tensor) float64 {
	t.Helper()
	if !tensor.EqualShape(a.Shape(), b.Shape()) {
		t.Fatalf("shapes differ: %v vs %v", a.Shape(), b.Shape())
	}
	av, bv := a.Values(), b.Values()
	m := 0.0
	for i := range av {
		m = max(m, math.Abs(av[i]-bv[i]))
	}
	return m
}

// y = x·x + x uses x three times; the gradients of every use add up.
func TestGradientsAccumulateAcrossUses(t *testing.T) {
	x := ag.Var(f64(1.5, -2, 3))
	y := ag.Sum(ag.Add(ag.Mul(x, x), x))
	ag.Backward(y)
	want := f64(4, -3, 7) // 2x + 1
	if d := maxAbsDiff(t, x.Grad(), want); d != 0 {
		t.Fatalf("grad = %v, want %v", x.Grad(), want)
	}
	// A second Backward adds to the stored gradient, as in PyTorch.
	ag.Backward(y)
	if d := maxAbsDiff(t, x.Grad(), tensor.Scale(want, 2)); d != 0 {
		t.Fatalf("after two backward passes grad = %v", x.Grad())
	}
	x.ZeroGrad()
	if x.Grad() != nil {
		t.Fatal("ZeroGrad left a gradient")
	}
}

// Same program, same bits: the backward order does not depend on map
// iteration or addresses.
func TestBackwardIsDeterministic(t *testing.T) {
	run := func() []float32 {
		rng := tensor.NewRand(7)
		w1 := ag.Var(tensor.Normal(rng, tensor.Float32, 0, 1, 16, 32))
		w2 := ag.Var(tensor.Normal(rng, tensor.Float32, 0, 1, 32, 5))
		x := ag.Const(tensor.Normal(rng, tensor.Float32, 0, 1, 8, 16))
		h := ag.Tanh(ag.MatMul(x, w1))
		// h feeds two branches, so its gradient is a sum whose order matters.
		logits := ag.Add(ag.MatMul(h, w2), ag.MatMul(ag.Square(h), w2))
		ag.Backward(ag.SoftmaxCrossEntropy(logits, []int{0, 1, 2, 3, 4, 0, 1, 2}))
		return append(append([]float32{}, w1.Grad().Float32s()...), w2.Grad().Float32s()...)
	}
	a, b := run(), run()
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("element %d differs between runs: %v vs %v", i, a[i], b[i])
		}
	}
}

func TestNoGradAndDetachStopGradients(t *testing.T) {
	x := ag.Var(f64(1, 2))
	var y *ag.Node
	ag.NoGrad(func() { y = ag.Mul(x, x) })
	if y.RequiresGrad() || y.Inputs() != nil {
		t.Fatal("an op under NoGrad recorded a graph")
	}
	if !ag.Recording() {
		t.Fatal("recording still off after NoGrad returned")
	}
	z := ag.Sum(ag.Mul(ag.Detach(x), x)) // d/dx (c·x) with c = x held constant
	ag.Backward(z)
	if d := maxAbsDiff(t, x.Grad(), f64(1, 2)); d != 0 {
		t.Fatalf("grad through a detached factor = %v, want [1 2]", x.Grad())
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Backward of a constant did not panic")
		}
	}()
	ag.Backward(ag.Sum(ag.Const(f64(1))))
}

func TestBackwardNeedsScalarOrUpstream(t *testing.T) {
	x := ag.Var(f64(1, 2))
	err := tensor.Try(func() { ag.Backward(ag.Mul(x, x)) })
	if err == nil || !strings.Contains(err.Error(), "Backward") {
		t.Fatalf("non-scalar Backward gave %v", err)
	}
	ag.Backward(ag.Mul(x, x), ag.WithUpstream(f64(1, -1)))
	if d := maxAbsDiff(t, x.Grad(), f64(2, -4)); d != 0 {
		t.Fatalf("grad = %v, want [2 -4]", x.Grad())
	}
}

func TestShapeErrorNamesOpAndShapes(t *testing.T) {
	a := ag.Var(tensor.New(tensor.Float32, 2, 3))
	b := ag.Var(tensor.New(tensor.Float32, 4, 5))
	err := tensor.Try(func() { ag.MatMul(a, b) })
	if err == nil {
		t.Fatal("MatMul of [2 3] and [4 5] did not fail")
	}
	for _, want := range []string{"MatMul", "[2 3]", "[4 5]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	err = tensor.Try(func() { ag.Add(a, ag.Var(tensor.New(tensor.Float32, 4))) })
	if err == nil || !strings.Contains(err.Error(), "Add") || !strings.Contains(err.Error(), "[4]") {
		t.Errorf("Add of [2 3] and [4]: %v", err)
	}
	err = tensor.Try(func() { ag.Add(a, ag.Var(tensor.New(tensor.Float64, 2, 3))) })
	if err == nil || !strings.Contains(err.Error(), "float64") {
		t.Errorf("mixed dtypes: %v", err)
	}
}

// A VJP that returns a gradient of the wrong shape is caught centrally,
// naming the op.
func TestEngineChecksVJPShapes(t *testing.T) {
	x := ag.Var(f64(1, 2, 3))
	y := ag.Apply("Broken", x.Value(), func(g *ag.Node, _ []*ag.Node, _ *ag.Node, _ []bool) []*ag.Node {
		return []*ag.Node{ag.Sum(g)}
	}, x)
	err := tensor.Try(func() { ag.Backward(ag.Sum(y)) })
	if err == nil || !strings.Contains(err.Error(), "Broken") {
		t.Fatalf("wrong-shaped VJP gave %v", err)
	}
}

// A user-defined op goes through Apply like the built-ins and composes
// with them: here softsign(x) = x/(1+|x|), softsign' = 1/(1+|x|)².
func TestCustomOp(t *testing.T) {
	softsign := func(x *ag.Node) *ag.Node {
		v := tensor.Div(x.Value(), tensor.AddScalar(tensor.Abs(x.Value()), 1))
		return ag.Apply("Softsign", v, func(g *ag.Node, in []*ag.Node, _ *ag.Node, _ []bool) []*ag.Node {
			d := ag.PowScalar(ag.AddScalar(ag.Abs(in[0]), 1), -2)
			return []*ag.Node{ag.Mul(g, d)}
		}, x)
	}
	x := ag.Var(f64(-2, 0.5, 3))
	ag.Backward(ag.Sum(ag.Scale(softsign(x), 2)))
	want := f64(2.0/9, 2/2.25, 2.0/16)
	if d := maxAbsDiff(t, x.Grad(), want); d > 1e-15 {
		t.Fatalf("grad = %v, want %v", x.Grad(), want)
	}
}

func TestRetainGradKeepsIntermediateGradient(t *testing.T) {
	x := ag.Var(f64(1, 2))
	h := ag.Scale(x, 3).RetainGrad()
	ag.Backward(ag.Sum(ag.Square(h)))
	if d := maxAbsDiff(t, h.Grad(), f64(6, 12)); d != 0 { // 2h
		t.Fatalf("retained grad = %v", h.Grad())
	}
	h2 := ag.Scale(x, 3)
	ag.Backward(ag.Sum(h2))
	if h2.Grad() != nil {
		t.Fatal("an intermediate node kept a gradient without RetainGrad")
	}
}

func TestGradLeavesStoredGradientsAlone(t *testing.T) {
	x := ag.Var(f64(1, 2))
	unused := ag.Var(f64(5))
	g := ag.Grad(ag.Sum(ag.Exp(x)), []*ag.Node{x, unused})
	if x.Grad() != nil {
		t.Fatal("Grad stored a gradient on x")
	}
	if d := maxAbsDiff(t, g[0].Value(), f64(math.E, math.Exp(2))); d > 1e-15 {
		t.Fatalf("grad = %v", g[0].Value())
	}
	if d := maxAbsDiff(t, g[1].Value(), f64(0)); d != 0 {
		t.Fatalf("unused input grad = %v, want 0", g[1].Value())
	}
}

// The second derivative of x³ is 6x; the gradient graph is differentiated
// again through CreateGraph.
func TestGradOfGrad(t *testing.T) {
	x := ag.Var(f64(0.5, -2))
	g := ag.Grad(ag.Sum(ag.PowScalar(x, 3)), []*ag.Node{x}, ag.CreateGraph())[0]
	if !g.RequiresGrad() {
		t.Fatal("gradient built with CreateGraph does not require grad")
	}
	gg := ag.Grad(ag.Sum(g), []*ag.Node{x})[0]
	if d := maxAbsDiff(t, gg.Value(), f64(3, -12)); d > 1e-14 {
		t.Fatalf("second derivative = %v, want [3 -12]", gg.Value())
	}
	// Without CreateGraph the gradient is a constant.
	g2 := ag.Grad(ag.Sum(ag.PowScalar(x, 3)), []*ag.Node{x})[0]
	if g2.RequiresGrad() {
		t.Fatal("gradient without CreateGraph records a graph")
	}
}

// mlpLoss is a small two-layer network's loss as a function of all its
// parameters packed in one vector: W1 [3,4], b1 [4], W2 [4,3].
func mlpLoss(act func(*ag.Node) *ag.Node) ag.Func {
	rng := tensor.NewRand(11)
	x := ag.Const(tensor.Normal(rng, tensor.Float64, 0, 1, 5, 3))
	labels := []int{0, 2, 1, 1, 0}
	return func(p *ag.Node) *ag.Node {
		w1 := ag.Reshape(ag.Slice(p, 0, 0, 12), 3, 4)
		b1 := ag.Slice(p, 0, 12, 16)
		w2 := ag.Reshape(ag.Slice(p, 0, 16, 28), 4, 3)
		h := act(ag.Add(ag.MatMul(x, w1), b1))
		return ag.SoftmaxCrossEntropy(ag.MatMul(h, w2), labels)
	}
}

// The Hessian-vector product of an MLP loss matches central differences of
// its gradient: (∇f(p+hv) − ∇f(p−hv)) / 2h.
func TestHVPOfMLPMatchesFiniteDifferences(t *testing.T) {
	acts := map[string]func(*ag.Node) *ag.Node{
		"tanh": ag.Tanh, "sigmoid": ag.Sigmoid, "gelu": ag.GELU, "gelu-tanh": ag.GELUTanh,
		"silu": ag.SiLU, "softplus": ag.Softplus, "elu": func(x *ag.Node) *ag.Node { return ag.ELU(x, 1) },
		"relu": ag.ReLU,
	}
	for name, act := range acts {
		t.Run(name, func(t *testing.T) {
			f := mlpLoss(act)
			rng := tensor.NewRand(12)
			p := tensor.Normal(rng, tensor.Float64, 0, 0.7, 28)
			v := tensor.Normal(rng, tensor.Float64, 0, 1, 28)
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
				t.Fatalf("HVP differs from finite differences by %g (scale %g)\nhvp %v\nfd  %v", d, scale, hv, fd)
			}
		})
	}
}

// Reverse-mode and forward-mode Jacobians agree with each other and with
// a hand-derived Jacobian.
func TestJacobianModesAgree(t *testing.T) {
	// f(x) = tanh(x) · Σx², from [3] to [3]: J = diag(1−tanh²x)·Σx² + 2·tanh(x)xᵀ.
	f := func(x *ag.Node) *ag.Node { return ag.Mul(ag.Tanh(x), ag.Sum(ag.Square(x))) }
	xv := []float64{0.3, -1.2, 0.7}
	x := f64(xv...)
	rev, fwd := ag.Jacobian(f, x), ag.JacobianFwd(f, x)
	s := 0.0
	for _, v := range xv {
		s += v * v
	}
	want := tensor.New(tensor.Float64, 3, 3)
	for i := range xv {
		for j := range xv {
			v := 2 * math.Tanh(xv[i]) * xv[j]
			if i == j {
				v += (1 - math.Pow(math.Tanh(xv[i]), 2)) * s
			}
			want.Set(v, i, j)
		}
	}
	if d := maxAbsDiff(t, rev, want); d > 1e-14 {
		t.Errorf("reverse Jacobian off by %g:\n%v\nwant %v", d, rev, want)
	}
	if d := maxAbsDiff(t, fwd, want); d > 1e-14 {
		t.Errorf("forward Jacobian off by %g:\n%v\nwant %v", d, fwd, want)
	}
	// JVP along v is J·v; VJP with v is vᵀ·J.
	v := f64(1, -2, 0.5)
	_, jvp := ag.JVP(f, x, v)
	_, vjp := ag.VJP(f, x, v)
	jv, vj := tensor.New(tensor.Float64, 3), tensor.New(tensor.Float64, 3)
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			jv.Set(jv.At(i)+want.At(i, j)*v.At(j), i)
			vj.Set(vj.At(j)+v.At(i)*want.At(i, j), j)
		}
	}
	if d := maxAbsDiff(t, jvp, jv); d > 1e-14 {
		t.Errorf("JVP = %v, want %v", jvp, jv)
	}
	if d := maxAbsDiff(t, vjp, vj); d > 1e-14 {
		t.Errorf("VJP = %v, want %v", vjp, vj)
	}
}

func TestJacobianShapes(t *testing.T) {
	f := func(x *ag.Node) *ag.Node { return ag.Sum(ag.Square(x), 1) } // [2,3] -> [2]
	x := tensor.FromFloat64([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	j := ag.Jacobian(f, x)
	if !tensor.EqualShape(j.Shape(), []int{2, 2, 3}) {
		t.Fatalf("Jacobian shape %v, want [2 2 3]", j.Shape())
	}
	if j.At(1, 1, 2) != 12 || j.At(0, 1, 2) != 0 {
		t.Fatalf("Jacobian values wrong: %v", j)
	}
	if d := maxAbsDiff(t, j, ag.JacobianFwd(f, x)); d != 0 {
		t.Fatalf("forward and reverse Jacobians differ by %g", d)
	}
}

// The Hessian of f(x) = Σ xᵢ³ + x₀x₁ is diag(6x) plus the cross term.
func TestHessian(t *testing.T) {
	f := func(x *ag.Node) *ag.Node {
		return ag.Add(ag.Sum(ag.PowScalar(x, 3)), ag.Sum(ag.Mul(ag.Slice(x, 0, 0, 1), ag.Slice(x, 0, 1, 2))))
	}
	h := ag.Hessian(f, f64(1, -2, 0.5))
	want := tensor.FromFloat64([]float64{6, 1, 0, 1, -12, 0, 0, 0, 3}, 3, 3)
	if d := maxAbsDiff(t, h, want); d > 1e-13 {
		t.Fatalf("Hessian = %v, want %v", h, want)
	}
}

// Stored gradients are contiguous and never alias each other or the
// caller's upstream tensor, so that optimisers may edit them in place.
func TestStoredGradientsAreOwned(t *testing.T) {
	a, b := ag.Var(f64(1, 2)), ag.Var(f64(3, 4))
	up := f64(0.5, -1)
	ag.Backward(ag.Add(a, b), ag.WithUpstream(up))
	if tensor.SameBuffer(a.Grad(), b.Grad()) || tensor.SameBuffer(a.Grad(), up) || tensor.SameBuffer(b.Grad(), up) {
		t.Fatal("gradients share a buffer")
	}
	a.Grad().Float64s()[0] = 99
	if up.At(0) != 0.5 || b.Grad().At(0) != 0.5 {
		t.Fatal("editing one gradient changed another tensor")
	}
	c := ag.Var(tensor.FromFloat64([]float64{1, 2, 3, 4}, 2, 2))
	ag.Backward(ag.Sum(c)) // the rule returns a broadcast view of one value
	if !c.Grad().IsContiguous() {
		t.Fatal("stored gradient is a strided view")
	}
}

// ReleaseGrad recycles only buffers Backward made: a gradient set by the
// caller (SetGrad) is left intact, and the recycled tensor is emptied so
// that misuse panics instead of reading another tensor's values.
func TestReleaseGradRecyclesOnlyOwnedBuffers(t *testing.T) {
	w := ag.Var(tensor.Normal(tensor.NewRand(1), tensor.Float32, 0, 1, 200, 100)) // large enough to recycle
	mine := tensor.Ones(tensor.Float32, 200, 100)
	w.SetGrad(mine)
	w.ReleaseGrad()
	if mine.Len() != 20000 || mine.Float32s()[0] != 1 {
		t.Fatal("ReleaseGrad recycled a gradient the caller owns")
	}
	ag.Backward(ag.Sum(ag.Square(w)))
	g := w.Grad()
	want := tensor.Scale(w.Value(), 2)
	if !tensor.AllClose(g, want, 0, 0) {
		t.Fatal("gradient wrong")
	}
	w.ReleaseGrad()
	if w.Grad() != nil {
		t.Fatal("ReleaseGrad kept the gradient")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("reading a recycled gradient did not panic")
			}
		}()
		_ = g.Float32s()[0]
	}()
	// The next backward pass reuses the buffer and still computes the
	// right values (a recycled buffer is fully overwritten or cleared).
	ag.Backward(ag.Sum(ag.Square(w)))
	if !tensor.AllClose(w.Grad(), want, 0, 0) {
		t.Fatal("gradient wrong after recycling")
	}
}

// Ops reading an Untracked input record nothing, even with parameters that
// require gradients, and that holds on one goroutine while another trains:
// inference mode travels with the data, not with a process-wide switch.
func TestUntrackedInferenceBesideTraining(t *testing.T) {
	w := ag.Var(tensor.Normal(tensor.NewRand(1), tensor.Float64, 0, 1, 4, 3))
	y := ag.Tanh(ag.MatMul(ag.Untracked(tensor.Ones(tensor.Float64, 2, 4)), w))
	if y.RequiresGrad() || y.Inputs() != nil || !y.IsUntracked() {
		t.Fatal("an op on an Untracked input recorded a graph")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2000; i++ {
			ag.Sum(ag.MatMul(ag.Untracked(tensor.Ones(tensor.Float64, 2, 4)), w))
		}
	}()
	x := ag.Const(tensor.Ones(tensor.Float64, 2, 4))
	for i := 0; i < 2000; i++ {
		w.ZeroGrad()
		ag.Backward(ag.Sum(ag.MatMul(x, w)))
		if w.Grad() == nil {
			t.Fatalf("step %d lost its gradient while another goroutine evaluated", i)
		}
	}
	<-done
}

// A rule that breaks the VJPFunc contract by returning an input's value
// still cannot get that value recycled: Backward stores a copy.
func TestGradientAliasingAValueIsCopied(t *testing.T) {
	c := ag.Var(tensor.Normal(tensor.NewRand(2), tensor.Float32, 0, 1, 200, 100))
	x := ag.Var(tensor.Normal(tensor.NewRand(3), tensor.Float32, 0, 1, 200, 100))
	y := ag.Apply("TimesC", tensor.Mul(x.Value(), c.Value()), func(g *ag.Node, in []*ag.Node, _ *ag.Node, _ []bool) []*ag.Node {
		return []*ag.Node{in[1], nil} // d(x·c)/dx with g = 1: c's own value
	}, x, c)
	ag.Backward(ag.Sum(y))
	if tensor.SameBuffer(x.Grad(), c.Value()) {
		t.Fatal("the stored gradient shares the parameter's buffer")
	}
	x.ReleaseGrad()
	if c.Value().Len() != 20000 || c.Value().Float32s()[0] == 0 && c.Value().Float32s()[1] == 0 {
		t.Fatal("releasing the gradient emptied the parameter")
	}
}
