package ag

import "github.com/nabla-go/nabla/tensor"

// Release hands the buffers of the intermediate values of root's graph
// back for reuse (tensor.Recycle), for a training loop that is done with
// a step: the values of every recorded op reachable from root, root's own
// included (the forward activations, which the ops of the next step then
// take instead of fresh memory: without it a step of a 784-512-256-10 MLP
// at batch 128 allocates about half a megabyte).
//
// Leaves keep their values: parameters, constants and inputs, and the
// results of ops that recorded nothing (NoGrad, no input requiring a
// gradient), as do intermediate values that share a buffer with a leaf (a
// Reshape of an input, a transpose of a weight). Every other released
// node is cut from the graph and loses its value: reading it through the
// node or backpropagating through it afterwards panics rather than reading
// a later step's numbers. A *tensor.Tensor taken from such a node before
// Release must not be used after it either (its buffer may already hold
// another op's values). So call Release only once nothing reads those
// values any more: after the optimiser's step, with metrics taken from the outputs
// first and anything kept copied (gradients stored in parameters are
// their own buffers and are not touched). A graph of the gradients built
// by Backward with CreateGraph reads these values too: release the step
// only once that graph is done with.
func Release(root *Node) {
	if root == nil {
		return
	}
	p := getPass()
	defer p.put()
	// The inner nodes of the graph, and the buffers of its leaves.
	seen, protected, inner := p.seen, p.rc.protected, p.inner[:0]
	seen[root] = true
	stack := append(p.order[:0], root)
	defer func() { p.order, p.inner = stack, inner }()
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.inputs == nil {
			if n.value != nil {
				if k := tensor.BufferKey(n.value); k != nil {
					protected[k] = struct{}{}
				}
			}
			continue
		}
		inner = append(inner, n)
		for _, in := range n.inputs {
			if !seen[in] {
				seen[in] = true
				stack = append(stack, in)
			}
		}
	}
	done := p.done
	for _, n := range inner {
		n.inputs, n.vjp = nil, nil
		v := n.value
		if v == nil {
			continue
		}
		k := tensor.BufferKey(v)
		if _, ok := protected[k]; k != nil && ok {
			continue // a view of a leaf: still valid
		}
		n.value = nil
		// The first view that covers the whole buffer recycles it (and
		// empties itself); the others sharing it are emptied above.
		if k != nil && !done[k] {
			if tensor.Recycle(v); tensor.BufferKey(v) == nil {
				done[k] = true
			}
		}
	}
}
