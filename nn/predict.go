package nn

import (
	"slices"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// Predictor evaluates a model for inference, the serving path: the values
// of the model's Forward, with no graph, written into buffers the
// Predictor keeps from call to call.
//
// The layers it runs itself allocate nothing once warm: Linear (with a
// ReLU after it fused into the product), the activations (in place),
// Flatten (a view), Dropout in evaluation mode (nothing to do), and the
// Sequentials holding them. So a prediction of an MLP allocates nothing,
// at batch 1 as at batch 1000: no garbage for the collector to chase in a
// server, and no page faults from fresh buffers. Any other layer
// (convolutions, pooling, normalisation, Dropout in training mode, a
// user's module) runs with its neighbours through an ordinary
// Sequential.Forward on an untracked input, fused as Forward fuses it: the
// same values, with that forward's allocations.
//
// The first call for an input shape (and dtype) sets up the buffers for
// it; a later call with another shape sets them up again. The tensor
// Predict returns belongs to the Predictor and is overwritten by the next
// call: Clone it to keep it.
//
// A Predictor is for one goroutine at a time (give each its own; they may
// share the model). It reads the model's parameters and modes at every
// call, so the model may be trained or loaded between calls, but not
// during one, and its layers must not be changed once the Predictor is
// made.
type Predictor struct {
	model Module
	dt    tensor.DType
	shape []int // the input shape the steps are set up for
	steps []func(x *tensor.Tensor) *tensor.Tensor
}

// NewPredictor returns a Predictor for m.
func NewPredictor(m Module) *Predictor { return &Predictor{model: m} }

// Predict returns the model's output for x, as Forward computes it with no
// graph (bit for bit). Bad input panics as Forward does, with a
// *tensor.ShapeError or *tensor.DTypeError naming the layer.
func (p *Predictor) Predict(x *tensor.Tensor) *tensor.Tensor {
	if p.steps == nil || x.DType() != p.dt || !tensor.EqualShape(x.Shape(), p.shape) {
		p.setup(x)
	}
	for _, step := range p.steps {
		x = step(x)
	}
	return x
}

// setup compiles the steps for inputs of x's shape and dtype. Each step
// makes its buffer on its first call, from the shape it is given (the
// same at every call until the next setup).
func (p *Predictor) setup(x *tensor.Tensor) {
	p.dt, p.shape, p.steps = x.DType(), slices.Clone(x.Shape()), nil
	p.compile([]Module{p.model}, false)
}

// compile appends the steps of one level of layers (a Sequential's, or
// the model alone) and reports whether the value they leave is a buffer
// of the Predictor's (owned: it may be written in place). Layers fuse
// within their level only, as in Sequential.Forward; a nested Sequential
// is compiled as a level of its own.
func (p *Predictor) compile(layers []Module, owned bool) bool {
	for i := 0; i < len(layers); i++ {
		switch l := layers[i].(type) {
		case *Sequential:
			owned = p.compile(l.Layers, owned)
			continue
		case *Linear:
			relu := isReLU(layers, i+1)
			p.steps = append(p.steps, linearStep(l, relu))
			if relu {
				i++
			}
			owned = true
			continue
		case *Activation:
			if l.into == nil {
				break
			}
			p.steps = append(p.steps, activationStep(l, owned))
			owned = true
			continue
		case *Flatten:
			p.steps = append(p.steps, flattenStep(l))
			continue
		case *Dropout:
			p.steps = append(p.steps, func(x *tensor.Tensor) *tensor.Tensor {
				if l.training && l.P != 0 {
					return l.Forward(ag.Untracked(x)).Value()
				}
				return x
			})
			continue
		}
		// Any other layer: it and the layers of its level after it up to
		// the next one the Predictor runs itself, through
		// Sequential.Forward (which fuses them, in the mode they are in at
		// each call).
		j := i + 1
		for j < len(layers) && !predictorRuns(layers[j]) {
			j++
		}
		p.steps = append(p.steps, segmentStep(&Sequential{Layers: layers[i:j]}))
		owned = false
		i = j - 1
	}
	return owned
}

// predictorRuns reports whether the Predictor runs l itself (and so ends a
// segment run through Sequential.Forward). Activations are not counted:
// one after a convolution or a normalisation stays with it, to be fused.
func predictorRuns(l Module) bool {
	switch l.(type) {
	case *Linear, *Flatten, *Dropout, *Sequential:
		return true
	}
	return false
}

// segmentStep runs seg through Sequential.Forward on an untracked input.
// Its output of the call before is dead by the contract of Predict (the
// next step has read it; if it was Predict's result, that is overwritten
// by this call), so its buffer is recycled for this call's layers instead
// of taking fresh memory each time, unless it shares a buffer with this
// call's input or that call's input (a layer that passed its input on).
func segmentStep(seg *Sequential) func(x *tensor.Tensor) *tensor.Tensor {
	var prevOut, prevIn *tensor.Tensor
	return func(x *tensor.Tensor) *tensor.Tensor {
		if prevOut != nil && !tensor.SameBuffer(prevOut, x) && !tensor.SameBuffer(prevOut, prevIn) {
			tensor.Recycle(prevOut)
		}
		y := seg.Forward(ag.Untracked(x)).Value()
		prevOut, prevIn = y, x
		return y
	}
}

// linearStep is l (and a ReLU after it, with relu) into its own buffer.
func linearStep(l *Linear, relu bool) func(x *tensor.Tensor) *tensor.Tensor {
	var out *tensor.Tensor
	return func(x *tensor.Tensor) *tensor.Tensor {
		if out == nil {
			sh := x.Shape()
			if len(sh) == 0 || sh[len(sh)-1] != l.In || x.DType() != l.Weight.DType() {
				return l.Forward(ag.Untracked(x)).Value() // panics with Linear's message
			}
			out = tensor.New(x.DType(), append(slices.Clone(sh[:len(sh)-1]), l.Out)...)
		}
		if tensor.SameBuffer(out, x) { // a prediction fed back in: h = p.Predict(h)
			x = x.Clone()
		}
		var b *tensor.Tensor
		if l.Bias != nil {
			b = l.Bias.Value()
		}
		return tensor.LinearInto(out, x, l.Weight.Value(), b, relu)
	}
}

// activationStep is a in place (when the input is the Predictor's own,
// inPlace) or into a buffer of its own.
func activationStep(a *Activation, inPlace bool) func(x *tensor.Tensor) *tensor.Tensor {
	if inPlace {
		return func(x *tensor.Tensor) *tensor.Tensor { return a.into(x, x) }
	}
	var out *tensor.Tensor
	return func(x *tensor.Tensor) *tensor.Tensor {
		if out == nil {
			out = tensor.New(x.DType(), x.Shape()...)
		}
		return a.into(out, x)
	}
}

// flattenStep views its input flattened: a view made on the first call
// and pointed at each later input (tensor.ReshapeInto), or a copy of an
// input that is not contiguous.
func flattenStep(f *Flatten) func(x *tensor.Tensor) *tensor.Tensor {
	var view *tensor.Tensor
	noop := false // flattening the input's shape changes nothing
	return func(x *tensor.Tensor) *tensor.Tensor {
		switch {
		case noop:
			return x
		case view != nil && x.IsContiguous():
			return tensor.ReshapeInto(view, x)
		}
		v := f.Forward(ag.Untracked(x)).Value() // its shape checks and messages
		noop = v == x
		if x.IsContiguous() && !noop {
			view = v
		}
		return v
	}
}
