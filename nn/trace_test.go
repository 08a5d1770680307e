package nn_test

import (
	"math"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// Trace returns one entry per leaf layer with its path, the fused Linear
// without an output of its own, and the same result as Forward.
func TestTrace(t *testing.T) {
	m := buildText(t, "linear(4)-relu-seq(linear(5)-tanh)-linear(2)", 3)
	x := ag.Const(tensor.Normal(tensor.NewRand(2), tensor.Float64, 0, 1, 6, 3))
	y, tr := nn.Trace(m, x)
	var paths []string
	for _, e := range tr {
		paths = append(paths, e.Path)
	}
	if want := []string{"0", "1", "2.0", "2.1", "3"}; !slices.Equal(paths, want) {
		t.Fatalf("paths %v, want %v", paths, want)
	}
	if !tr[0].FusedInto || tr[0].Out != nil || tr[1].Out == nil || tr[1].Out.Op() != "LinearReLU" {
		t.Errorf("the Linear+ReLU pair is not traced as one fused op: %+v %+v", tr[0], tr[1])
	}
	for i, want := range []int{0, 4, 5, 5, 2} {
		if i > 0 && tr[i].Out.Shape()[1] != want {
			t.Errorf("output %d has shape %v, want [6 %d]", i, tr[i].Out.Shape(), want)
		}
	}
	if tr[4].Out != y || !slices.Equal(y.Value().Values(), m.Forward(x).Value().Values()) {
		t.Error("the traced result differs from Forward")
	}
	if _, tr := nn.Trace(nn.NewSequential(), x); len(tr) != 0 {
		t.Error("an empty Sequential traced something")
	}
}

// Trace cuts a fused run after its activation, so that the ReLU's output
// is recorded: Conv2d-ReLU-MaxPool2d, one Conv2DReLUMaxPool in Forward, is
// traced as Conv2DReLU then MaxPool2D, with the same output bits and the
// same gradients.
func TestTraceShowsActivationsOfFusedRuns(t *testing.T) {
	m := buildText(t, "conv(4, 3, pad=1)-relu-maxpool(2)-flatten-linear(3)", 2, 6, 6)
	x := tensor.Normal(tensor.NewRand(3), tensor.Float64, 0, 1, 5, 2, 6, 6)
	grads := func(y *ag.Node) []float64 {
		for _, p := range m.Params() {
			p.Node.ZeroGrad()
		}
		ag.Backward(ag.SoftmaxCrossEntropy(y, []int{0, 1, 2, 0, 1}))
		g := y.Value().Values()
		for _, p := range m.Params() {
			g = append(g, p.Node.Grad().Values()...)
		}
		return g
	}
	y, tr := nn.Trace(m, ag.Const(x))
	if len(tr) != 5 || !tr[0].FusedInto || tr[1].Out == nil || tr[1].Out.Op() != "Conv2DReLU" || tr[2].Out.Op() != "MaxPool2D" {
		t.Fatalf("the run is not traced as Conv2DReLU then MaxPool2D: %+v", tr)
	}
	fy := m.Forward(ag.Const(x))
	if op := fy.Inputs()[0].Inputs()[0].Op(); op != "Conv2DReLUMaxPool" {
		t.Fatalf("Forward ran %s, want Conv2DReLUMaxPool", op)
	}
	a, b := grads(y), grads(fy)
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("element %d: traced %v, forward %v", i, a[i], b[i])
		}
	}
	// A pooling before any activation: the convolution's own output is
	// traced (Forward runs one Conv2DMaxPool).
	m2 := buildText(t, "conv(4, 3, pad=1)-maxpool(2)-relu-flatten-linear(3)", 2, 6, 6)
	if f2 := m2.Forward(ag.Const(x)); f2.Inputs()[0].Inputs()[0].Inputs()[0].Op() != "Conv2DMaxPool" {
		t.Fatal("conv-maxpool did not fuse in Forward")
	}
	if _, tr := nn.Trace(m2, ag.Const(x)); len(tr) != 5 || tr[0].Out == nil || tr[0].Out.Op() != "Conv2D" || tr[1].Out.Op() != "MaxPool2D" {
		t.Fatalf("conv-maxpool is not traced as Conv2D then MaxPool2D: %+v", tr)
	}
}
