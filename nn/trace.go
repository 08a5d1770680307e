package nn

import (
	"strconv"

	"github.com/nabla-go/nabla/ag"
)

// Traced is one layer's output in a traced forward pass.
type Traced struct {
	Path   string // the layer's path in the module tree ("3", "1.0")
	Module Module
	// Out is the layer's output; nil for a layer fused into the next one
	// (a Linear before a ReLU): its output never exists as a tensor, and
	// the last layer of the fused run has the fused result.
	Out *ag.Node
	// FusedInto is true for such a layer.
	FusedInto bool
}

// Trace applies m to x as Forward does, recording the same graph (fused
// layers stay fused, except that a fused run ends at its first
// activation, whose output is recorded, or before a pooling that comes
// before any: a Conv2d, ReLU and MaxPool2d run as ag.Conv2DReLU then
// ag.MaxPool2D, a Conv2d and MaxPool2d as ag.Conv2D then ag.MaxPool2D,
// with the same values and gradients as the one fused op of Forward), and
// returns the output and every leaf layer's
// output, in order, with its path. Sequentials are traced through, at any
// depth; any other module is one leaf. A caller can mark the outputs with
// RetainGrad before calling ag.Backward on a loss of the result, and read
// the gradient that reached each layer.
func Trace(m Module, x *ag.Node) (*ag.Node, []Traced) {
	var out []Traced
	y := trace(m, x, "", &out)
	return y, out
}

func trace(m Module, x *ag.Node, path string, out *[]Traced) *ag.Node {
	s, ok := m.(*Sequential)
	if !ok {
		y := m.Forward(x)
		*out = append(*out, Traced{Path: path, Module: m, Out: y})
		return y
	}
	for i := 0; i < len(s.Layers); i++ {
		if f, n := s.fused(i, true); n > 0 {
			y := f(x)
			for j := i; j < i+n; j++ {
				*out = append(*out, Traced{Path: joinPath(path, strconv.Itoa(j)), Module: s.Layers[j], FusedInto: true})
			}
			*out = append(*out, Traced{Path: joinPath(path, strconv.Itoa(i+n)), Module: s.Layers[i+n], Out: y})
			x = y
			i += n
			continue
		}
		x = trace(s.Layers[i], x, joinPath(path, strconv.Itoa(i)), out)
	}
	return x
}
