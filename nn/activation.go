package nn

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// Activation is an element-wise non-linearity as a Module, with no
// parameters. Build one with ReLU, LeakyReLU, Sigmoid, Tanh, ELU, GELU,
// GELUTanh, SiLU or Softplus, or by name with ActivationByName.
type Activation struct {
	name  string  // the registry name ("leaky-relu")
	title string  // PyTorch's class name ("LeakyReLU")
	param float64 // slope or alpha, for LeakyReLU and ELU
	hasP  bool
	f     func(*ag.Node) *ag.Node
	into  func(dst, x *tensor.Tensor) *tensor.Tensor // f's values without a graph, into dst (Predictor)
}

// ReLU is max(0, x).
func ReLU() *Activation {
	return &Activation{name: "relu", title: "ReLU", f: ag.ReLU, into: tensor.ReLUInto}
}

// LeakyReLU is x for x > 0 and slope·x elsewhere (PyTorch's default slope
// is ag.DefaultLeakySlope, 0.01).
func LeakyReLU(slope float64) *Activation {
	return &Activation{name: "leaky-relu", title: "LeakyReLU", param: slope, hasP: true,
		f:    func(x *ag.Node) *ag.Node { return ag.LeakyReLU(x, slope) },
		into: func(dst, x *tensor.Tensor) *tensor.Tensor { return tensor.LeakyReLUInto(dst, x, slope) }}
}

// Sigmoid is 1/(1+e⁻ˣ).
func Sigmoid() *Activation {
	return &Activation{name: "sigmoid", title: "Sigmoid", f: ag.Sigmoid, into: tensor.SigmoidInto}
}

// Tanh is the hyperbolic tangent.
func Tanh() *Activation {
	return &Activation{name: "tanh", title: "Tanh", f: ag.Tanh, into: tensor.TanhInto}
}

// ELU is x for x > 0 and alpha·(eˣ−1) elsewhere (PyTorch's default alpha
// is 1).
func ELU(alpha float64) *Activation {
	return &Activation{name: "elu", title: "ELU", param: alpha, hasP: true,
		f:    func(x *ag.Node) *ag.Node { return ag.ELU(x, alpha) },
		into: func(dst, x *tensor.Tensor) *tensor.Tensor { return tensor.ELUInto(dst, x, alpha) }}
}

// GELU is the exact x·Φ(x).
func GELU() *Activation {
	return &Activation{name: "gelu", title: "GELU", f: ag.GELU, into: tensor.GELUInto}
}

// GELUTanh is GELU's tanh approximation (PyTorch's approximate="tanh").
func GELUTanh() *Activation {
	return &Activation{name: "gelu-tanh", title: "GELUTanh", f: ag.GELUTanh, into: tensor.GELUTanhInto}
}

// SiLU is x·σ(x) (swish).
func SiLU() *Activation {
	return &Activation{name: "silu", title: "SiLU", f: ag.SiLU, into: tensor.SiLUInto}
}

// Softplus is log(1+eˣ), without PyTorch's switch to x above a threshold.
func Softplus() *Activation {
	return &Activation{name: "softplus", title: "Softplus", f: ag.Softplus, into: tensor.SoftplusInto}
}

// Forward applies the function element-wise; any shape.
func (a *Activation) Forward(x *ag.Node) *ag.Node { return a.f(x) }

// Params is empty: activations have no parameters.
func (a *Activation) Params() []Param { return nil }

// Spec describes the activation with PyTorch's class name and setting
// names: {"type":"LeakyReLU","negative_slope":0.01}, {"type":"GELU",
// "approximate":"tanh"}.
func (a *Activation) Spec() Spec {
	switch a.name {
	case "leaky-relu":
		return L("LeakyReLU", "negative_slope", a.param)
	case "elu":
		return L("ELU", "alpha", a.param)
	case "gelu":
		return L("GELU", "approximate", "none")
	case "gelu-tanh":
		return L("GELU", "approximate", "tanh")
	}
	return Spec{Type: a.title}
}

// ActivationSpec returns the spec of the activation called name (a name
// from ActivationNames), with PyTorch's default parameter.
func ActivationSpec(name string) (Spec, error) {
	a, err := ActivationByName(name)
	if err != nil {
		return Spec{}, err
	}
	return a.(*Activation).Spec(), nil
}

// Name is the activation's name as ActivationByName takes it ("leaky-relu").
func (a *Activation) Name() string { return a.name }

// String is the PyTorch-style description, "LeakyReLU(0.01)" or "ReLU()".
func (a *Activation) String() string {
	if a.hasP {
		return a.title + "(" + strconv.FormatFloat(a.param, 'g', -1, 64) + ")"
	}
	return a.title + "()"
}

// activations lists the names ActivationByName knows, in the order
// ActivationNames returns them, with PyTorch's default parameters.
var activations = []struct {
	name string
	make func() *Activation
}{
	{"relu", ReLU},
	{"leaky-relu", func() *Activation { return LeakyReLU(ag.DefaultLeakySlope) }},
	{"sigmoid", Sigmoid},
	{"tanh", Tanh},
	{"elu", func() *Activation { return ELU(1) }},
	{"gelu", GELU},
	{"gelu-tanh", GELUTanh},
	{"silu", SiLU},
	{"softplus", Softplus},
}

// ActivationNames lists the names ActivationByName accepts.
func ActivationNames() []string {
	names := make([]string, len(activations))
	for i, a := range activations {
		names[i] = a.name
	}
	return names
}

// ActivationByName returns the activation called name, with PyTorch's
// default parameter (slope 0.01 for leaky-relu, alpha 1 for elu). An
// unknown name is an error that lists the valid ones.
func ActivationByName(name string) (Module, error) {
	for _, a := range activations {
		if a.name == name {
			return a.make(), nil
		}
	}
	return nil, fmt.Errorf("nn: unknown activation %q (valid: %s)", name, strings.Join(ActivationNames(), ", "))
}
