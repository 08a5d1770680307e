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
	// the next layer's Out is the fused result.
	Out *ag.Node
	// FusedInto is true for such a layer.
	FusedInto bool
}

// Trace applies m to x as Forward does, recording the same graph (fused
// layers stay fused), and returns the output and every leaf layer's
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
		if f, ok := s.fused(i); ok {
			y := f(x)
			*out = append(*out,
				Traced{Path: joinPath(path, strconv.Itoa(i)), Module: s.Layers[i], FusedInto: true},
				Traced{Path: joinPath(path, strconv.Itoa(i+1)), Module: s.Layers[i+1], Out: y})
			x = y
			i++
			continue
		}
		x = trace(s.Layers[i], x, joinPath(path, strconv.Itoa(i)), out)
	}
	return x
}
