package ag

import (
	"fmt"
	"slices"

	"github.com/nabla-go/nabla/internal/freelist"
	"github.com/nabla-go/nabla/tensor"
)

// Option adjusts Backward and Grad.
type Option func(*options)

type options struct {
	upstream    *Node
	createGraph bool
}

// WithUpstream starts backpropagation from g (dL/dy, shaped like y) instead
// of 1, which allows a non-scalar y: the result is then the
// vector-Jacobian product gᵀ·∂y/∂x.
func WithUpstream(g *tensor.Tensor) Option {
	return func(o *options) { o.upstream = Const(g) }
}

// WithUpstreamNode is WithUpstream with a node, which may itself require a
// gradient (as in forward mode through double backward).
func WithUpstreamNode(g *Node) Option { return func(o *options) { o.upstream = g } }

// CreateGraph records the backward pass as a graph, so that the gradients
// can be differentiated again (Hessian-vector products, gradient
// penalties).
func CreateGraph() Option { return func(o *options) { o.createGraph = true } }

// Backward computes the gradient of y with respect to every leaf that
// requires one (and every node marked RetainGrad), adding it to the
// gradient the node already holds. y must have one element unless
// WithUpstream is given. Gradients of values used several times add up.
//
// Without CreateGraph, the gradients of intermediate nodes are recycled
// (tensor.Recycle) as soon as they are provably dead (see run), so a rule
// must not keep the gradient it is given, or the ones it returns, beyond
// its call. Stored gradients, the upstream gradient and the graph's values
// are never recycled here.
func Backward(y *Node, opts ...Option) {
	o := parseOptions("Backward", y, opts)
	if !y.requiresGrad {
		panic(&tensor.OpError{Op: "Backward", Msg: "the value does not depend on anything requiring a gradient (was it computed under NoGrad, or from constants only?)"})
	}
	p := getPass()
	defer p.put()
	order := p.topoOrder(y)
	keep := func(n *Node) bool { return n.retainGrad || (n.inputs == nil && n.requiresGrad) }
	grads := p.run(order, y, o, keep)
	// Stored gradients are recycled by ReleaseGrad, so none may share a
	// buffer with a value of the graph (a rule that returned an input's
	// value, against the VJPFunc contract, would otherwise hand that value
	// over for reuse).
	stored := p.stored[:0]
	if !o.createGraph {
		for _, n := range order {
			stored = append(stored, n.value)
			for _, in := range n.inputs {
				stored = append(stored, in.value)
			}
		}
	}
	p.stored = stored
	for _, n := range order {
		g := grads[n]
		if g == nil || !keep(n) {
			continue
		}
		if !o.createGraph {
			g = owned(g, o.upstream.value, stored)
			stored = append(stored, g.value)
			p.stored = stored
		}
		if n.grad == nil {
			n.grad = g
		} else if o.createGraph {
			n.grad = Add(n.grad, g)
		} else {
			n.grad = Const(tensor.Add(n.grad.value, g.value))
			n.grad.ownsGrad = true
		}
	}
}

// owned returns g, or a contiguous copy of it when its value is a strided
// view (a broadcast gradient of Sum, say) or shares its buffer with the
// upstream gradient, a value of the graph or a gradient already stored:
// rules pass gradients through without copying, and a stored gradient must
// be safe to edit in place and to recycle (optimisers, clipping) and cheap
// to read as a flat slice.
func owned(g *Node, upstream *tensor.Tensor, stored []*tensor.Tensor) *Node {
	v := g.value
	shared := !v.IsContiguous() || tensor.SameBuffer(v, upstream)
	for _, s := range stored {
		shared = shared || tensor.SameBuffer(v, s)
	}
	if !shared {
		g.ownsGrad = true
		return g
	}
	c := Const(v.Clone())
	c.ownsGrad = true
	return c
}

// Grad returns the gradients of y with respect to xs, one per x, without
// touching any node's accumulated gradient (as torch.autograd.grad). An x
// that y does not depend on gets a zero gradient.
func Grad(y *Node, xs []*Node, opts ...Option) []*Node {
	o := parseOptions("Grad", y, opts)
	want := make(map[*Node]bool, len(xs))
	for _, x := range xs {
		want[x] = true
	}
	p := getPass()
	defer p.put()
	grads := p.run(p.topoOrder(y), y, o, func(n *Node) bool { return want[n] })
	out := make([]*Node, len(xs))
	for i, x := range xs {
		if g := grads[x]; g != nil {
			out[i] = g
		} else {
			out[i] = Const(tensor.ZerosLike(x.value))
		}
	}
	return out
}

func parseOptions(op string, y *Node, opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.upstream == nil {
		if y.value.Len() != 1 {
			panic(&tensor.ShapeError{Op: op, Shapes: [][]int{y.Shape()}, Msg: "needs a one-element output, or an upstream gradient (WithUpstream)"})
		}
		o.upstream = Const(tensor.OnesLike(y.value))
	} else if !tensor.EqualShape(o.upstream.Shape(), y.Shape()) {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{y.Shape(), o.upstream.Shape()}, Msg: "upstream gradient shape differs from the output's"})
	} else if o.upstream.DType() != y.DType() {
		panic(&tensor.DTypeError{Op: op, DTypes: []tensor.DType{y.DType(), o.upstream.DType()}})
	}
	return o
}

// topoOrder lists the nodes that y depends on through recorded ops, inputs
// before the nodes computed from them. The walk follows inputs in argument
// order, so the order (and every floating-point sum in backward) is the
// same on every run. The list is p's: valid until p.put.
func (p *pass) topoOrder(y *Node) []*Node {
	return p.walk(y, func(in *Node) bool { return in.requiresGrad })
}

// walk lists root and the inputs (transitively) for which follow is true,
// each node after all of its inputs, depth first in argument order.
func walk(root *Node, follow func(*Node) bool) []*Node {
	return (&pass{seen: map[*Node]bool{}}).walk(root, follow)
}

type frame struct {
	n    *Node
	next int
}

// walk is walk in p's memory: the list is valid until p.put.
func (p *pass) walk(root *Node, follow func(*Node) bool) []*Node {
	order := p.order[:0]
	seen := p.seen
	seen[root] = true
	stack := append(p.stack[:0], frame{n: root})
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next < len(f.n.inputs) {
			in := f.n.inputs[f.next]
			f.next++
			if follow(in) && !seen[in] {
				seen[in] = true
				stack = append(stack, frame{n: in})
			}
			continue
		}
		order = append(order, f.n)
		stack = stack[:len(stack)-1]
	}
	p.order, p.stack = order, stack
	return order
}

// run propagates gradients from y in reverse topological order and returns
// those of the nodes keep selects. Gradients of nodes not kept are dropped
// as soon as they have been passed on.
//
// Without CreateGraph, a dropped gradient's buffer is recycled
// (tensor.Recycle) for the next op that needs one of its size, when it is
// provably dead: no gradient still held (for a node not yet reached, or
// kept) shares it, and it is neither the upstream gradient nor a value of
// the graph (a rule that broke the VJPFunc contract by returning one is
// never given a reason to be wrong here). Rules pass gradients on as views
// without copying, so the engine counts, per buffer, the gradients it
// holds in it. With CreateGraph nothing is recycled: the gradients are
// values of the new graph.
func (p *pass) run(order []*Node, y *Node, o options, keep func(*Node) bool) map[*Node]*Node {
	grads := p.grads
	grads[y] = o.upstream
	if !o.createGraph {
		grads[y] = Detach(o.upstream)
	}
	var rc *recycler
	if !o.createGraph {
		rc = &p.rc
		rc.init(order, o.upstream.value)
		rc.hold(grads[y])
	}
	// Without CreateGraph the rules see detached inputs and a constant
	// upstream gradient, so the ops they call record nothing: plain kernels.
	// The detached copies live in p.det, reused from node to node (nothing
	// records them); a rule that hands one back as a gradient, against its
	// contract, gets a node of its own instead (see own).
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		g := grads[n]
		if g == nil || n.vjp == nil {
			continue
		}
		kept := keep(n)
		if !kept {
			delete(grads, n)
		}
		in, out := n.inputs, n
		if !o.createGraph {
			in, out = p.detach(n)
		}
		need := p.need[:0]
		for _, x := range n.inputs {
			need = append(need, x.requiresGrad)
		}
		p.need = need
		gs := n.vjp(g, in, out, need)
		if len(gs) != len(in) {
			panic(&tensor.OpError{Op: n.op + " (VJP)", Msg: fmt.Sprintf("returned %d gradients for %d inputs", len(gs), len(in))})
		}
		for j, x := range n.inputs {
			gx := gs[j]
			if gx == nil || !x.requiresGrad {
				continue
			}
			if !o.createGraph {
				gx = p.own(gx)
			}
			if !tensor.EqualShape(gx.Shape(), x.Shape()) {
				panic(&tensor.ShapeError{Op: n.op + " (VJP)", Shapes: [][]int{x.Shape(), gx.Shape()},
					Msg: fmt.Sprintf("gradient for input %d does not match the input's shape", j)})
			}
			if prev := grads[x]; prev != nil {
				sum := Add(prev, gx)
				grads[x] = sum
				if rc != nil {
					rc.hold(sum)
					rc.drop(prev)
					rc.maybe(gx) // a new result, or a view of g or of another gradient
				}
			} else {
				grads[x] = gx
				rc.hold(gx)
			}
		}
		if rc != nil {
			if !kept {
				rc.drop(g)
			}
			rc.recycle()
		}
	}
	return grads
}

// detach returns constant copies of n's inputs and of n, in p's memory
// (valid until the next call).
func (p *pass) detach(n *Node) (in []*Node, out *Node) {
	k := len(n.inputs)
	if cap(p.det) < k+1 {
		p.det = make([]Node, k+1)
	}
	det := p.det[:k+1]
	in = p.in[:0]
	for j, x := range n.inputs {
		det[j] = Node{value: x.value, name: x.name}
		in = append(in, &det[j])
	}
	det[k] = Node{value: n.value, name: n.name}
	p.in = in
	return in, &det[k]
}

// own returns g, or a node of its own for it when g is one of the
// detached copies in p.det (which the next node overwrites).
func (p *pass) own(g *Node) *Node {
	for i := range p.det {
		if g == &p.det[i] {
			return &Node{value: g.value, name: g.name}
		}
	}
	return g
}

// recycler tracks, during one backward pass without CreateGraph, how many
// held gradients use each buffer, and recycles the buffers that no held
// gradient and no value of the graph uses.
type recycler struct {
	held      map[any]int      // buffer → gradients held in it
	protected map[any]struct{} // the graph's values and the upstream gradient
	dead      []*tensor.Tensor // candidates, checked by recycle
}

// init starts tracking a pass over order from upstream (with empty maps).
func (r *recycler) init(order []*Node, upstream *tensor.Tensor) {
	r.protect(upstream)
	for _, n := range order {
		r.protect(n.value)
		for _, in := range n.inputs {
			r.protect(in.value)
		}
	}
}
func (r *recycler) protect(t *tensor.Tensor) {
	if k := tensor.BufferKey(t); k != nil {
		r.protected[k] = struct{}{}
	}
}

// hold counts g as held in its buffer. A nil recycler does nothing.
func (r *recycler) hold(g *Node) {
	if r == nil {
		return
	}
	if k := tensor.BufferKey(g.value); k != nil {
		r.held[k]++
	}
}

// drop counts g as no longer held, and makes it a candidate.
func (r *recycler) drop(g *Node) {
	if k := tensor.BufferKey(g.value); k != nil {
		if r.held[k]--; r.held[k] <= 0 {
			delete(r.held, k)
		}
	}
	r.maybe(g)
}

// maybe makes g's buffer a candidate for recycling.
func (r *recycler) maybe(g *Node) { r.dead = append(r.dead, g.value) }

// recycle hands back the candidates' buffers that nothing holds, each
// once (two candidates may share one: g and a view of it).
func (r *recycler) recycle() {
	var done [4]any
	gone := done[:0]
	for i, t := range r.dead {
		r.dead[i] = nil
		k := tensor.BufferKey(t)
		if k == nil || r.held[k] > 0 || slices.Contains(gone, k) {
			continue
		}
		if _, ok := r.protected[k]; ok {
			continue
		}
		if tensor.Recycle(t); tensor.BufferKey(t) == nil {
			gone = append(gone, k)
		}
	}
	r.dead = r.dead[:0]
}

// pass is the scratch memory of one Backward, Grad or Release call: maps
// and slices that keep their capacity from call to call (in passes), so
// that the bookkeeping of a training step allocates nothing once warm.
// Nested calls (a rule that differentiates) each take their own.
type pass struct {
	seen   map[*Node]bool
	stack  []frame
	order  []*Node
	grads  map[*Node]*Node
	rc     recycler
	in     []*Node
	need   []bool
	det    []Node // detached copies of one node and its inputs
	stored []*tensor.Tensor
	inner  []*Node      // Release
	done   map[any]bool // Release
}

var passes freelist.List[*pass]

func getPass() *pass {
	if p, ok := passes.Get(); ok {
		return p
	}
	return &pass{
		seen: map[*Node]bool{}, grads: map[*Node]*Node{}, done: map[any]bool{},
		rc: recycler{held: map[any]int{}, protected: map[any]struct{}{}},
	}
}

// put empties p, so that the pool pins no graph, and hands it back.
func (p *pass) put() {
	clear(p.seen)
	clear(p.grads)
	clear(p.done)
	clear(p.rc.held)
	clear(p.rc.protected)
	p.rc.dead = clearSlice(p.rc.dead)
	p.stack = clearSlice(p.stack)
	p.order = clearSlice(p.order)
	p.in = clearSlice(p.in)
	p.inner = clearSlice(p.inner)
	p.stored = clearSlice(p.stored)
	clear(p.det[:cap(p.det)])
	passes.Put(p)
}

// clearSlice zeroes s up to its capacity (dropping what it points to) and
// returns it empty.
func clearSlice[S ~[]E, E any](s S) S {
	clear(s[:cap(s)])
	return s[:0]
}
