package ag_test

import (
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/internal/reftest"
	"github.com/nabla-go/nabla/tensor"
)

// TestFunctionalReference checks VJPN, JVPN, JacobianN, HessianN, HVPN and
// their At forms (on an MLP's parameters) against
// torch.autograd.functional, in float64. The numbers are in
// ../testdata/functional/reference.json, written by
// ../testdata/functional/gen_functional.py (run it with /usr/bin/python3
// from the repository root). Error measure: reftest.RelErr, at most 1e-12.
func TestFunctionalReference(t *testing.T) {
	type tens = reftest.Tensor
	var f struct {
		Torch string `json:"torch_version"`
		Cases []struct {
			Name     string   `json:"name"`
			X        tens     `json:"x"`
			Labels   []int    `json:"labels"`
			Inputs   []tens   `json:"inputs"`
			V        tens     `json:"v"`
			Tangents []tens   `json:"tangents"`
			Output   tens     `json:"output"`
			VJP      []tens   `json:"vjp"`
			JVP      tens     `json:"jvp"`
			Jacobian []tens   `json:"jacobian"`
			Hessian  [][]tens `json:"hessian"`
			HVP      []tens   `json:"hvp"`
		} `json:"cases"`
	}
	reftest.Load(t, "../testdata/functional/reference.json", &f)
	t.Logf("reference from torch %s", f.Torch)
	ref := reftest.Checker{Tol: map[string]float64{"float64": 1e-12}}
	ts := func(xs []tens) []*tensor.Tensor {
		out := make([]*tensor.Tensor, len(xs))
		for i, x := range xs {
			out[i] = x.Tensor(tensor.Float64)
		}
		return out
	}
	check := func(name, what string, got *tensor.Tensor, want tens) {
		t.Helper()
		if !tensor.EqualShape(got.Shape(), want.Shape) {
			t.Errorf("%s %s: shape %v, torch %v", name, what, got.Shape(), want.Shape)
			return
		}
		ref.Check(t, name, "float64", what, got.Values(), want.Data)
	}
	seen := 0
	for _, c := range f.Cases {
		xs, vs := ts(c.Inputs), ts(c.Tangents)
		switch c.Name {
		case "vector":
			fn := func(in []*ag.Node) *ag.Node {
				a, b := in[0], in[1]
				return ag.Mul(ag.Tanh(ag.MatMul(b, a)), ag.Sum(ag.Square(a)))
			}
			y, vjp := ag.VJPN(fn, xs, c.V.Tensor(tensor.Float64))
			check(c.Name, "output", y, c.Output)
			for i := range vjp {
				check(c.Name, "vjp", vjp[i], c.VJP[i])
			}
			_, jvp := ag.JVPN(fn, xs, vs)
			check(c.Name, "jvp", jvp, c.JVP)
			for i, j := range ag.JacobianN(fn, xs) {
				check(c.Name, "jacobian", j, c.Jacobian[i])
			}
		case "scalar", "mlp":
			var fn ag.FuncN
			if c.Name == "scalar" {
				fn = func(in []*ag.Node) *ag.Node {
					a, b := in[0], in[1]
					return ag.Add(ag.Sum(ag.Sin(ag.MatMul(b, a))), ag.Mul(ag.Sum(ag.Square(a)), ag.LogSumExp(b)))
				}
			} else {
				x := ag.Const(c.X.Tensor(tensor.Float64))
				fn = func(in []*ag.Node) *ag.Node {
					h := ag.Tanh(ag.Linear(x, in[0], in[1]))
					return ag.SoftmaxCrossEntropy(ag.Linear(h, in[2], nil), c.Labels)
				}
			}
			for i, j := range ag.JacobianN(fn, xs) {
				check(c.Name, "jacobian", j, c.Jacobian[i])
			}
			for i, row := range ag.HessianN(fn, xs) {
				for j, h := range row {
					check(c.Name, "hessian", h, c.Hessian[i][j])
				}
			}
			for i, h := range ag.HVPN(fn, xs, vs) {
				check(c.Name, "hvp", h, c.HVP[i])
			}
			// The At forms, on leaves a model would hold.
			params := []*ag.Node{ag.Var(xs[0]), ag.Var(xs[1])}
			if len(xs) == 3 {
				params = append(params, ag.Var(xs[2]))
			}
			loss := fn(params)
			check(c.Name, "output", loss.Value(), c.Output)
			for i, h := range ag.HVPAt(loss, params, vs) {
				check(c.Name, "hvp (At)", h, c.HVP[i])
			}
			for i, row := range ag.HessianAt(loss, params) {
				for j, h := range row {
					check(c.Name, "hessian (At)", h, c.Hessian[i][j])
				}
			}
			for _, p := range params {
				if p.Grad() != nil {
					t.Errorf("%s: the At forms stored a gradient", c.Name)
				}
			}
		default:
			t.Fatalf("unknown case %q", c.Name)
		}
		seen++
	}
	if seen != 3 {
		t.Errorf("%d cases, want 3", seen)
	}
	ref.LogWorst(t)
}

// TestFunctionalIndependentInput checks that an input the function does
// not depend on gets zero derivatives of every order, and that
// mismatched tangents panic.
func TestFunctionalIndependentInput(t *testing.T) {
	fn := func(in []*ag.Node) *ag.Node { return ag.Sum(ag.Square(in[0])) }
	xs := []*tensor.Tensor{tensor.FromFloat64([]float64{1, 2}), tensor.FromFloat64([]float64{3})}
	h := ag.HessianN(fn, xs)
	if got := h[0][0].Values(); got[0] != 2 || got[1] != 0 || got[3] != 2 {
		t.Errorf("H[0][0] = %v, want 2·I", got)
	}
	for _, blk := range []*tensor.Tensor{h[0][1], h[1][0], h[1][1]} {
		for _, v := range blk.Values() {
			if v != 0 {
				t.Errorf("block involving the unused input: %v", blk.Values())
			}
		}
	}
	if !tensor.EqualShape(h[0][1].Shape(), []int{2, 1}) || !tensor.EqualShape(h[1][0].Shape(), []int{1, 2}) {
		t.Errorf("block shapes %v %v, want [2 1] [1 2]", h[0][1].Shape(), h[1][0].Shape())
	}
	_, jvp := ag.JVPN(func(in []*ag.Node) *ag.Node { return ag.Scale(in[1], 0) }, xs, xs)
	if jvp.Values()[0] != 0 {
		t.Errorf("JVP of a function of nothing differentiable: %v", jvp.Values())
	}
	if err := tensor.Try(func() { ag.HVPN(fn, xs, xs[:1]) }); err == nil {
		t.Error("HVPN with one tangent for two inputs: no error")
	}
	if err := tensor.Try(func() { ag.JVPN(fn, xs, []*tensor.Tensor{xs[1], xs[0]}) }); err == nil {
		t.Error("JVPN with misshapen tangents: no error")
	}
}
