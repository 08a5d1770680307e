package ag

import (
	"fmt"
	"sync/atomic"

	"github.com/nabla-go/nabla/tensor"
)

// Node is a value in a computation graph: a tensor, and, when it was
// computed from values that need gradients, the op that made it and that
// op's vector-Jacobian product.
type Node struct {
	value        *tensor.Tensor
	grad         *Node
	requiresGrad bool
	retainGrad   bool
	op           string  // "" for a leaf
	inputs       []*Node // in argument order; nil for a leaf
	vjp          VJPFunc
	name         string
	ownsGrad     bool // a gradient stored by Backward that owns its buffer (see ReleaseGrad)
	untracked    bool // computed from an Untracked input: never recorded
}

// VJPFunc is an op's vector-Jacobian product rule. Given the upstream gradient g
// (dL/d out, shaped like out), the op's inputs in and its output out, it
// returns one gradient per input, shaped like that input: gᵀ·∂out/∂in[i].
// need[i] says whether input i's gradient is wanted; a rule may return nil
// for the others, and must for inputs that have no gradient (an integer
// index, a mask).
//
// A rule returns new tensors or views of g; never an input's or the
// output's value itself (return a copy), since stored gradients are
// recycled (see Node.ReleaseGrad).
//
// A rule is written with this package's ops, so that the gradient can
// itself be differentiated (see CreateGraph). When no graph of the gradient
// is wanted, the engine passes detached inputs, and the same rule runs as
// plain tensor kernels.
type VJPFunc func(g *Node, in []*Node, out *Node, need []bool) []*Node

// Var returns a leaf that requires a gradient: a parameter or an input to
// differentiate with respect to.
func Var(t *tensor.Tensor) *Node { return &Node{value: t, requiresGrad: true} }

// Const returns a leaf that needs no gradient: data, labels, masks.
func Const(t *tensor.Tensor) *Node { return &Node{value: t} }

// Scalar returns a constant scalar of dtype dt.
func Scalar(dt tensor.DType, v float64) *Node { return Const(tensor.Scalar(dt, v)) }

// Untracked returns a constant input whose results are never recorded:
// every op that reads it, directly or through other untracked results,
// computes its value only, even when its other inputs are parameters that
// require gradients. It is inference mode carried by the data rather than
// by a switch, so one goroutine may evaluate a model this way while
// another trains it (see NoGrad, which is process-wide).
func Untracked(t *tensor.Tensor) *Node { return &Node{value: t, untracked: true} }

// IsUntracked reports whether n is, or was computed from, an Untracked
// input.
func (n *Node) IsUntracked() bool { return n.untracked }

// Detach returns a constant leaf sharing x's value: gradients stop there.
func Detach(x *Node) *Node { return &Node{value: x.value, name: x.name} }

// Value is the node's tensor. Treat it as read-only while the graph that
// uses it may still be differentiated.
func (n *Node) Value() *tensor.Tensor { return n.value }

// Grad is the gradient accumulated by Backward, or nil before any.
func (n *Node) Grad() *tensor.Tensor {
	if n.grad == nil {
		return nil
	}
	return n.grad.value
}

// GradNode is the accumulated gradient as a node, which is itself part of
// a graph when Backward was called with CreateGraph.
func (n *Node) GradNode() *Node { return n.grad }

// ZeroGrad forgets the accumulated gradient.
func (n *Node) ZeroGrad() { n.grad = nil }

// ReleaseGrad is ZeroGrad that also hands the gradient's buffer to
// tensor.Recycle, so that the next backward pass reuses it instead of
// allocating: what optimisers do between steps. The gradient tensor (from
// Grad) must not be used afterwards. A gradient that is part of a recorded
// graph (Backward with CreateGraph), or one set with SetGrad, is only
// forgotten, never recycled: only the buffers Backward made for the
// gradients it stored are.
func (n *Node) ReleaseGrad() {
	if g := n.grad; g != nil && g.ownsGrad {
		tensor.Recycle(g.value)
	}
	n.grad = nil
}

// SetGrad replaces the accumulated gradient (nil clears it), for
// optimisers and gradient clipping that edit gradients in place.
func (n *Node) SetGrad(g *tensor.Tensor) {
	if g == nil {
		n.grad = nil
		return
	}
	if !tensor.EqualShape(g.Shape(), n.value.Shape()) {
		panic(&tensor.ShapeError{Op: "SetGrad", Shapes: [][]int{n.value.Shape(), g.Shape()}, Msg: "gradient shape differs from the value's"})
	}
	n.grad = Const(g)
}

// RequiresGrad reports whether gradients flow back through this node.
func (n *Node) RequiresGrad() bool { return n.requiresGrad }

// RetainGrad asks Backward to keep this intermediate node's gradient too
// (leaves keep theirs always), for inspecting gradient flow. It returns n.
func (n *Node) RetainGrad() *Node { n.retainGrad = true; return n }

// Op is the name of the op that computed the node, or "" for a leaf.
func (n *Node) Op() string { return n.op }

// Inputs are the nodes the op read, in argument order (nil for a leaf).
func (n *Node) Inputs() []*Node { return n.inputs }

// Name is the label set by SetName, used when drawing graphs.
func (n *Node) Name() string { return n.name }

// SetName labels the node and returns it.
func (n *Node) SetName(s string) *Node { n.name = s; return n }

// Shape is the value's shape.
func (n *Node) Shape() []int { return n.value.Shape() }

// DType is the value's dtype.
func (n *Node) DType() tensor.DType { return n.value.DType() }

// Item is the value of a one-element node.
func (n *Node) Item() float64 { return n.value.Item() }

func (n *Node) String() string {
	op := n.op
	if op == "" {
		op = "leaf"
	}
	return fmt.Sprintf("%s%v", op, n.value.Shape())
}

var noGrad atomic.Int64

// NoGrad runs f with graph recording switched off: ops compute values only,
// as in inference. Recording is off for every goroutine while f runs (Go
// has no goroutine-local state), so a training step on another goroutine
// would lose its graph: don't train concurrently with a NoGrad call. For
// inference that may run beside training, feed the model an Untracked
// input instead (as train.Evaluate does).
func NoGrad(f func()) {
	noGrad.Add(1)
	defer noGrad.Add(-1)
	f()
}

// Recording reports whether ops currently record graphs (false inside
// NoGrad).
func Recording() bool { return noGrad.Load() == 0 }

// Apply is how every op, built-in or user-defined, enters the graph: value
// is the op's result, computed by the caller from the inputs' values, and
// vjp its vector-Jacobian product. The node records the op only when some
// input requires a gradient, no input is Untracked, and recording is on;
// otherwise it is a constant.
func Apply(op string, value *tensor.Tensor, vjp VJPFunc, inputs ...*Node) *Node {
	n := &Node{value: value, op: op}
	untracked, record := recordingOf(inputs)
	if untracked {
		n.untracked = true
	} else if record {
		n.requiresGrad, n.inputs, n.vjp = true, inputs, vjp
	}
	return n
}

// willRecord reports whether Apply would record an op on inputs: for
// primitives that keep something for their VJP (max pooling's indices)
// only when it will be used.
func willRecord(inputs []*Node) bool {
	_, record := recordingOf(inputs)
	return record
}

// recordingOf says what Apply makes of an op on inputs: untracked when an
// input is Untracked; else recorded when recording is on and an input
// requires a gradient.
func recordingOf(inputs []*Node) (untracked, record bool) {
	grad := false
	for _, in := range inputs {
		if in.untracked {
			return true, false
		}
		grad = grad || in.requiresGrad
	}
	return false, grad && Recording()
}
