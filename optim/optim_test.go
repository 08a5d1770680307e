package optim

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// configs is one optimiser of every kind and variant, for the property
// tests.
var configs = []struct {
	name string
	make func([]*ag.Node) Optimizer
}{
	{"sgd", func(p []*ag.Node) Optimizer { return NewSGD(p, SGDConfig{LR: 0.05}) }},
	{"sgd_momentum", func(p []*ag.Node) Optimizer { return NewSGD(p, SGDConfig{LR: 0.02, Momentum: 0.9, Dampening: 0.1}) }},
	{"sgd_nesterov", func(p []*ag.Node) Optimizer {
		return NewSGD(p, SGDConfig{LR: 0.02, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-3})
	}},
	{"adagrad", func(p []*ag.Node) Optimizer { return NewAdaGrad(p, AdaGradConfig{LR: 0.5, LRDecay: 1e-3}) }},
	{"rmsprop", func(p []*ag.Node) Optimizer { return NewRMSProp(p, RMSPropConfig{LR: 0.03}) }},
	{"rmsprop_centered_momentum", func(p []*ag.Node) Optimizer {
		return NewRMSProp(p, RMSPropConfig{LR: 0.005, Momentum: 0.5, Centered: true, WeightDecay: 1e-3})
	}},
	{"adam", func(p []*ag.Node) Optimizer { return NewAdam(p, AdamConfig{LR: 0.05, WeightDecay: new(1e-3)}) }},
	{"adam_amsgrad", func(p []*ag.Node) Optimizer { return NewAdam(p, AdamConfig{LR: 0.05, AMSGrad: true}) }},
	{"adamw", func(p []*ag.Node) Optimizer { return NewAdamW(p, AdamConfig{LR: 0.05}) }},
}

var dtypes = []tensor.DType{tensor.Float64, tensor.Float32}

// quadratic is f(w) = Σ_k ½·a_k·(w_k − c_k)² over two parameters, a
// convex function with its minimum (0) at c, with curvatures a between
// 0.5 and 2.
type quadratic struct {
	a, c [][]float64
}

func newQuadratic(seed uint64) quadratic {
	rng := tensor.NewRand(seed)
	var q quadratic
	for _, n := range []int{12, 4} {
		a := tensor.Uniform(rng, tensor.Float64, 0.5, 2, n).Values()
		c := tensor.Normal(rng, tensor.Float64, 0, 1, n).Values()
		q.a, q.c = append(q.a, a), append(q.c, c)
	}
	return q
}

// params returns fresh parameters at a fixed start.
func (q quadratic) params(dt tensor.DType) []*ag.Node {
	return []*ag.Node{
		ag.Var(tensor.Full(dt, 1.5, 3, 4)),
		ag.Var(tensor.Full(dt, -2, 4)),
	}
}

// loss returns f(params) and sets each parameter's gradient a·(w − c), in
// new tensors, as Backward would.
func (q quadratic) loss(params []*ag.Node) float64 {
	var f float64
	for i, p := range params {
		w := p.Value().Values()
		g := make([]float64, len(w))
		for k := range w {
			d := w[k] - q.c[i][k]
			f += 0.5 * q.a[i][k] * d * d
			g[k] = q.a[i][k] * d
		}
		p.SetGrad(tensor.FromValues(p.DType(), g, p.Shape()...))
	}
	return f
}

func TestOptimizersLowerQuadratic(t *testing.T) {
	q := newQuadratic(7)
	for _, c := range configs {
		for _, dt := range dtypes {
			t.Run(c.name+"/"+dt.String(), func(t *testing.T) {
				params := q.params(dt)
				opt := c.make(params)
				f0 := q.loss(params)
				var f float64
				for range 100 {
					opt.Step()
					f = q.loss(params)
				}
				if !(f < 0.1*f0) {
					t.Errorf("loss %g after 100 steps from %g: want below a tenth", f, f0)
				}
			})
		}
	}
}

// TestGradThroughAg runs an optimiser on gradients from ag.Backward,
// including a shared gradient (the two operands of an Add) and a
// broadcast one (the gradient of a Sum), which must not be written
// through.
func TestGradThroughAg(t *testing.T) {
	a := ag.Var(tensor.FromFloat64([]float64{1, 2, 3}))
	b := ag.Var(tensor.FromFloat64([]float64{4, 5, 6}))
	ag.Backward(ag.Sum(ag.Add(a, b)))
	opt := NewSGD([]*ag.Node{a, b}, SGDConfig{LR: 0.5, Momentum: 0.9})
	opt.Step()
	if got, want := a.Value().Values(), []float64{0.5, 1.5, 2.5}; !slices.Equal(got, want) {
		t.Errorf("a = %v, want %v", got, want)
	}
	if got, want := b.Value().Values(), []float64{3.5, 4.5, 5.5}; !slices.Equal(got, want) {
		t.Errorf("b = %v, want %v", got, want)
	}
	if got := a.Grad().Values(); !slices.Equal(got, []float64{1, 1, 1}) {
		t.Errorf("the step changed a's gradient: %v", got)
	}
}

// TestStateDictResume checks that saving after 3 steps, loading into a
// fresh optimiser over copies of the parameters and going on gives the
// same bits as an uninterrupted run. The second parameter skips a step,
// so the step counts differ per parameter.
func TestStateDictResume(t *testing.T) {
	q := newQuadratic(11)
	for _, c := range configs {
		for _, dt := range dtypes {
			t.Run(c.name+"/"+dt.String(), func(t *testing.T) {
				params := q.params(dt)
				opt := c.make(params)
				step := func(opt Optimizer, params []*ag.Node, s int) {
					q.loss(params)
					if s == 1 {
						params[1].SetGrad(nil)
					}
					opt.SetLR(opt.LR() * 0.9)
					opt.Step()
				}
				for s := range 3 {
					step(opt, params, s)
				}
				state := opt.StateDict()
				resumed := q.params(dt)
				for i, p := range resumed {
					p.Value().CopyFrom(params[i].Value())
				}
				opt2 := c.make(resumed)
				if err := opt2.LoadStateDict(state); err != nil {
					t.Fatal(err)
				}
				// The saved state is a copy: stepping opt must not change it.
				for s := 3; s < 8; s++ {
					step(opt, params, s)
					step(opt2, resumed, s)
				}
				for i := range params {
					if got, want := resumed[i].Value().Values(), params[i].Value().Values(); !slices.Equal(got, want) {
						t.Errorf("param %d after resuming:\n got %v\nwant %v", i, got, want)
					}
				}
				if opt.LR() != opt2.LR() {
					t.Errorf("lr %v after resuming, want %v", opt2.LR(), opt.LR())
				}
			})
		}
	}
}

func TestStateDictKeys(t *testing.T) {
	params := newQuadratic(1).params(tensor.Float32)
	cases := []struct {
		opt  Optimizer
		keys []string
	}{
		{NewSGD(params, SGDConfig{LR: 0.1}), nil},
		{NewSGD(params, SGDConfig{LR: 0.1, Momentum: 0.9}), []string{"momentum_buffer"}},
		{NewAdaGrad(params, AdaGradConfig{LR: 0.1}), []string{"sum"}},
		{NewRMSProp(params, RMSPropConfig{LR: 0.1, Centered: true, Momentum: 0.1}), []string{"square_avg", "grad_avg", "momentum_buffer"}},
		{NewAdam(params, AdamConfig{LR: 0.1}), []string{"exp_avg", "exp_avg_sq"}},
		{NewAdamW(params, AdamConfig{LR: 0.1, AMSGrad: true}), []string{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}},
	}
	for _, c := range cases {
		want := []string{"lr"}
		for i := range params {
			want = append(want, fmt.Sprintf("%d.step", i))
			for _, k := range c.keys {
				want = append(want, fmt.Sprintf("%d.%s", i, k))
			}
		}
		slices.Sort(want)
		sd := c.opt.StateDict()
		var got []string
		for k, v := range sd {
			got = append(got, k)
			if strings.HasSuffix(k, "step") || k == "lr" {
				if v.Dims() != 0 || v.DType() != tensor.Float64 {
					t.Errorf("%T: %s is %v %v, want a float64 scalar", c.opt, k, v.DType(), v.Shape())
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%T: keys %v, want %v", c.opt, got, want)
		}
	}
}

func TestLoadStateDictErrors(t *testing.T) {
	params := newQuadratic(1).params(tensor.Float64)
	opt := NewAdam(params, AdamConfig{LR: 0.1})
	good := opt.StateDict()
	edit := func(f func(m map[string]*tensor.Tensor)) map[string]*tensor.Tensor {
		m := make(map[string]*tensor.Tensor, len(good))
		for k, v := range good {
			m[k] = v
		}
		f(m)
		return m
	}
	cases := []struct {
		name, key string
		state     map[string]*tensor.Tensor
	}{
		{"missing buffer", "1.exp_avg_sq", edit(func(m map[string]*tensor.Tensor) { delete(m, "1.exp_avg_sq") })},
		{"missing lr", "lr", edit(func(m map[string]*tensor.Tensor) { delete(m, "lr") })},
		{"missing step", "0.step", edit(func(m map[string]*tensor.Tensor) { delete(m, "0.step") })},
		{"wrong shape", "0.exp_avg", edit(func(m map[string]*tensor.Tensor) { m["0.exp_avg"] = tensor.New(tensor.Float64, 4, 3) })},
		{"non-scalar step", "1.step", edit(func(m map[string]*tensor.Tensor) { m["1.step"] = tensor.New(tensor.Float64, 1) })},
		{"fractional step", "1.step", edit(func(m map[string]*tensor.Tensor) { m["1.step"] = tensor.Scalar(tensor.Float64, 1.5) })},
		{"unexpected key", "0.momentum_buffer", edit(func(m map[string]*tensor.Tensor) { m["0.momentum_buffer"] = tensor.New(tensor.Float64, 3, 4) })},
	}
	for _, c := range cases {
		err := opt.LoadStateDict(c.state)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", c.key)) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.key)
		}
	}
	if err := opt.LoadStateDict(good); err != nil {
		t.Errorf("loading its own state: %v", err)
	}
}

// TestStepAllocs checks that a step allocates nothing once the gradients
// are in place.
func TestStepAllocs(t *testing.T) {
	q := newQuadratic(3)
	for _, c := range configs {
		for _, dt := range dtypes {
			params := q.params(dt)
			q.loss(params)
			opt := c.make(params)
			opt.Step()
			if n := testing.AllocsPerRun(20, opt.Step); n != 0 {
				t.Errorf("%s/%v: %v allocations per Step, want 0", c.name, dt, n)
			}
		}
	}
	params := q.params(tensor.Float32)
	q.loss(params)
	if n := testing.AllocsPerRun(20, func() { ClipGradNorm(params, 1e9) }); n != 0 {
		t.Errorf("ClipGradNorm without clipping: %v allocations, want 0", n)
	}
}

func TestNilGradSkipped(t *testing.T) {
	for _, c := range configs {
		p := ag.Var(tensor.FromFloat64([]float64{1, 2}))
		opt := c.make([]*ag.Node{p})
		opt.Step()
		if got := p.Value().Values(); !slices.Equal(got, []float64{1, 2}) {
			t.Errorf("%s changed a parameter with no gradient: %v", c.name, got)
		}
		if s := opt.StateDict()["0.step"].Item(); s != 0 {
			t.Errorf("%s: step count %v after a skipped step, want 0", c.name, s)
		}
	}
}

func TestZeroGrad(t *testing.T) {
	p := ag.Var(tensor.FromFloat64([]float64{1, 2}))
	p.SetGrad(tensor.FromFloat64([]float64{1, 1}))
	opt := NewSGD([]*ag.Node{p}, SGDConfig{LR: 1})
	opt.ZeroGrad()
	if p.Grad() != nil {
		t.Errorf("gradient %v after ZeroGrad, want nil", p.Grad())
	}
}

func TestClipGradNorm(t *testing.T) {
	for _, dt := range dtypes {
		a := ag.Var(tensor.New(dt, 2, 2))
		b := ag.Var(tensor.New(dt, 2))
		c := ag.Var(tensor.New(dt, 3)) // no gradient
		a.SetGrad(tensor.FromValues(dt, []float64{1, -2, 2, 0}, 2, 2))
		b.SetGrad(tensor.FromValues(dt, []float64{4, 0}))
		params := []*ag.Node{a, b, c}
		// ‖(1, −2, 2, 0, 4, 0)‖ = √25 = 5.
		if n := ClipGradNorm(params, 10); n != 5 {
			t.Errorf("%v: norm %v, want 5", dt, n)
		}
		if got := b.Grad().Values(); !slices.Equal(got, []float64{4, 0}) {
			t.Errorf("%v: a norm below the maximum changed the gradient: %v", dt, got)
		}
		if n := ClipGradNorm(params, 2); n != 5 {
			t.Errorf("%v: norm %v, want 5", dt, n)
		}
		coef := 2 / (5 + 1e-6)
		want := []float64{1 * coef, -2 * coef, 2 * coef, 0, 4 * coef, 0}
		got := append(a.Grad().Values(), b.Grad().Values()...)
		tol := 1e-15
		if dt == tensor.Float32 {
			tol = 1e-7
		}
		if e := relErr(got, want); e > tol {
			t.Errorf("%v: clipped gradients %v, want %v", dt, got, want)
		}
		if c.Grad() != nil {
			t.Errorf("%v: a parameter without gradient got one", dt)
		}
	}
}

// TestClipGradNormShared clips gradients that ag shares between two
// parameters (Add) and gives as a broadcast view (Sum): each must be
// scaled once, and the tensors they came from left alone.
func TestClipGradNormShared(t *testing.T) {
	a := ag.Var(tensor.FromFloat64([]float64{1, 2, 3, 4}))
	b := ag.Var(tensor.FromFloat64([]float64{5, 6, 7, 8}))
	up := tensor.FromFloat64([]float64{3, 0, 0, 4})
	ag.Backward(ag.Add(a, b), ag.WithUpstream(up))
	c := ag.Var(tensor.FromFloat64([]float64{1, 1, 1, 1}))
	ag.Backward(ag.Scale(ag.Sum(c), 2)) // c's gradient: a broadcast of 2
	// Norm: √(2·25 + 4·4) = √66.
	n := ClipGradNorm([]*ag.Node{a, b, c}, 1)
	if want := math.Sqrt(66); math.Abs(n-want) > 1e-15 {
		t.Errorf("norm %v, want %v", n, want)
	}
	coef := 1 / (math.Sqrt(66) + 1e-6)
	for name, p := range map[string]*ag.Node{"a": a, "b": b} {
		want := []float64{3 * coef, 0, 0, 4 * coef}
		if e := relErr(p.Grad().Values(), want); e > 1e-15 {
			t.Errorf("%s: gradient %v, want %v", name, p.Grad().Values(), want)
		}
	}
	if e := relErr(c.Grad().Values(), []float64{2 * coef, 2 * coef, 2 * coef, 2 * coef}); e > 1e-15 {
		t.Errorf("c: gradient %v, want 2·%v", c.Grad().Values(), coef)
	}
	if got := up.Values(); !slices.Equal(got, []float64{3, 0, 0, 4}) {
		t.Errorf("the upstream tensor changed: %v", got)
	}
}

func TestByName(t *testing.T) {
	params := newQuadratic(1).params(tensor.Float64)
	for _, name := range Names() {
		opt, err := ByName(name, params, 0.01, 0, 0)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		opt.Step()
	}
	opt, err := ByName("Momentum", params, 0.1, 0, 0)
	if err != nil || opt.(*SGD).Config().Momentum != 0.9 {
		t.Errorf("momentum: %v, %v; want SGD with momentum 0.9", opt, err)
	}
	opt, err = ByName("nesterov", params, 0.1, 0.5, 1e-4)
	if c := opt.(*SGD).Config(); err != nil || !c.Nesterov || c.Momentum != 0.5 || c.WeightDecay != 1e-4 {
		t.Errorf("nesterov: %+v, %v", c, err)
	}
	opt, err = ByName("sgd", params, 0.1, 0.9, 0)
	if err != nil || opt.(*SGD).Config().Momentum != 0 {
		t.Errorf("sgd with momentum 0.9: %v, %v; want plain SGD", opt, err)
	}
	opt, err = ByName("rmsprop", params, 0.1, 0.9, 0)
	if err != nil || opt.(*RMSProp).Config().Momentum != 0.9 {
		t.Errorf("rmsprop with momentum 0.9: %v, %v; want momentum 0.9", opt, err)
	}
	opt, err = ByName("adamw", params, 0.1, 0.9, 0) // momentum ignored
	if c := opt.(*Adam).Config(); err != nil || *c.WeightDecay != 0 {
		t.Errorf("adamw with weight decay 0: %+v, %v; want weight decay 0", c, err)
	}
	opt, err = ByName("adamw", params, 0.1, 0, 0.01)
	if c := opt.(*Adam).Config(); err != nil || *c.WeightDecay != 0.01 || *c.Beta1 != 0.9 || *c.Beta2 != 0.999 || *c.Eps != 1e-8 {
		t.Errorf("adamw: %+v, %v; want PyTorch's defaults and weight decay 0.01", c, err)
	}
	bad := []struct {
		name             string
		lr, mom, wd      float64
		wantErrSubstring string
	}{
		{"lbfgs", 0.1, 0, 0, "sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw"},
		{"sgd", 0, 0, 0, "learning rate"},
		{"adam", -1, 0, 0, "learning rate"},
		{"sgd", math.NaN(), 0, 0, "learning rate"},
		{"sgd", math.Inf(1), 0, 0, "learning rate"},
		{"momentum", 0.1, 1, 0, "momentum"},
		{"rmsprop", 0.1, -0.1, 0, "momentum"},
		{"sgd", 0.1, math.NaN(), 0, "momentum"},
		{"adam", 0.1, 1.5, 0, "momentum"},
		{"sgd", 0.1, 0, -1, "weight decay"},
	}
	for _, b := range bad {
		_, err := ByName(b.name, params, b.lr, b.mom, b.wd)
		if err == nil || !strings.Contains(err.Error(), b.wantErrSubstring) {
			t.Errorf("ByName(%q, lr=%v, momentum=%v, wd=%v): error %v, want one mentioning %q", b.name, b.lr, b.mom, b.wd, err, b.wantErrSubstring)
		}
	}
}

// TestUnsetMeansDefaultZeroMeansZero checks the configuration rule: a nil
// field takes PyTorch's default and a field set to 0 is 0 (the reference
// test checks the resulting steps against PyTorch).
func TestUnsetMeansDefaultZeroMeansZero(t *testing.T) {
	p := []*ag.Node{ag.Var(tensor.New(tensor.Float64, 2))}
	if c := NewAdamW(p, AdamConfig{LR: 1}).Config(); *c.WeightDecay != 0.01 || *c.Beta1 != 0.9 || *c.Beta2 != 0.999 || *c.Eps != 1e-8 {
		t.Errorf("AdamW defaults: %v %v %v %v", *c.WeightDecay, *c.Beta1, *c.Beta2, *c.Eps)
	}
	if c := NewAdam(p, AdamConfig{LR: 1}).Config(); *c.WeightDecay != 0 {
		t.Errorf("Adam default weight decay %v, want 0", *c.WeightDecay)
	}
	if c := NewAdamW(p, AdamConfig{LR: 1, WeightDecay: new(0.0), Beta1: new(0.0), Eps: new(0.0)}).Config(); *c.WeightDecay != 0 || *c.Beta1 != 0 || *c.Eps != 0 {
		t.Errorf("AdamW set to zero: %v %v %v", *c.WeightDecay, *c.Beta1, *c.Eps)
	}
	if c := NewRMSProp(p, RMSPropConfig{LR: 1, Alpha: new(0.0)}).Config(); *c.Alpha != 0 || *c.Eps != 1e-8 {
		t.Errorf("RMSProp alpha 0: %v, eps %v", *c.Alpha, *c.Eps)
	}
	if c := NewRMSProp(p, RMSPropConfig{LR: 1}).Config(); *c.Alpha != 0.99 {
		t.Errorf("RMSProp default alpha %v", *c.Alpha)
	}
	if c := NewAdaGrad(p, AdaGradConfig{LR: 1, Eps: new(0.0)}).Config(); *c.Eps != 0 {
		t.Errorf("AdaGrad eps 0: %v", *c.Eps)
	}
	// Config returns copies: writing through them changes nothing.
	o := NewAdam(p, AdamConfig{LR: 1})
	*o.Config().Beta1 = 0.5
	if *o.Config().Beta1 != 0.9 {
		t.Error("Config shares its pointers with the optimiser")
	}
	// The caller's pointer is not kept either.
	b := 0.8
	o = NewAdam(p, AdamConfig{LR: 1, Beta1: &b})
	b = 0.1
	if *o.Config().Beta1 != 0.8 {
		t.Error("NewAdam kept the caller's pointer")
	}
}

func TestNewPanics(t *testing.T) {
	p := []*ag.Node{ag.Var(tensor.New(tensor.Float64, 2, 3))}
	cases := map[string]func(){
		"negative lr":          func() { NewSGD(p, SGDConfig{LR: -1}) },
		"nesterov no momentum": func() { NewSGD(p, SGDConfig{LR: 1, Nesterov: true}) },
		"beta1 ≥ 1":            func() { NewAdam(p, AdamConfig{LR: 1, Beta1: new(1.0)}) },
		"alpha ≥ 1":            func() { NewRMSProp(p, RMSPropConfig{LR: 1, Alpha: new(1.5)}) },
		"non-contiguous": func() {
			NewAdam([]*ag.Node{ag.Var(tensor.Transpose(tensor.New(tensor.Float64, 2, 3), 0, 1))}, AdamConfig{LR: 1})
		},
	}
	for name, f := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
