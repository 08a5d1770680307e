package ag_test

import (
	"math"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// Steps that release their graph (ag.Release) give the bits of steps that
// do not: the recycled activations are taken by the next step's ops and
// nothing that is still in use is overwritten. Leaves and views of leaves
// keep their values; released nodes are emptied and cut from the graph.
func TestReleaseKeepsStepsExact(t *testing.T) {
	rng := tensor.NewRand(5)
	// Large enough (≥ 1024 elements, tensor's poolMin) for the buffers to be pooled.
	x := tensor.Normal(rng, tensor.Float32, 0, 1, 128, 200)
	w1 := tensor.Normal(rng, tensor.Float32, 0, 0.1, 256, 200)
	w2 := tensor.Normal(rng, tensor.Float32, 0, 0.1, 10, 256)
	labels := make([]int, 128)
	for i := range labels {
		labels[i] = i % 10
	}
	run := func(release bool) [][]float32 {
		p1, p2 := ag.Var(w1.Clone()), ag.Var(w2.Clone())
		var out [][]float32
		for range 4 {
			in := ag.Const(x)
			// A recorded view of a leaf: it shares the weight's buffer.
			view := ag.Reshape(p1, 256, 20, 10)
			h := ag.LinearReLU(in, ag.Reshape(view, 256, 200), nil)
			logits := ag.Linear(ag.Tanh(h), p2, nil)
			l := ag.SoftmaxCrossEntropy(logits, labels)
			p1.ZeroGrad()
			p2.ZeroGrad()
			ag.Backward(l)
			out = append(out, []float32{float32(l.Item())}, p1.Grad().Float32s(), p2.Grad().Float32s())
			// A plain SGD step, so that every step computes new values.
			p1.Value().CopyFrom(tensor.Sub(p1.Value(), tensor.Scale(p1.Grad(), 0.5)))
			p2.Value().CopyFrom(tensor.Sub(p2.Value(), tensor.Scale(p2.Grad(), 0.5)))
			if release {
				ag.Release(l)
				if h.Value() != nil || logits.Value() != nil || l.Value() != nil || len(h.Inputs()) != 0 {
					t.Fatal("a released node kept its value or its inputs")
				}
				if view.Value() == nil || !slices.Equal(view.Value().Float32s(), p1.Value().Float32s()) || !slices.Equal(in.Value().Float32s(), x.Float32s()) {
					t.Fatal("the input or the view of the weight lost its values")
				}
			}
		}
		return out
	}
	a, b := run(false), run(true)
	for i := range a {
		for j := range a[i] {
			if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
				t.Fatalf("tensor %d element %d: %v without Release, %v with", i, j, a[i][j], b[i][j])
			}
		}
	}
}

// Release of a leaf, of nil and of a graph released before does nothing.
func TestReleaseLeavesAndNil(t *testing.T) {
	ag.Release(nil)
	v := ag.Var(tensor.Ones(tensor.Float64, 200, 100))
	ag.Release(v)
	if v.Value() == nil || v.Value().Len() != 20000 {
		t.Fatal("Release emptied a leaf")
	}
	y := ag.Sum(ag.Mul(v, v))
	ag.Release(y)
	ag.Release(y)
	if v.Value().Len() != 20000 || y.Value() != nil {
		t.Fatal("a second Release changed something")
	}
}
