package nn

import "github.com/nabla-go/nabla/ag"

// ForwardTrace applies the layers in order, as Forward does, and returns
// every layer's output: out[i] is the output of s.Layers[i], and the last
// element is Forward's result. It records the same graph as Forward, so a
// caller can mark the outputs with RetainGrad before calling ag.Backward
// on a loss of the last one, and read the gradient that reached each layer.
// With no layers it returns nil.
func (s *Sequential) ForwardTrace(x *ag.Node) []*ag.Node {
	if len(s.Layers) == 0 {
		return nil
	}
	out := make([]*ag.Node, 0, len(s.Layers))
	for _, m := range s.Layers {
		x = m.Forward(x)
		out = append(out, x)
	}
	return out
}
