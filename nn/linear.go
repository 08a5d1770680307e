package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// Linear is a fully connected layer, y = x·Wᵀ + b, as PyTorch's nn.Linear:
// Weight is [Out, In] and Bias is [Out] (nil for a layer without bias).
type Linear struct {
	Weight, Bias *ag.Node
	In, Out      int
}

// NewLinear returns a Linear layer of the given sizes and dtype,
// initialised as PyTorch's nn.Linear is by default: weight from
// kaiming_uniform(a=√5), that is U(−1/√in, 1/√in), then bias from the same
// interval, both drawn from rng (weight first). Sizes below 1 panic.
func NewLinear(in, out int, dt tensor.DType, rng *rand.Rand) *Linear {
	l := newLinear(in, out, dt)
	if err := Init(l.Weight.Value(), l.Bias.Value(), "default", rng); err != nil {
		panic(err) // unreachable: "default" is a known scheme
	}
	return l
}

// newLinear returns a zero Linear layer.
func newLinear(in, out int, dt tensor.DType) *Linear {
	if in < 1 || out < 1 {
		panic(&tensor.ShapeError{Op: "NewLinear", Shapes: [][]int{{out, in}}, Msg: "sizes must be at least 1"})
	}
	return &Linear{
		Weight: ag.Var(tensor.New(dt, out, in)),
		Bias:   ag.Var(tensor.New(dt, out)),
		In:     in,
		Out:    out,
	}
}

// Forward maps x [N, In] (or [..., N, In]) to x·Wᵀ + b, [N, Out], with the
// fused ag.Linear (W is read in place, the bias added inside the product).
// An input whose last dimension is not In panics with a *tensor.ShapeError
// naming "Linear".
func (l *Linear) Forward(x *ag.Node) *ag.Node { return l.forward(x, ag.Linear) }

// forward checks x's shape and applies op (ag.Linear, or ag.LinearReLU
// when a Sequential fuses the activation).
func (l *Linear) forward(x *ag.Node, op func(x, w, b *ag.Node) *ag.Node) *ag.Node {
	sh := x.Shape()
	if len(sh) < 2 || sh[len(sh)-1] != l.In {
		panic(&tensor.ShapeError{Op: "Linear", Shapes: [][]int{sh, l.Weight.Shape()},
			Msg: fmt.Sprintf("want input [N, %d] for a weight [%d, %d]", l.In, l.Out, l.In)})
	}
	return op(x, l.Weight, l.Bias)
}

// Params returns "weight" and, when there is one, "bias".
func (l *Linear) Params() []Param {
	ps := []Param{{Name: "weight", Node: l.Weight}}
	if l.Bias != nil {
		ps = append(ps, Param{Name: "bias", Node: l.Bias})
	}
	return ps
}

func (l *Linear) String() string { return fmt.Sprintf("Linear(%d, %d)", l.In, l.Out) }
