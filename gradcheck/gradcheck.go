// Package gradcheck compares the gradients that package ag computes by
// backpropagation with central finite differences, and holds the table of
// cases that checks every ag op.
//
// # The measure
//
// For each input element the analytic gradient a is compared with the
// numerical one n by the relative error |a−n| / max(|a|, |n|) (as in the
// CS231n notes on gradient checking), with the denominator raised to at
// least Options.Floor so that gradients that are zero, or nearly, are
// judged by their absolute error. A check passes when the largest error
// over all elements is below Options.Tol.
//
// The function is checked through L(x) = Σ f(x)⊙u with a random upstream
// gradient u: an all-ones u would hide transposition and broadcasting
// mistakes. The numerical derivative of L is taken with Richardson's
// extrapolation of two central differences, (4·D(h/2) − D(h))/3, whose
// error is O(h⁴), which makes 1e-7 a tight yet reachable bound in float64.
//
// # Concurrency
//
// Check is safe for concurrent use as long as f is.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// Options tune Check. The zero value gives the defaults.
type Options struct {
	Step  float64 // finite-difference step h; default 1e-4
	Floor float64 // least denominator of the relative error; default 1e-3
	Tol   float64 // largest relative error that passes; default 1e-7 (float64), 1e-4 (float32)
	// Float32 computes the analytic gradient in float32 instead of
	// float64. The numerical one is always computed in float64 from the
	// same inputs, so a float32 check measures the backward pass's float32
	// rounding. (A bool rather than a DType, whose zero value is Float32:
	// the zero Options must mean the strict float64 check.)
	Float32 bool
	// Wrt lists the inputs to differentiate; nil means all.
	Wrt []int
}

func (o Options) withDefaults() Options {
	if o.Step == 0 {
		o.Step = 1e-4
	}
	if o.Floor == 0 {
		o.Floor = 1e-3
	}
	if o.Tol == 0 {
		o.Tol = 1e-7
		if o.Float32 {
			o.Tol = 1e-4
		}
	}
	return o
}

// Result is the outcome of a Check.
type Result struct {
	MaxRelErr float64 // the largest relative error over all checked elements
	Input     int     // the input holding the worst element
	Index     int     // its flat index
	Analytic  float64 // the analytic gradient there
	Numeric   float64 // and the numerical one
	Checked   int     // how many elements were compared
	Pass      bool    // MaxRelErr < Tol
}

func (r Result) String() string {
	status := "ok"
	if !r.Pass {
		status = "FAIL"
	}
	return fmt.Sprintf("%s: max rel err %.3g at input %d[%d] (analytic %.10g, numeric %.10g), %d elements",
		status, r.MaxRelErr, r.Input, r.Index, r.Analytic, r.Numeric, r.Checked)
}

// Fn is a function of several tensors, written with ag ops.
type Fn func(in []*ag.Node) *ag.Node

// Check compares the analytic gradient of f at inputs (float64 tensors)
// with finite differences. rng draws the upstream gradient. It returns an
// error when f's output is not finite or an input is not float64.
func Check(f Fn, inputs []*tensor.Tensor, rng *rand.Rand, opts Options) (Result, error) {
	o := opts.withDefaults()
	dt := tensor.Float64
	if o.Float32 {
		dt = tensor.Float32
	}
	for i, x := range inputs {
		if x.DType() != tensor.Float64 {
			return Result{}, fmt.Errorf("gradcheck: input %d is %v; inputs must be float64", i, x.DType())
		}
	}
	wrt := o.Wrt
	if wrt == nil {
		for i := range inputs {
			wrt = append(wrt, i)
		}
	}
	// Evaluate once to learn the output's shape and draw u.
	y0 := eval(f, inputs)
	if !finite(y0) {
		return Result{}, fmt.Errorf("gradcheck: f is not finite at the given inputs")
	}
	u := tensor.Normal(rng, tensor.Float64, 0, 1, y0.Shape()...)

	// Analytic gradients, in the requested dtype.
	nodes := make([]*ag.Node, len(inputs))
	for i, x := range inputs {
		nodes[i] = ag.Const(x.AsType(dt))
	}
	for _, i := range wrt {
		nodes[i] = ag.Var(inputs[i].AsType(dt))
	}
	y := f(nodes)
	ag.Backward(y, ag.WithUpstream(u.AsType(dt)))

	res := Result{Pass: true}
	uv := u.Values()
	for _, i := range wrt {
		g := nodes[i].Grad()
		var ga []float64
		if g != nil {
			ga = g.Values()
		} else {
			ga = make([]float64, inputs[i].Len())
		}
		for j := range ga {
			n := numeric(f, inputs, uv, i, j, o.Step)
			e := math.Abs(ga[j]-n) / math.Max(math.Max(math.Abs(ga[j]), math.Abs(n)), o.Floor)
			if math.IsNaN(e) {
				e = math.Inf(1)
			}
			if e > res.MaxRelErr || res.Checked == 0 {
				res.MaxRelErr, res.Input, res.Index, res.Analytic, res.Numeric = e, i, j, ga[j], n
			}
			res.Checked++
		}
	}
	res.Pass = res.MaxRelErr < o.Tol
	return res, nil
}

func eval(f Fn, inputs []*tensor.Tensor) *tensor.Tensor {
	nodes := make([]*ag.Node, len(inputs))
	for i, x := range inputs {
		nodes[i] = ag.Const(x)
	}
	return f(nodes).Value()
}

func finite(t *tensor.Tensor) bool {
	for _, v := range t.Values() {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// numeric returns ∂L/∂x[input][j] for L = Σ f⊙u by Richardson-extrapolated
// central differences.
func numeric(f Fn, inputs []*tensor.Tensor, u []float64, input, j int, h float64) float64 {
	d := func(h float64) float64 {
		plus := perturbed(f, inputs, input, j, h)
		minus := perturbed(f, inputs, input, j, -h)
		// Difference the outputs before weighting them, so that outputs x[j]
		// does not touch contribute exactly zero rather than rounding noise.
		var s float64
		for k := range u {
			s += (plus[k] - minus[k]) * u[k]
		}
		return s / (2 * h)
	}
	return (4*d(h/2) - d(h)) / 3
}

func perturbed(f Fn, inputs []*tensor.Tensor, input, j int, h float64) []float64 {
	x := inputs[input].Clone()
	flat := x.Float64s()
	flat[j] += h
	in := append([]*tensor.Tensor{}, inputs...)
	in[input] = x
	return eval(f, in).Values()
}
