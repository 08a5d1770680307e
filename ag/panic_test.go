package ag_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// The engine's own misuse panics are typed, so tensor.Try turns them into
// errors for callers that build graphs from outside input.
func TestBackwardPanicsAreTyped(t *testing.T) {
	err := tensor.Try(func() { ag.Backward(ag.Const(tensor.Scalar(tensor.Float64, 1))) })
	var oe *tensor.OpError
	if !errors.As(err, &oe) || oe.Op != "Backward" || !strings.Contains(err.Error(), "requiring a gradient") {
		t.Errorf("Backward of a constant: %v", err)
	}
	x := ag.Var(tensor.FromFloat64([]float64{1, 2}))
	bad := ag.Apply("TwoGrads", tensor.FromFloat64([]float64{3}), func(g *ag.Node, in []*ag.Node, _ *ag.Node, _ []bool) []*ag.Node {
		return []*ag.Node{g, g}
	}, x)
	err = tensor.Try(func() { ag.Backward(ag.Sum(bad)) })
	if !errors.As(err, &oe) || !strings.Contains(err.Error(), "TwoGrads (VJP): returned 2 gradients for 1 inputs") {
		t.Errorf("a VJP with too many gradients: %v", err)
	}
}
