package nn

import (
	"errors"
	"fmt"
	"slices"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// maxDim bounds a layer size in a spec: larger sizes are refused before
// anything is allocated.
const maxDim = 1 << 31

// The built-in layer kinds. Each is registered with Register, as a
// user-defined kind would be.
func init() {
	mustRegister(Kind{
		Name: "Sequential", Text: "seq", Container: true,
		Doc: "applies its layers in order",
		Build: func(s Spec, b *Builder) (Module, error) {
			mods := make([]Module, len(s.Layers))
			for i, l := range s.Layers {
				m, err := b.Layer(fmt.Sprint(i), l)
				if err != nil {
					return nil, err
				}
				mods[i] = m
			}
			return NewSequential(mods...), nil
		},
	})
	mustRegister(Kind{
		Name: "Linear",
		Doc:  "fully connected: x·Wᵀ + b over the last dimension",
		Settings: []Setting{
			{Name: "in", Type: Int, Min: 1, Max: maxDim, Inferred: true, Doc: "input features (the last dimension of the input)"},
			{Name: "out", Type: Int, Min: 1, Max: maxDim, Doc: "output features"},
			{Name: "bias", Type: Bool, Default: true, Doc: "add a learnt bias"},
			{Name: "init", Type: String, Default: "default", Choices: initSchemes, Doc: "weight initialisation scheme"},
		},
		Shape: func(s *Spec, in []int) ([]int, error) {
			if len(in) == 0 {
				return nil, errors.New("a Linear layer needs at least one input dimension")
			}
			last := in[len(in)-1]
			if n, ok := s.Settings["in"]; ok && n.(int) != last {
				return nil, &SpecError{Type: "Linear", Setting: "in", Msg: fmt.Sprintf("%d, but the input has %d features (shape %v)", n, last, in)}
			}
			s.Settings["in"] = last
			return append(slices.Clone(in[:len(in)-1]), s.Int("out")), nil
		},
		Size: func(s Spec) (int64, error) {
			n := int64(s.Int("in"))*int64(s.Int("out")) + int64(s.Int("out"))*b2i(s.Bool("bias"))
			return n, nil
		},
		Build: func(s Spec, b *Builder) (Module, error) {
			l := newLinear(s.Int("in"), s.Int("out"), s.Bool("bias"), b.DType)
			l.init = s.Str("init")
			var bias *tensor.Tensor
			if l.Bias != nil {
				bias = l.Bias.Value()
			}
			if err := Init(l.Weight.Value(), bias, l.init, b.RNG); err != nil {
				return nil, err
			}
			return l, nil
		},
	})
	for _, a := range activations {
		act := a.make()
		if act.name == "gelu-tanh" {
			continue // GELU with approximate="tanh"
		}
		kind := Kind{Name: act.title, Doc: "the " + act.name + " activation, element-wise"}
		switch act.name {
		case "leaky-relu":
			kind.Settings = []Setting{{Name: "negative_slope", Type: Float, Default: ag.DefaultLeakySlope, Doc: "slope for x < 0"}}
		case "elu":
			kind.Settings = []Setting{{Name: "alpha", Type: Float, Default: 1.0, Doc: "α in α·(eˣ−1) for x < 0"}}
		case "gelu":
			kind.Settings = []Setting{{Name: "approximate", Type: String, Default: "none", Choices: []string{"none", "tanh"}, Doc: "none: exact x·Φ(x); tanh: the tanh approximation"}}
		}
		name := act.name
		kind.Build = func(s Spec, _ *Builder) (Module, error) {
			switch name {
			case "leaky-relu":
				return LeakyReLU(s.Float("negative_slope")), nil
			case "elu":
				return ELU(s.Float("alpha")), nil
			case "gelu":
				if s.Str("approximate") == "tanh" {
					return GELUTanh(), nil
				}
				return GELU(), nil
			}
			m, err := ActivationByName(name)
			return m, err
		}
		mustRegister(kind)
	}
	mustRegister(Kind{
		Name: "Dropout",
		Doc:  "zeroes each element with probability p in training, scaling the rest by 1/(1−p)",
		Settings: []Setting{
			{Name: "p", Type: Float, Default: 0.5, Min: 0, Max: 1, MaxOpen: true, Doc: "probability of zeroing an element"},
		},
		Build: func(s Spec, b *Builder) (Module, error) {
			return NewDropout(s.Float("p"), b.RNG), nil
		},
	})
	mustRegister(Kind{
		Name: "Flatten",
		Doc:  "merges dimensions start_dim…end_dim of the input (counting the batch as 0) into one",
		Settings: []Setting{
			{Name: "start_dim", Type: Int, Default: 1, Min: -64, Max: 64, Doc: "first dimension to merge (0 is the batch)"},
			{Name: "end_dim", Type: Int, Default: -1, Min: -64, Max: 64, Doc: "last dimension to merge"},
		},
		Shape: func(s *Spec, in []int) ([]int, error) {
			full := append([]int{1}, in...)
			lo, hi, err := flattenRange(s.Int("start_dim"), s.Int("end_dim"), len(full))
			if err != nil {
				return nil, err
			}
			if lo == 0 {
				return nil, errors.New("flattening the batch dimension (start_dim 0) is not supported in a model")
			}
			return flattenShape(full, lo, hi)[1:], nil
		},
		Build: func(s Spec, _ *Builder) (Module, error) {
			return NewFlatten(s.Int("start_dim"), s.Int("end_dim")), nil
		},
	})
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Flatten merges a range of dimensions into one, as PyTorch's nn.Flatten:
// by default every dimension after the batch, so that [B, C, H, W]
// becomes [B, C·H·W]. It is a view: no data is copied.
type Flatten struct {
	StartDim, EndDim int
}

// NewFlatten returns a Flatten over dimensions start…end (negative values
// count from the end, as in PyTorch).
func NewFlatten(start, end int) *Flatten { return &Flatten{StartDim: start, EndDim: end} }

func flattenRange(start, end, dims int) (int, int, error) {
	lo, hi := start, end
	if lo < 0 {
		lo += dims
	}
	if hi < 0 {
		hi += dims
	}
	if lo < 0 || lo >= dims || hi < 0 || hi >= dims || lo > hi {
		return 0, 0, fmt.Errorf("dimensions %d…%d do not fit an input of %d dimensions (batch included)", start, end, dims)
	}
	return lo, hi, nil
}

func flattenShape(sh []int, lo, hi int) []int {
	n := 1
	for _, d := range sh[lo : hi+1] {
		n *= d
	}
	out := slices.Clone(sh[:lo])
	out = append(out, n)
	return append(out, sh[hi+1:]...)
}

// Forward reshapes x; an input with too few dimensions panics with a
// *tensor.ShapeError naming "Flatten".
func (f *Flatten) Forward(x *ag.Node) *ag.Node {
	sh := x.Shape()
	lo, hi, err := flattenRange(f.StartDim, f.EndDim, len(sh))
	if err != nil {
		panic(&tensor.ShapeError{Op: "Flatten", Shapes: [][]int{sh}, Msg: err.Error()})
	}
	if lo == hi {
		return x
	}
	return ag.Reshape(x, flattenShape(sh, lo, hi)...)
}

// Params is empty.
func (f *Flatten) Params() []Param { return nil }

// Spec describes the layer: {"type":"Flatten","start_dim":…,"end_dim":…}.
func (f *Flatten) Spec() Spec { return L("Flatten", "start_dim", f.StartDim, "end_dim", f.EndDim) }

func (f *Flatten) String() string {
	return fmt.Sprintf("Flatten(start_dim=%d, end_dim=%d)", f.StartDim, f.EndDim)
}

// MLPSpec returns the spec of the multilayer perceptron cfg describes:
// Linear, activation, [Dropout], …, Linear, as NewMLP builds it. With
// Flatten set, a Flatten layer comes first (for image inputs), which
// shifts every layer's index by one.
func MLPSpec(cfg MLPConfig) (Spec, error) {
	act := cfg.Activation
	if act == "" {
		act = "relu"
	}
	actSpec, err := ActivationSpec(act)
	if err != nil {
		return Spec{}, err
	}
	scheme := cfg.Init
	if scheme == "" {
		scheme = "default"
	}
	if err := checkScheme(scheme); err != nil {
		return Spec{}, err
	}
	if !(cfg.Dropout >= 0 && cfg.Dropout < 1) {
		return Spec{}, fmt.Errorf("nn: MLP: dropout probability %v is not in [0, 1)", cfg.Dropout)
	}
	if cfg.In < 1 || cfg.Out < 1 || int64(cfg.In) > maxDim || int64(cfg.Out) > maxDim {
		return Spec{}, fmt.Errorf("nn: MLP: input and output sizes must be in [1, 2³¹], got in=%d out=%d", cfg.In, cfg.Out)
	}
	var layers []Spec
	if cfg.Flatten {
		layers = append(layers, L("Flatten"))
	}
	sizes := append(append([]int{cfg.In}, cfg.Hidden...), cfg.Out)
	for i := range len(sizes) - 1 {
		if sizes[i+1] < 1 || int64(sizes[i+1]) > maxDim {
			return Spec{}, fmt.Errorf("nn: MLP: hidden layer %d has width %d; widths must be in [1, 2³¹]", i, sizes[i+1])
		}
		layers = append(layers, L("Linear", "in", sizes[i], "out", sizes[i+1], "bias", true, "init", scheme))
		if i == len(sizes)-2 {
			break
		}
		layers = append(layers, actSpec)
		if cfg.Dropout > 0 {
			layers = append(layers, L("Dropout", "p", cfg.Dropout))
		}
	}
	s, _, err := Resolve(Seq(layers...), nil)
	return s, err
}
