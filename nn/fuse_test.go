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
		trace := m.ForwardTrace(ag.Const(x))
		a, b := grads(fused), grads(trace[len(trace)-1])
		for i := range a {
			for j := range a[i] {
				if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) {
					t.Fatalf("%v: tensor %d element %d: fused %v, layer by layer %v", dt, i, j, a[i][j], b[i][j])
				}
			}
		}
	}
}
