package onnx

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/onnx/onnxpb"
	"github.com/nabla-go/nabla/tensor"
)

// A step of the walk: the layer a group of nodes forms (nil for nodes
// that change nothing, such as Dropout), its parameters by local name
// ("weight"), and the value the group gives.
type step struct {
	layer  *nn.Spec
	params map[string]*constant
	out    string
}

// opImport converts the node that reads cur (and the nodes it owns), with
// cur's example shape, into a step.
type opImport func(im *importer, i int, cur string, shape []int) (step, error)

// opImports maps the op of the one node reading the current value to
// its conversion. Element-wise ops (activations, composed or not) go
// through activation instead, since a composed one reads the value twice.
var opImports = map[string]opImport{
	"Gemm":       importGemm,
	"MatMul":     importMatMul,
	"Flatten":    importFlatten,
	"Reshape":    importReshape,
	"Dropout":    importIdentity,
	"Identity":   importIdentity,
	"Softmax":    importFinal,
	"LogSoftmax": importFinal,
}

// walk follows the chain from the input to the output, one layer at a
// time.
func (im *importer) walk(shape []int) (*Imported, error) {
	nodes := im.g.GetNode()
	cur := im.input
	in := slices.Clone(shape)
	var finalOp string
	if err := im.normaliser(&cur, shape); err != nil {
		return nil, err
	}
	for cur != im.output {
		users := im.pending(cur)
		if len(users) == 0 {
			return nil, fmt.Errorf("the graph does not go on from %q to its output %q", cur, im.output)
		}
		if finalOp != "" {
			return nil, fmt.Errorf("%s is not the last op", finalOp)
		}
		var st step
		var err error
		n := nodes[users[0]]
		switch {
		case im.isGroupNorm(cur, users):
			st, err = im.groupNorm(cur, users, shape)
		case len(users) == 1 && opImports[n.GetOpType()] != nil:
			st, err = opImports[n.GetOpType()](im, users[0], cur, shape)
			if err == nil && (n.GetOpType() == "Softmax" || n.GetOpType() == "LogSoftmax") {
				finalOp = n.GetOpType()
			}
		case im.isShapeReshape(cur, users):
			st, err = im.shapeReshape(cur, users, shape)
		default:
			st, err = im.activation(cur, shape)
		}
		if err != nil {
			return nil, err
		}
		if st.layer != nil {
			_, out, err := nn.Resolve(*st.layer, shape)
			if err == nil {
				err = checkExample(out)
			}
			if err != nil {
				return nil, fmt.Errorf("layer %d (%s): %v", len(im.layers), st.layer.Type, err)
			}
			if err := im.addLayer(*st.layer, st.params); err != nil {
				return nil, err
			}
			shape = out
		}
		if st.out == cur {
			return nil, fmt.Errorf("node %s gives the value it reads", nodeName(n, users[0]))
		}
		cur = st.out
	}
	var left []string
	for i, d := range im.done {
		if !d {
			left = append(left, nodeName(nodes[i], i))
		}
	}
	if len(left) > 0 {
		return nil, fmt.Errorf("nodes %s are not on the chain from the input to the output (nabla imports sequential models)", clipList(left))
	}
	if len(im.layers) == 0 {
		return nil, errors.New("the graph has no layers")
	}
	spec, out, err := nn.Resolve(nn.Seq(im.layers...), in)
	if err != nil {
		return nil, err
	}
	dt := tensor.Float32
	if im.elem == onnxpb.TensorProto_DOUBLE {
		dt = tensor.Float64
	}
	for k, t := range im.state {
		if t.DType() != dt {
			im.state[k] = t.AsType(dt)
		}
	}
	res := &Imported{Spec: spec, State: im.state, DType: dt, FinalOp: finalOp}
	res.Input.Shape = in
	res.Input.Classes = out[len(out)-1]
	res.Input.Mean, res.Input.Std = im.mean, im.std
	if err := res.Input.Check(); err != nil {
		return nil, fmt.Errorf("input: %v", err)
	}
	return res, nil
}

// pending lists the nodes not yet converted that read v.
func (im *importer) pending(v string) []int {
	var out []int
	for _, u := range im.users[v] {
		if !im.done[u] && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// addLayer appends a layer and its parameters, named by its index.
func (im *importer) addLayer(s nn.Spec, params map[string]*constant) error {
	idx := strconv.Itoa(len(im.layers))
	im.layers = append(im.layers, s)
	for name, c := range params {
		if len(c.shape) == 0 { // a 0-d tensor (a BatchNorm's num_batches_tracked)
			t := tensor.New(tensor.Float64)
			t.Fill(c.f[0])
			im.state[idx+"."+name] = t
			continue
		}
		im.state[idx+"."+name] = tensor.FromValues(tensor.Float64, c.f, c.shape...)
	}
	return nil
}

// other returns the input of node n that is not v, and whether n reads v
// exactly once among two inputs.
func other(n *onnxpb.NodeProto, v string) (string, bool) {
	in := n.GetInput()
	if len(in) != 2 {
		return "", false
	}
	switch {
	case in[0] == v && in[1] != v:
		return in[1], true
	case in[1] == v && in[0] != v:
		return in[0], true
	}
	return "", false
}

// normaliser reads a leading (x − mean) / std (or · 1/std) with constant
// mean and std that broadcast to one example, as Export writes it.
func (im *importer) normaliser(cur *string, shape []int) error {
	nodes := im.g.GetNode()
	users := im.pending(*cur)
	if len(users) != 1 || nodes[users[0]].GetOpType() != "Sub" || nodes[users[0]].GetInput()[0] != *cur {
		return nil
	}
	sub := nodes[users[0]]
	mc := im.consts[sub.GetInput()[1]]
	next := im.pending(sub.GetOutput()[0])
	if mc == nil || mc.isInt() || len(next) != 1 {
		return nil
	}
	div := nodes[next[0]]
	op := div.GetOpType()
	if (op != "Div" && op != "Mul") || len(div.GetInput()) != 2 || div.GetInput()[0] != sub.GetOutput()[0] {
		return nil
	}
	sc := im.consts[div.GetInput()[1]]
	if sc == nil || sc.isInt() {
		return nil
	}
	mean, err := broadcast(mc, shape)
	if err != nil {
		return fmt.Errorf("node %s: the normaliser's mean: %v", nodeName(sub, users[0]), err)
	}
	std, err := broadcast(sc, shape)
	if err != nil {
		return fmt.Errorf("node %s: the normaliser's scale: %v", nodeName(div, next[0]), err)
	}
	if op == "Mul" {
		for j, v := range std {
			std[j] = 1 / v
		}
	}
	for j := range std {
		if !(std[j] > 0) || math.IsInf(std[j], 0) || math.IsNaN(mean[j]) || math.IsInf(mean[j], 0) {
			return fmt.Errorf("node %s: the normaliser's entry %d (mean %v, std %v) is not usable", nodeName(div, next[0]), j, mean[j], std[j])
		}
	}
	im.mean, im.std = mean, std
	im.done[users[0]], im.done[next[0]] = true, true
	*cur = div.GetOutput()[0]
	return nil
}

// maxBroadcast bounds the values a broadcast constant is expanded to.
const maxBroadcast = 1 << 24

// broadcast expands c to one example of shape (numpy rules; a leading
// batch dimension of 1 allowed).
func broadcast(c *constant, shape []int) ([]float64, error) {
	cs := c.shape
	if len(cs) == len(shape)+1 {
		if cs[0] != 1 {
			return nil, fmt.Errorf("shape %v does not broadcast over the batch", cs)
		}
		cs = cs[1:]
	}
	if len(cs) > len(shape) {
		return nil, fmt.Errorf("shape %v does not broadcast to %v", c.shape, shape)
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n > maxBroadcast {
		return nil, fmt.Errorf("examples of %d values are too large to broadcast to", n)
	}
	full := slices.Concat(make([]int, len(shape)-len(cs)), cs)
	for i := range len(shape) - len(cs) {
		full[i] = 1
	}
	for i, d := range full {
		if d != 1 && d != shape[i] {
			return nil, fmt.Errorf("shape %v does not broadcast to %v", c.shape, shape)
		}
	}
	out := make([]float64, n)
	idx := make([]int, len(shape))
	for k := range out {
		off, stride := 0, 1
		for i := len(shape) - 1; i >= 0; i-- {
			if full[i] != 1 {
				off += idx[i] * stride
			}
			stride *= full[i]
		}
		out[k] = c.f[off]
		for i := len(shape) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, nil
}

func importIdentity(im *importer, i int, cur string, shape []int) (step, error) {
	n := im.g.GetNode()[i]
	if n.GetInput()[0] != cur {
		return step{}, fmt.Errorf("node %s reads %q as its mask or ratio", nodeName(n, i), cur)
	}
	for _, o := range n.GetOutput()[1:] {
		if len(im.users[o]) > 0 || o == im.output {
			return step{}, fmt.Errorf("node %s: its mask output is used; nabla imports inference graphs", nodeName(n, i))
		}
	}
	im.done[i] = true
	return step{out: n.GetOutput()[0]}, nil
}

// importFinal takes a last Softmax or LogSoftmax over the class axis off
// the model (Imported.FinalOp).
func importFinal(im *importer, i int, cur string, shape []int) (step, error) {
	n := im.g.GetNode()[i]
	axis := intAttrOf(n, "axis", -1)
	if axis < 0 {
		axis += int64(len(shape) + 1)
	}
	if n.GetOutput()[0] != im.output || len(shape) != 1 || axis != 1 {
		return step{}, fmt.Errorf("node %s: nabla imports a %s only as the last op, over the classes of [batch, classes] scores", nodeName(n, i), n.GetOpType())
	}
	im.done[i] = true
	return step{out: n.GetOutput()[0]}, nil
}

// importGemm reads Gemm(x, B, C) with x of shape [batch, in] as a Linear
// layer (alpha and beta folded into the weight and bias).
func importGemm(im *importer, i int, cur string, shape []int) (step, error) {
	n := im.g.GetNode()[i]
	in := n.GetInput()
	name := nodeName(n, i)
	if len(in) < 2 || in[0] != cur || intAttrOf(n, "transA", 0) != 0 {
		return step{}, fmt.Errorf("node %s: a Gemm is read as a Linear layer: x·Bᵀ + C with the layer's input as x", name)
	}
	b := im.consts[in[1]]
	if b == nil || b.isInt() || len(b.shape) != 2 {
		return step{}, fmt.Errorf("node %s: its weight %q is not a 2-D float initialiser", name, in[1])
	}
	w := b
	if intAttrOf(n, "transB", 0) == 0 {
		w = transpose(b)
	}
	out, nin := w.shape[0], w.shape[1]
	if len(shape) != 1 || shape[0] != nin {
		return step{}, fmt.Errorf("node %s: a weight of %d inputs for an input of shape %v", name, nin, shape)
	}
	if alpha := floatAttrOf(n, "alpha", 1); alpha != 1 {
		w = scale(w, alpha)
	}
	params := map[string]*constant{"weight": w}
	if len(in) > 2 && in[2] != "" {
		c := im.consts[in[2]]
		if c == nil || c.isInt() {
			return step{}, fmt.Errorf("node %s: its bias %q is not a float initialiser", name, in[2])
		}
		bias, err := biasOf(c, out)
		if err != nil {
			return step{}, fmt.Errorf("node %s: bias: %v", name, err)
		}
		if beta := floatAttrOf(n, "beta", 1); beta != 1 {
			bias = scale(bias, beta)
		}
		params["bias"] = bias
	}
	im.done[i] = true
	s := nn.L("Linear", "in", nin, "out", out, "bias", params["bias"] != nil)
	return step{layer: &s, params: params, out: n.GetOutput()[0]}, nil
}

// importMatMul reads MatMul(x, W) with a constant W [in, out], and an Add
// of a bias [out] after it when there is one, as a Linear layer.
func importMatMul(im *importer, i int, cur string, shape []int) (step, error) {
	n := im.g.GetNode()[i]
	in := n.GetInput()
	name := nodeName(n, i)
	if len(in) != 2 || in[0] != cur {
		return step{}, fmt.Errorf("node %s: a MatMul is read as a Linear layer: the layer's input times a constant", name)
	}
	b := im.consts[in[1]]
	if b == nil || b.isInt() || len(b.shape) != 2 {
		return step{}, fmt.Errorf("node %s: its weight %q is not a 2-D float initialiser", name, in[1])
	}
	nin, out := b.shape[0], b.shape[1]
	if len(shape) < 1 || shape[len(shape)-1] != nin {
		return step{}, fmt.Errorf("node %s: a weight of %d inputs for an input of shape %v", name, nin, shape)
	}
	params := map[string]*constant{"weight": transpose(b)}
	im.done[i] = true
	y := n.GetOutput()[0]
	if users := im.pending(y); len(users) == 1 && y != im.output {
		add := im.g.GetNode()[users[0]]
		if add.GetOpType() == "Add" {
			if o, ok := other(add, y); ok {
				if c := im.consts[o]; c != nil && !c.isInt() && len(c.shape) <= 1 && c.len() == out {
					params["bias"] = &constant{shape: []int{out}, f: c.f}
					im.done[users[0]] = true
					y = add.GetOutput()[0]
				}
			}
		}
	}
	s := nn.L("Linear", "in", nin, "out", out, "bias", params["bias"] != nil)
	return step{layer: &s, params: params, out: y}, nil
}

func transpose(c *constant) *constant {
	r, k := c.shape[0], c.shape[1]
	out := &constant{shape: []int{k, r}, f: make([]float64, len(c.f))}
	for i := range r {
		for j := range k {
			out.f[j*r+i] = c.f[i*k+j]
		}
	}
	return out
}

func scale(c *constant, a float64) *constant {
	out := &constant{shape: c.shape, f: make([]float64, len(c.f))}
	for i, v := range c.f {
		out.f[i] = a * v
	}
	return out
}

// biasOf reads a Gemm's C as a bias of n: [n], [1, n] or one value.
func biasOf(c *constant, n int) (*constant, error) {
	switch {
	case c.len() == n && (len(c.shape) == 1 || (len(c.shape) == 2 && c.shape[0] == 1)):
		return &constant{shape: []int{n}, f: c.f}, nil
	case c.len() == 1:
		f := make([]float64, n)
		for i := range f {
			f[i] = c.f[0]
		}
		return &constant{shape: []int{n}, f: f}, nil
	}
	return nil, fmt.Errorf("shape %v for %d outputs", c.shape, n)
}

// importFlatten reads Flatten with axis 1 (every dimension after the
// batch merged).
func importFlatten(im *importer, i int, cur string, shape []int) (step, error) {
	n := im.g.GetNode()[i]
	axis := intAttrOf(n, "axis", 1)
	if axis < 0 {
		axis += int64(len(shape) + 1)
	}
	if axis != 1 {
		return step{}, fmt.Errorf("node %s: Flatten with axis %d merges the batch dimension; nabla's Flatten keeps it (axis 1)", nodeName(n, i), intAttrOf(n, "axis", 1))
	}
	im.done[i] = true
	s := nn.L("Flatten", "start_dim", 1, "end_dim", -1)
	return step{layer: &s, out: n.GetOutput()[0]}, nil
}

// importReshape reads Reshape(x, shape) with a constant shape that keeps
// the batch and merges neighbouring dimensions, as nabla's Flatten.
func importReshape(im *importer, i int, cur string, shape []int) (step, error) {
	n := im.g.GetNode()[i]
	in := n.GetInput()
	if len(in) != 2 || in[0] != cur {
		return step{}, fmt.Errorf("node %s: a Reshape is read as a Flatten of the layer's input", nodeName(n, i))
	}
	c := im.consts[in[1]]
	if c == nil || !c.isInt() || len(c.shape) != 1 {
		return step{}, fmt.Errorf("node %s: its shape %q is not a 1-D integer constant", nodeName(n, i), in[1])
	}
	return im.reshapeTo(i, c.i, shape, nil)
}

// batchMark marks the batch dimension in shapes computed from Shape.
const batchMark = math.MinInt64

// reshapeTo converts Reshape node i to the target t (entries 0: copy,
// −1: infer, batchMark: the batch) of an input example shape; owned are
// further nodes it consumes (a shape computation).
func (im *importer) reshapeTo(i int, t []int64, shape []int, owned []int) (step, error) {
	n := im.g.GetNode()[i]
	name := nodeName(n, i)
	if len(t) == 0 || len(t) > 64 {
		return step{}, fmt.Errorf("node %s: target shape %v", name, t)
	}
	full := append([]int{-1}, shape...) // −1: the batch
	allowZero := intAttrOf(n, "allowzero", 0) != 0
	if t[0] != 0 && t[0] != -1 && t[0] != batchMark {
		return step{}, fmt.Errorf("node %s: a Reshape to %v fixes the batch size; nabla reads Reshapes that keep the batch", name, t)
	}
	out := make([]int, 0, len(t)-1)
	infer := -1
	known := int64(1)
	for k, v := range t[1:] {
		switch {
		case v == 0 && !allowZero:
			if k+1 >= len(full) {
				return step{}, fmt.Errorf("node %s: target %v copies a dimension the input lacks", name, t)
			}
			v = int64(full[k+1])
		case v == -1 && infer < 0 && t[0] != -1:
			infer = k
			out = append(out, 0)
			continue
		case v < 1 || v > maxDimValue:
			return step{}, fmt.Errorf("node %s: target shape %v", name, t)
		}
		known *= v
		if known > maxElements {
			return step{}, fmt.Errorf("node %s: target shape %v", name, t)
		}
		out = append(out, int(v))
	}
	total := int64(1)
	for _, d := range shape {
		total *= int64(d)
	}
	if infer >= 0 {
		if total%known != 0 {
			return step{}, fmt.Errorf("node %s: cannot reshape %v to %v", name, shape, t)
		}
		out[infer] = int(total / known)
		known = total
	}
	if known != total {
		return step{}, fmt.Errorf("node %s: cannot reshape an example %v to %v", name, shape, out)
	}
	im.done[i] = true
	for _, o := range owned {
		im.done[o] = true
	}
	if slices.Equal(out, shape) {
		return step{out: n.GetOutput()[0]}, nil
	}
	// A merge of dimensions lo…hi of the example.
	lo := 0
	for lo < len(out) && lo < len(shape) && out[lo] == shape[lo] {
		lo++
	}
	hi := len(shape) - 1
	for j := len(out) - 1; j > lo && hi > lo && out[j] == shape[hi]; j-- {
		hi--
	}
	merged := 1
	for _, d := range shape[lo : hi+1] {
		merged *= d
	}
	want := slices.Concat(shape[:lo], []int{merged}, shape[hi+1:])
	if !slices.Equal(out, want) {
		return step{}, fmt.Errorf("node %s: a Reshape of %v to %v is not a Flatten (nabla has no layer for it)", name, shape, out)
	}
	end := hi + 1
	if hi == len(shape)-1 {
		end = -1 // PyTorch's default, as a spec writes it
	}
	s := nn.L("Flatten", "start_dim", lo+1, "end_dim", end)
	return step{layer: &s, out: n.GetOutput()[0]}, nil
}

// isShapeReshape reports whether the readers of cur are a Reshape of cur
// and Shape nodes (PyTorch's flatten(start_dim > 1)).
func (im *importer) isShapeReshape(cur string, users []int) bool {
	reshapes := 0
	for _, u := range users {
		n := im.g.GetNode()[u]
		switch {
		case n.GetOpType() == "Shape":
		case n.GetOpType() == "Reshape" && len(n.GetInput()) == 2 && n.GetInput()[0] == cur:
			reshapes++
		default:
			return false
		}
	}
	return reshapes == 1
}

// shapeReshape reads Reshape(cur, f(Shape(cur))) where f slices, gathers,
// unsqueezes and concatenates: the shape is computed with the batch
// marked, and the shape nodes are consumed with the Reshape.
func (im *importer) shapeReshape(cur string, users []int, shape []int) (step, error) {
	var ri int
	for _, u := range users {
		if im.g.GetNode()[u].GetOpType() == "Reshape" {
			ri = u
		}
	}
	var owned []int
	calls := 0
	t, err := im.shapeValue(im.g.GetNode()[ri].GetInput()[1], cur, shape, &owned, &calls)
	if err != nil {
		return step{}, fmt.Errorf("node %s: its target shape: %v", nodeName(im.g.GetNode()[ri], ri), err)
	}
	// Every reader of the Shape nodes must be among the owned nodes.
	for _, o := range owned {
		for _, out := range im.g.GetNode()[o].GetOutput() {
			for _, u := range im.pending(out) {
				if u != ri && !slices.Contains(owned, u) {
					return step{}, fmt.Errorf("node %s reads a shape computation of the Reshape %s", nodeName(im.g.GetNode()[u], u), nodeName(im.g.GetNode()[ri], ri))
				}
			}
		}
	}
	return im.reshapeTo(ri, t, shape, owned)
}

// shapeValue evaluates a small integer computation on Shape(cur).
func (im *importer) shapeValue(v, cur string, shape []int, owned *[]int, calls *int) ([]int64, error) {
	if *calls++; *calls > 256 {
		return nil, errors.New("too large a computation")
	}
	if c := im.consts[v]; c != nil {
		if !c.isInt() || len(c.shape) > 1 {
			return nil, fmt.Errorf("%q is not a 1-D integer constant", v)
		}
		return c.i, nil
	}
	pi, ok := im.producer[v]
	if !ok || im.done[pi] {
		return nil, fmt.Errorf("%q is not computed from the input's shape", v)
	}
	n := im.g.GetNode()[pi]
	in := n.GetInput()
	arg := func(k int) ([]int64, error) {
		if k >= len(in) || in[k] == "" {
			return nil, nil
		}
		return im.shapeValue(in[k], cur, shape, owned, calls)
	}
	if !slices.Contains(*owned, pi) {
		*owned = append(*owned, pi)
	}
	switch n.GetOpType() {
	case "Shape":
		if len(in) != 1 || in[0] != cur || findAttr(n, "start") != nil || findAttr(n, "end") != nil {
			return nil, errors.New("a Shape of another value")
		}
		return append([]int64{batchMark}, int64s(shape)...), nil
	case "Slice":
		data, err := arg(0)
		if err != nil {
			return nil, err
		}
		starts, err1 := arg(1)
		ends, err2 := arg(2)
		axes, err3 := arg(3)
		steps, err4 := arg(4)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil, err
		}
		if len(starts) != 1 || len(ends) != 1 || (axes != nil && !slices.Equal(axes, []int64{0})) || (steps != nil && !slices.Equal(steps, []int64{1})) {
			return nil, errors.New("a Slice nabla does not read")
		}
		s, e := clampIndex(starts[0], len(data)), clampIndex(ends[0], len(data))
		if e < s {
			e = s
		}
		return data[s:e], nil
	case "Concat":
		var out []int64
		for k := range in {
			x, err := arg(k)
			if err != nil {
				return nil, err
			}
			out = append(out, x...)
			if len(out) > 64 {
				return nil, errors.New("too long")
			}
		}
		return out, nil
	case "Gather":
		data, err1 := arg(0)
		idx, err2 := arg(1)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		var out []int64
		for _, j := range idx {
			if j < 0 {
				j += int64(len(data))
			}
			if j < 0 || j >= int64(len(data)) {
				return nil, errors.New("a Gather out of range")
			}
			out = append(out, data[j])
		}
		return out, nil
	case "Unsqueeze":
		return arg(0)
	}
	return nil, fmt.Errorf("op %s in a shape computation", printable(n.GetOpType()))
}

func clampIndex(i int64, n int) int {
	if i < 0 {
		i += int64(n)
	}
	return int(max(0, min(i, int64(n))))
}
