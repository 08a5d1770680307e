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
// training and evaluation (Dropout). SetTraining reaches every such module
// in a tree.
type TrainingSetter interface{ SetTraining(on bool) }

// Child is a named module inside a container. A wrapper that adds no
// level to parameter names (a recorder around a model) names its one
// child "": the child then has the wrapper's path.
type Child struct {
	Name   string
	Module Module
}

// Container is implemented by modules that hold other modules
// (Sequential): Walk, SetTraining, Buffers and StateDict reach the
// children through it. A container's Params already include its
// children's, prefixed with their names.
type Container interface{ Children() []Child }

// Buffer is a named tensor a module keeps beside its parameters, saved
// and loaded with them but not trained (a BatchNorm's running mean).
type Buffer struct {
	Name  string
	Value *tensor.Tensor
}

// BufferHolder is implemented by modules with buffers. Names are the
// module's own ("running_mean"); Buffers and StateDict prefix them with
// the module's path.
type BufferHolder interface{ Buffers() []Buffer }

// Fuser is implemented by layers that can run fused with the layers after
// them: a Linear followed by a ReLU runs as one ag.LinearReLU, a Conv2d,
// ReLU and MaxPool2d as one ag.Conv2DReLUMaxPool. Fuse is given the layers
// that follow and returns the fused forward function and how many of them
// it took in (0: none; forward is then not used). Sequential's Forward and
// Trace both use it, Trace with each run cut where a layer's output must
// exist to be recorded (after an activation, before a pooling), so the
// traced graph gives the trained one's values and gradients.
type Fuser interface {
	Fuse(next []Module) (forward func(x *ag.Node) *ag.Node, n int)
}

// Walk calls fn for m and every module inside it, parents before
// children, in order, with each module's path: "" for m, "0", "1.2" below
// (the prefixes of PyTorch's state_dict names). An error from fn stops
// the walk and is returned.
func Walk(m Module, fn func(path string, m Module) error) error {
	return walk(m, "", fn)
}

func walk(m Module, path string, fn func(string, Module) error) error {
	if err := fn(path, m); err != nil {
		return err
	}
	if c, ok := m.(Container); ok {
		for _, ch := range c.Children() {
			p := path
			if ch.Name != "" {
				p = joinPath(path, ch.Name)
			}
			if err := walk(ch.Module, p, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetTraining switches every module in m's tree that has a mode
// (TrainingSetter) to training (on) or evaluation.
func SetTraining(m Module, on bool) {
	Walk(m, func(_ string, x Module) error {
		if t, ok := x.(TrainingSetter); ok {
			t.SetTraining(on)
		}
		return nil
	})
}

// IsTraining reports whether m is in training mode: true when any module
// in its tree with a mode (a Training method) is in training mode, or
// when none has a mode (training is the default).
func IsTraining(m Module) bool {
	any, training := false, false
	Walk(m, func(_ string, x Module) error {
		if t, ok := x.(interface{ Training() bool }); ok {
			any = true
			training = training || t.Training()
		}
		return nil
	})
	return training || !any
}

// Buffers lists the buffers of every module in m's tree, named by path
// ("3.running_mean"), in walk order.
func Buffers(m Module) []Buffer {
	var out []Buffer
	Walk(m, func(path string, x Module) error {
		if b, ok := x.(BufferHolder); ok {
			for _, buf := range b.Buffers() {
				out = append(out, Buffer{Name: joinPath(path, buf.Name), Value: buf.Value})
			}
		}
		return nil
	})
	return out
}

// DTypeOf is the dtype of m's first parameter (Float32 for a module with
// none).
func DTypeOf(m Module) tensor.DType {
	if ps := m.Params(); len(ps) > 0 {
		return ps[0].Node.DType()
	}
	return tensor.Float32
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
// A layer that fuses with the next ones (Fuser: a Linear or Conv2d before
// a ReLU, a Conv2d before a ReLU and a MaxPool2d) runs as one op, which
// gives the same values and gradients with fewer tensors and passes;
// Trace records the same fused graph, cut after each activation.
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
		if f, n := s.fused(i, false); n > 0 {
			y = f(x)
			i += n
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

// fused returns the fused forward of layer i and the n layers after it,
// when layer i is a Fuser that takes them in (n > 0). With visible set
// (Trace), a fused run ends at its first activation, or before a pooling
// that comes before any, so that those outputs exist to be recorded.
func (s *Sequential) fused(i int, visible bool) (func(*ag.Node) *ag.Node, int) {
	f, ok := s.Layers[i].(Fuser)
	if !ok {
		return nil, 0
	}
	next := s.Layers[i+1:]
	if visible {
		// End the run at its first activation, or before a pooling that
		// comes first (so that a convolution's own output shows).
		for j, m := range next {
			if _, ok := m.(*Activation); ok {
				next = next[:j+1]
				break
			}
			if _, ok := m.(*Pool2d); ok {
				next = next[:j]
				break
			}
		}
	}
	return f.Fuse(next)
}

// Children lists the layers, named by index.
func (s *Sequential) Children() []Child {
	out := make([]Child, len(s.Layers))
	for i, l := range s.Layers {
		out[i] = Child{Name: strconv.Itoa(i), Module: l}
	}
	return out
}

// Spec describes the Sequential and its layers; a layer that cannot
// describe itself appears with its Go type as kind (Build refuses it).
func (s *Sequential) Spec() Spec {
	sp := Spec{Type: "Sequential"}
	for _, l := range s.Layers {
		if d, ok := l.(Specer); ok {
			sp.Layers = append(sp.Layers, d.Spec())
		} else {
			sp.Layers = append(sp.Layers, Spec{Type: fmt.Sprintf("%T", l)})
		}
	}
	return sp
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

// StateDict maps each parameter's and each buffer's name to its value,
// as PyTorch's state_dict does. The tensors are the live ones, not copies
// (as in PyTorch): Clone them to keep a snapshot across training steps.
func StateDict(m Module) map[string]*tensor.Tensor {
	sd := make(map[string]*tensor.Tensor)
	for _, p := range m.Params() {
		sd[p.Name] = p.Node.Value()
	}
	for _, b := range Buffers(m) {
		sd[b.Name] = b.Value
	}
	return sd
}

// LoadStateDict copies the tensors of sd into m's parameters and buffers.
// The keys of sd must be exactly their names, each tensor of the right
// shape; a tensor of the other float dtype is converted (a float64 file
// loads into a float32 model). Otherwise it returns an error naming the
// first offending key (parameters, then buffers, in order, then unexpected
// keys sorted) and changes nothing.
func LoadStateDict(m Module, sd map[string]*tensor.Tensor) error {
	type slot struct {
		name string
		dst  *tensor.Tensor
	}
	var slots []slot
	for _, p := range m.Params() {
		slots = append(slots, slot{p.Name, p.Node.Value()})
	}
	for _, b := range Buffers(m) {
		slots = append(slots, slot{b.Name, b.Value})
	}
	seen := make(map[string]bool, len(slots))
	for _, sl := range slots {
		seen[sl.name] = true
		t, ok := sd[sl.name]
		if !ok || t == nil {
			return fmt.Errorf("nn: LoadStateDict: missing key %q", sl.name)
		}
		if !tensor.EqualShape(t.Shape(), sl.dst.Shape()) {
			return fmt.Errorf("nn: LoadStateDict: key %q: shape %v, the module's is %v", sl.name, t.Shape(), sl.dst.Shape())
		}
		if dt := t.DType(); dt != tensor.Float32 && dt != tensor.Float64 {
			return fmt.Errorf("nn: LoadStateDict: key %q: dtype %v is not a float dtype", sl.name, dt)
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
		return fmt.Errorf("nn: LoadStateDict: unexpected key %q (the module has no such parameter or buffer)", extra[0])
	}
	for _, sl := range slots {
		src := sd[sl.name]
		if src.DType() != sl.dst.DType() {
			src = src.AsType(sl.dst.DType())
		}
		sl.dst.CopyFrom(src)
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
