package nn_test

import (
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// ForwardTrace returns one output per layer, the last one Forward's.
func TestForwardTrace(t *testing.T) {
	m, err := nn.NewMLP(nn.MLPConfig{In: 3, Hidden: []int{4, 5}, Out: 2, DType: tensor.Float64}, tensor.NewRand(1))
	if err != nil {
		t.Fatal(err)
	}
	x := ag.Const(tensor.Normal(tensor.NewRand(2), tensor.Float64, 0, 1, 6, 3))
	outs := m.ForwardTrace(x)
	if len(outs) != len(m.Layers) {
		t.Fatalf("%d outputs for %d layers", len(outs), len(m.Layers))
	}
	for i, want := range []int{4, 4, 5, 5, 2} {
		if outs[i].Shape()[1] != want {
			t.Fatalf("output %d has shape %v, want [6 %d]", i, outs[i].Shape(), want)
		}
	}
	got, want := outs[len(outs)-1].Value().Values(), m.Forward(x).Value().Values()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("last traced output differs from Forward at %d: %v vs %v", i, got[i], want[i])
		}
	}
	if nn.NewSequential().ForwardTrace(x) != nil {
		t.Fatal("an empty Sequential traced something")
	}
}
