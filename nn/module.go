package nn

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// Param is a named parameter. Names follow PyTorch's state_dict:
// "weight" and "bias" inside a layer, prefixed with the child's index in
// a Sequential ("0.weight", "2.bias", "1.0.weight" when nested).
type Param struct {
	Name string
	Node *ag.Node
}

// Module is a layer or a network of layers.
type Module interface {
	// Forward applies the module to x, recording the graph.
	Forward(x *ag.Node) *ag.Node
	// Params lists the module's parameters, in the same order and with
	// the same names on every call.
	Params() []Param
}

// TrainingSetter is implemented by modules whose behaviour differs between
// training and evaluation (Dropout), and by containers that pass the
// switch on (Sequential).
type TrainingSetter interface{ SetTraining(on bool) }

// SetTraining switches m, and every module inside a Sequential m, to
// training (on) or evaluation mode. Modules that do not implement
// TrainingSetter are left alone.
func SetTraining(m Module, on bool) {
	if t, ok := m.(TrainingSetter); ok {
		t.SetTraining(on)
	}
}

// IsTraining reports whether m is in training mode: what the Training
// method of m reports (Dropout, Sequential), or true, the default mode, for
// a module without one.
func IsTraining(m Module) bool {
	if t, ok := m.(interface{ Training() bool }); ok {
		return t.Training()
	}
	return true
}

// Sequential applies its layers in order: the output of one is the input
// of the next. Its parameters are its layers', each name prefixed with the
// layer's index, as in PyTorch's nn.Sequential.
type Sequential struct {
	Layers []Module
}

// NewSequential returns a Sequential of mods.
func NewSequential(mods ...Module) *Sequential {
	return &Sequential{Layers: slices.Clone(mods)}
}

// Forward applies the layers in order.
//
// A Linear layer followed by a ReLU runs as one fused op (ag.LinearReLU),
// which gives the same values and gradients with one tensor and one pass
// fewer; ForwardTrace, which must show each layer's output, does not fuse.
//
// When no graph is recorded (under ag.NoGrad, or with no parameter that
// requires a gradient), each intermediate output is dead once the next
// layer has read it, and its buffer is recycled (tensor.Recycle) for the
// next batch. A layer inside a Sequential must therefore not keep its
// input.
func (s *Sequential) Forward(x *ag.Node) *ag.Node {
	in := x.Value()
	var prev *ag.Node // the last intermediate output, which the caller never sees
	for i := 0; i < len(s.Layers); i++ {
		var y *ag.Node
		if l, ok := s.Layers[i].(*Linear); ok && i+1 < len(s.Layers) && isReLU(s.Layers[i+1]) {
			y = l.forward(x, ag.LinearReLU)
			i++
		} else {
			y = s.Layers[i].Forward(x)
		}
		// prev is dead once y is computed, unless a layer passed on its
		// input (Dropout in evaluation mode, a reshape): then prev may be,
		// or share a buffer with, y or the caller's input.
		if prev != nil && !prev.RequiresGrad() && !y.RequiresGrad() &&
			!tensor.SameBuffer(prev.Value(), y.Value()) && !tensor.SameBuffer(prev.Value(), in) {
			tensor.Recycle(prev.Value())
		}
		prev, x = y, y
	}
	return x
}

func isReLU(m Module) bool {
	a, ok := m.(*Activation)
	return ok && a.name == "relu"
}

// Params lists the layers' parameters in layer order, named "i.name".
func (s *Sequential) Params() []Param {
	var ps []Param
	for i, m := range s.Layers {
		prefix := strconv.Itoa(i) + "."
		for _, p := range m.Params() {
			ps = append(ps, Param{Name: prefix + p.Name, Node: p.Node})
		}
	}
	return ps
}

// SetTraining switches every layer (recursively) to training or
// evaluation mode.
func (s *Sequential) SetTraining(on bool) {
	for _, m := range s.Layers {
		SetTraining(m, on)
	}
}

// Training reports whether any layer is in training mode (true when no
// layer has a mode: training is the default).
func (s *Sequential) Training() bool {
	for _, m := range s.Layers {
		if _, ok := m.(interface{ Training() bool }); ok && IsTraining(m) {
			return true
		}
	}
	for _, m := range s.Layers {
		if _, ok := m.(interface{ Training() bool }); ok {
			return false
		}
	}
	return true
}

// StateDict maps each parameter's name to its value. The tensors are the
// live parameters, not copies (as in PyTorch): Clone them to keep a
// snapshot across training steps.
func StateDict(m Module) map[string]*tensor.Tensor {
	sd := make(map[string]*tensor.Tensor)
	for _, p := range m.Params() {
		sd[p.Name] = p.Node.Value()
	}
	return sd
}

// LoadStateDict copies the tensors of sd into m's parameters. The keys of
// sd must be exactly m's parameter names, each tensor of the parameter's
// shape and dtype; otherwise it returns an error naming the first
// offending key (parameters in order, then unexpected keys sorted) and
// changes nothing.
func LoadStateDict(m Module, sd map[string]*tensor.Tensor) error {
	ps := m.Params()
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		seen[p.Name] = true
		t, ok := sd[p.Name]
		if !ok || t == nil {
			return fmt.Errorf("nn: LoadStateDict: missing key %q", p.Name)
		}
		want := p.Node.Value()
		if !tensor.EqualShape(t.Shape(), want.Shape()) {
			return fmt.Errorf("nn: LoadStateDict: key %q: shape %v, the parameter is %v", p.Name, t.Shape(), want.Shape())
		}
		if t.DType() != want.DType() {
			return fmt.Errorf("nn: LoadStateDict: key %q: dtype %v, the parameter is %v", p.Name, t.DType(), want.DType())
		}
	}
	var extra []string
	for k := range sd {
		if !seen[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return fmt.Errorf("nn: LoadStateDict: unexpected key %q (the module has no such parameter)", extra[0])
	}
	for _, p := range ps {
		p.Node.Value().CopyFrom(sd[p.Name])
	}
	return nil
}

// NumParams is the number of scalar parameters in m.
func NumParams(m Module) int {
	n := 0
	for _, p := range m.Params() {
		n += p.Node.Value().Len()
	}
	return n
}
