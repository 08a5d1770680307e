package nn_test

import (
	"math"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// Sequential fuses Linear+ReLU into ag.LinearReLU; the values and every
// gradient must equal, bit for bit, those of the layers run one by one
// (ForwardTrace does not fuse).
func TestFusedLinearReLUMatchesLayers(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		m, err := nn.NewMLP(nn.MLPConfig{In: 6, Hidden: []int{16, 8}, Out: 3, Activation: "relu", DType: dt}, tensor.NewRand(4))
		if err != nil {
			t.Fatal(err)
		}
		x := tensor.Normal(tensor.NewRand(5), dt, 0, 1, 10, 6)
		labels := []int{0, 1, 2, 0, 1, 2, 0, 1, 2, 0}
		grads := func(out *ag.Node) [][]float64 {
			for _, p := range m.Params() {
				p.Node.ZeroGrad()
			}
			ag.Backward(ag.SoftmaxCrossEntropy(out, labels))
			var g [][]float64
			for _, p := range m.Params() {
				g = append(g, p.Node.Grad().Values())
			}
			return append(g, out.Value().Values())
		}
		fused := m.Forward(ag.Const(x))
		if fused.Op() != "Linear" || fused.Inputs()[0].Op() != "LinearReLU" {
			t.Fatalf("%v: the MLP did not fuse: last ops %s ← %s", dt, fused.Op(), fused.Inputs()[0].Op())
		}
		unfused := ag.Const(x)
		for _, l := range m.Layers {
			unfused = l.Forward(unfused)
		}
		a, b := grads(fused), grads(unfused)
		for i := range a {
			for j := range a[i] {
				if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) {
					t.Fatalf("%v: tensor %d element %d: fused %v, layer by layer %v", dt, i, j, a[i][j], b[i][j])
				}
			}
		}
	}
}

// Under NoGrad, Sequential recycles intermediate outputs; results must be
// those of a recorded forward pass, batch after batch, with identity-like
// layers (Dropout in evaluation mode returns its input) in the chain and
// layers large enough to be recycled.
func TestForwardRecyclingKeepsResults(t *testing.T) {
	m, err := nn.NewMLP(nn.MLPConfig{In: 64, Hidden: []int{300, 200}, Out: 7, Activation: "tanh", Dropout: 0.3}, tensor.NewRand(6))
	if err != nil {
		t.Fatal(err)
	}
	nn.SetTraining(m, false)
	relu, err := nn.NewMLP(nn.MLPConfig{In: 64, Hidden: []int{300, 200}, Out: 7, Activation: "relu"}, tensor.NewRand(7))
	if err != nil {
		t.Fatal(err)
	}
	for _, net := range []*nn.Sequential{m, relu} {
		rng := tensor.NewRand(8)
		var inputs []*tensor.Tensor
		var want, inputValues [][]float64
		for i := 0; i < 3; i++ {
			x := tensor.Normal(rng, tensor.Float32, 0, 1, 100, 64)
			inputs = append(inputs, x)
			inputValues = append(inputValues, x.Values())
			want = append(want, net.Forward(ag.Const(x)).Value().Values()) // params require grad: recorded, nothing recycled
		}
		for round := 0; round < 2; round++ {
			for i, x := range inputs {
				var got []float64
				ag.NoGrad(func() { got = net.Forward(ag.Const(x)).Value().Values() })
				for j := range got {
					if math.Float64bits(got[j]) != math.Float64bits(want[i][j]) {
						t.Fatalf("round %d batch %d element %d: %v under NoGrad, %v recorded", round, i, j, got[j], want[i][j])
					}
				}
				for j, v := range x.Values() { // an input handed to Recycle would panic here
					if v != inputValues[i][j] {
						t.Fatal("the caller's input was changed")
					}
				}
			}
		}
	}
}

// Layers that pass their input on (Dropout in evaluation mode, a reshape)
// must not lead Forward to recycle the caller's input.
func TestForwardNeverRecyclesTheInput(t *testing.T) {
	drop := nn.NewDropout(0.2, tensor.NewRand(1))
	drop.SetTraining(false)
	for name, first := range map[string]nn.Module{"dropout": drop, "reshape": reshape{}, "empty": nn.NewSequential()} {
		net := nn.NewSequential(first, nn.NewLinear(784, 10, tensor.Float32, tensor.NewRand(2)))
		x := tensor.Normal(tensor.NewRand(3), tensor.Float32, 0, 1, 128, 784)
		before := x.Values()
		ag.NoGrad(func() { net.Forward(ag.Const(x)) })
		_ = tensor.Full(tensor.Float32, 7, 128, 784) // would reuse x's buffer had it been recycled
		for i, v := range x.Values() {
			if v != before[i] {
				t.Fatalf("%s: the caller's input changed at %d: %v → %v", name, i, before[i], v)
			}
		}
	}
}

// reshape is a user layer that returns a view of its input.
type reshape struct{}

func (reshape) Forward(x *ag.Node) *ag.Node { return ag.Reshape(x, x.Shape()...) }
func (reshape) Params() []nn.Param          { return nil }

func TestIsTraining(t *testing.T) {
	m, _ := nn.NewMLP(nn.MLPConfig{In: 2, Hidden: []int{4}, Out: 2, Dropout: 0.5}, tensor.NewRand(1))
	if !nn.IsTraining(m) {
		t.Fatal("a new MLP with dropout is not in training mode")
	}
	nn.SetTraining(m, false)
	if nn.IsTraining(m) {
		t.Fatal("SetTraining(false) did not show")
	}
	plain, _ := nn.NewMLP(nn.MLPConfig{In: 2, Hidden: []int{4}, Out: 2}, tensor.NewRand(1))
	if !nn.IsTraining(plain) {
		t.Fatal("a model without modes should report the default, training")
	}
}
