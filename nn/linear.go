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
	init         string // the scheme it was initialised with ("" = "default"), for Spec
}

// NewLinear returns a Linear layer of the given sizes and dtype,
// initialised as PyTorch's nn.Linear is by default: weight from
// kaiming_uniform(a=√5), that is U(−1/√in, 1/√in), then bias from the same
// interval, both drawn from rng (weight first). Sizes below 1 panic.
func NewLinear(in, out int, dt tensor.DType, rng *rand.Rand) *Linear {
	l := newLinear(in, out, true, dt)
	if err := Init(l.Weight.Value(), l.Bias.Value(), "default", rng); err != nil {
		panic(err) // unreachable: "default" is a known scheme
	}
	return l
}

// newLinear returns a zero Linear layer (with a bias when bias is set).
func newLinear(in, out int, bias bool, dt tensor.DType) *Linear {
	if in < 1 || out < 1 {
		panic(&tensor.ShapeError{Op: "NewLinear", Shapes: [][]int{{out, in}}, Msg: "sizes must be at least 1"})
	}
	l := &Linear{Weight: ag.Var(tensor.New(dt, out, in)), In: in, Out: out}
	if bias {
		l.Bias = ag.Var(tensor.New(dt, out))
	}
	return l
}

// Forward maps x [N, In] (or [..., N, In]) to x·Wᵀ + b, [N, Out], with the
// fused ag.Linear (W is read in place, the bias added inside the product).
// A 1-D input [In] gives a 1-D output [Out], as in PyTorch. An input whose
// last dimension is not In panics with a *tensor.ShapeError naming
// "Linear".
func (l *Linear) Forward(x *ag.Node) *ag.Node { return l.forward(x, ag.Linear) }

// Fuse fuses a following ReLU into the product (ag.LinearReLU: the same
// values and gradients, one tensor and one pass fewer).
func (l *Linear) Fuse(next []Module) (func(*ag.Node) *ag.Node, int) {
	if isReLU(next, 0) {
		return func(x *ag.Node) *ag.Node { return l.forward(x, ag.LinearReLU) }, 1
	}
	return nil, 0
}

// isReLU reports whether layers[i] exists and is a ReLU.
func isReLU(layers []Module, i int) bool {
	if i >= len(layers) {
		return false
	}
	a, ok := layers[i].(*Activation)
	return ok && a.name == "relu"
}

// forward checks x's shape and applies op (ag.Linear, or ag.LinearReLU
// when fused with a ReLU).
func (l *Linear) forward(x *ag.Node, op func(x, w, b *ag.Node) *ag.Node) *ag.Node {
	sh := x.Shape()
	if len(sh) == 1 && sh[0] == l.In {
		return ag.Reshape(op(ag.Reshape(x, 1, l.In), l.Weight, l.Bias), l.Out)
	}
	if len(sh) < 2 || sh[len(sh)-1] != l.In {
		panic(&tensor.ShapeError{Op: "Linear", Shapes: [][]int{sh, l.Weight.Shape()},
			Msg: fmt.Sprintf("want input [N, %d] for a weight [%d, %d]", l.In, l.Out, l.In)})
	}
	return op(x, l.Weight, l.Bias)
}

// Spec describes the layer: {"type":"Linear","in":…,"out":…,"bias":…,"init":…}.
func (l *Linear) Spec() Spec {
	init := l.init
	if init == "" {
		init = "default"
	}
	return L("Linear", "in", l.In, "out", l.Out, "bias", l.Bias != nil, "init", init)
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
