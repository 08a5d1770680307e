package nn_test

import (
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
