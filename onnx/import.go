package onnx

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/onnx/onnxpb"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

// Limits on imported graphs, checked before anything is allocated.
const (
	maxNodes    = 1 << 16
	maxDimValue = 1 << 31 // one dimension
	maxElements = 1 << 33 // one tensor
	// MaxExample bounds the values of one example, at the input and after
	// every layer, so that checking a hostile graph's shapes never
	// allocates much (nabla works out a pooling layer's output shape by
	// running it on a one-channel stand-in). 2²⁵ holds a 4K RGB image.
	MaxExample = 1 << 25
	// MaxFileSize is the largest ONNX file ReadFile reads (models larger
	// than 2 GiB keep their weights in external files, which nabla does
	// not read).
	MaxFileSize = 2 << 30
)

// Imported is an ONNX model as nabla data: a spec (a Sequential of layers
// numbered from 0), its state dict (named as nn.StateDict names it:
// "0.weight") and its input (shape, classes, normaliser).
type Imported struct {
	Spec  nn.Spec
	State map[string]*tensor.Tensor
	Input train.Input
	// DType is the parameters' dtype: Float64 for a DOUBLE graph, else
	// Float32.
	DType tensor.DType
	// FinalOp is "Softmax" or "LogSoftmax" when the graph ended in one:
	// the imported model gives the scores it was applied to (the file's
	// output is FinalOp of the model's), as a nabla classifier does.
	FinalOp string
}

// ReadFile reads an ONNX file and imports it (Import).
func ReadFile(path string) (*Imported, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if int64(len(b)) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, int64(MaxFileSize))
	}
	im, err := Import(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, strings.TrimPrefix(err.Error(), "onnx: "))
	}
	return im, nil
}

// LoadModel reads an ONNX file and builds the model it describes, as
// train.LoadModel does for nabla's files.
func LoadModel(path string) (*train.Model, error) {
	im, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := im.Model()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	m.Path = path
	return m, nil
}

// Model builds the imported model (in training mode, as nn.Build leaves
// it) with its weights.
func (im *Imported) Model() (*train.Model, error) {
	m, err := nn.Build(im.Spec, im.DType, tensor.NewRand(0))
	if err != nil {
		return nil, err
	}
	if err := nn.LoadStateDict(m, im.State); err != nil {
		return nil, err
	}
	return &train.Model{Module: m, Spec: im.Spec, Input: im.Input, HasInput: true}, nil
}

// Import converts an ONNX model into nabla data. The graph must be a
// chain from its one input to its one output through the ops of the
// layer kinds (Gemm or MatMul and Add for Linear, Relu, LeakyRelu,
// Sigmoid, Tanh, Elu, Softplus, GELU and SiLU as PyTorch composes them,
// Flatten, Reshape, Dropout and Identity), with a leading Sub and Div as
// the input normaliser and a final Softmax or LogSoftmax (FinalOp). Ops
// outside that set give one error that lists them all; a malformed or
// hostile file (sizes that its data does not hold, missing initialisers,
// cycles) gives an error, never a panic or an allocation beyond the
// file's size.
func Import(b []byte) (*Imported, error) {
	mp, err := Decode(b)
	if err != nil {
		return nil, err
	}
	im, err := importModel(mp)
	if err != nil {
		return nil, fmt.Errorf("onnx: %v", err)
	}
	return im, nil
}

// value is a named tensor of the graph: a constant (initialiser, Constant
// node, or a fold of constants) or a value computed from the input.
type constant struct {
	shape []int
	f     []float64 // float data (FLOAT, DOUBLE, FLOAT16 widened)
	i     []int64   // integer data (INT64, INT32)
}

func (c *constant) isInt() bool { return c.i != nil }

func (c *constant) len() int {
	if c.i != nil {
		return len(c.i)
	}
	return len(c.f)
}

// scalar returns the value of a one-element float constant.
func (c *constant) scalar() (float64, bool) {
	if c == nil || c.isInt() || len(c.f) != 1 {
		return 0, false
	}
	return c.f[0], true
}

// importer holds the graph being converted.
type importer struct {
	g        *onnxpb.GraphProto
	consts   map[string]*constant
	producer map[string]int   // value name → index of the node giving it
	users    map[string][]int // value name → nodes reading it, in order
	done     []bool           // nodes converted (or folded)
	input    string
	output   string
	elem     onnxpb.TensorProto_DataType

	layers []nn.Spec
	state  map[string]*tensor.Tensor
	mean   []float64
	std    []float64
}

// importOps are the ops Import reads (default domain).
var importOps = map[string]bool{
	"Gemm": true, "MatMul": true, "Add": true, "Sub": true, "Mul": true, "Div": true, "Pow": true,
	"Relu": true, "LeakyRelu": true, "Sigmoid": true, "Tanh": true, "Elu": true, "Softplus": true, "Erf": true, "Gelu": true,
	"Flatten": true, "Reshape": true, "Transpose": true, "Dropout": true, "Identity": true, "Constant": true,
	"Softmax": true, "LogSoftmax": true, "Shape": true, "Slice": true, "Concat": true, "Gather": true, "Unsqueeze": true,
}

func importModel(mp *onnxpb.ModelProto) (*Imported, error) {
	opset := int64(-1)
	for _, o := range mp.GetOpsetImport() {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			opset = o.GetVersion()
		}
	}
	if opset < 0 {
		return nil, errors.New("the model imports no version of the default ONNX operator set")
	}
	if opset < 9 || opset > 22 {
		return nil, fmt.Errorf("operator set version %d: nabla reads versions 9 to 22", opset)
	}
	g := mp.GetGraph()
	if g == nil {
		return nil, errors.New("the model has no graph")
	}
	if len(g.GetNode()) > maxNodes {
		return nil, fmt.Errorf("%d nodes (at most %d)", len(g.GetNode()), maxNodes)
	}
	// Every op outside the set, listed at once.
	bad := map[string][]string{}
	for i, n := range g.GetNode() {
		op := n.GetOpType()
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			op = d + "." + op
		} else if importOps[op] {
			continue
		}
		bad[op] = append(bad[op], nodeName(n, i))
	}
	if len(bad) > 0 {
		var ops []string
		for op, nodes := range bad {
			ops = append(ops, fmt.Sprintf("%s (%s)", printable(op), clipList(nodes)))
		}
		sort.Strings(ops)
		return nil, fmt.Errorf("unsupported ops: %s", strings.Join(ops, ", "))
	}

	im := &importer{g: g, consts: map[string]*constant{}, producer: map[string]int{}, users: map[string][]int{},
		done: make([]bool, len(g.GetNode())), state: map[string]*tensor.Tensor{}}
	for _, t := range g.GetInitializer() {
		name := t.GetName()
		if name == "" {
			return nil, errors.New("an initialiser has no name")
		}
		if _, dup := im.consts[name]; dup {
			return nil, fmt.Errorf("two initialisers are named %q", name)
		}
		c, err := readTensor(t)
		if err != nil {
			return nil, fmt.Errorf("initialiser %q: %v", name, err)
		}
		im.consts[name] = c
	}
	// The one input that is not an initialiser, and the one output.
	var inputs []*onnxpb.ValueInfoProto
	for _, vi := range g.GetInput() {
		if _, ok := im.consts[vi.GetName()]; !ok {
			inputs = append(inputs, vi)
		}
	}
	if len(inputs) != 1 || len(g.GetOutput()) != 1 {
		return nil, fmt.Errorf("the graph has %d inputs and %d outputs; nabla imports models of one input and one output", len(inputs), len(g.GetOutput()))
	}
	im.input, im.output = inputs[0].GetName(), g.GetOutput()[0].GetName()
	elem, shape, err := inputType(inputs[0])
	if err != nil {
		return nil, err
	}
	im.elem = elem
	// Values: each produced once; every read value known.
	for i, n := range g.GetNode() {
		if len(n.GetOutput()) == 0 {
			return nil, fmt.Errorf("node %s has no output", nodeName(n, i))
		}
		for _, o := range n.GetOutput() {
			if o == "" {
				continue
			}
			if _, ok := im.producer[o]; ok || o == im.input || im.consts[o] != nil {
				return nil, fmt.Errorf("value %q is produced twice (by node %s)", o, nodeName(n, i))
			}
			im.producer[o] = i
		}
	}
	for i, n := range g.GetNode() {
		for _, in := range n.GetInput() {
			if in == "" {
				continue
			}
			if _, ok := im.producer[in]; !ok && in != im.input && im.consts[in] == nil {
				return nil, fmt.Errorf("node %s reads %q, which no node, initialiser or input gives (a missing initialiser?)", nodeName(n, i), in)
			}
			im.users[in] = append(im.users[in], i)
		}
	}
	if _, ok := im.producer[im.output]; !ok && im.output != im.input {
		return nil, fmt.Errorf("no node gives the graph's output %q", im.output)
	}
	if err := im.checkAcyclic(); err != nil {
		return nil, err
	}
	if err := im.foldConstants(); err != nil {
		return nil, err
	}
	res, err := im.walk(shape)
	if err != nil {
		return nil, err
	}
	if err := readMeta(mp, res); err != nil {
		return nil, err
	}
	restoreSpec(mp, res)
	return res, nil
}

// restoreSpec replaces the spec read from the graph by the one nabla's
// export records (MetaArch) when that one computes the same function: it
// keeps what ONNX drops (Dropout layers, nested Sequentials, padding
// "same", initialisation schemes), so that nabla → ONNX → nabla gives the
// model back. The recorded spec is trusted only if exporting it with the
// imported weights and importing that again gives the graph's layers;
// otherwise the graph's spec stays.
func restoreSpec(mp *onnxpb.ModelProto, res *Imported) {
	var js string
	for _, p := range mp.GetMetadataProps() {
		if p.GetKey() == MetaArch {
			js = p.GetValue()
		}
	}
	if js == "" {
		return
	}
	var meta nn.Spec
	if err := json.Unmarshal([]byte(js), &meta); err != nil {
		return
	}
	if err := boundedShapes(meta, res.Input.Shape); err != nil {
		return
	}
	meta, _, err := nn.Resolve(meta, res.Input.Shape)
	if err != nil {
		return
	}
	paths := leafPaths(meta, "")
	if len(paths) != len(res.Spec.Layers) {
		return
	}
	state := map[string]*tensor.Tensor{}
	for k, t := range res.State {
		idx, name, _ := strings.Cut(k, ".")
		i, err := strconv.Atoi(idx)
		if err != nil || i < 0 || i >= len(paths) {
			return
		}
		state[joinPath(paths[i], name)] = t
	}
	// Tensors the recorded spec has no place for (the ones and zeros
	// written for a layer without affine parameters) are left out; the
	// check below finds them again, or refuses the spec.
	again, unused, err := export(meta, state, res.Input, Options{})
	if err != nil {
		return
	}
	for _, k := range unused {
		delete(state, k)
	}
	again.MetadataProps = nil // read the graph alone
	back, err := importModel(again)
	if err != nil || !nn.Equal(back.Spec, res.Spec) || len(back.State) != len(res.State) {
		return
	}
	for k, t := range res.State {
		if b, ok := back.State[k]; !ok || !slices.Equal(b.Shape(), t.Shape()) || !slices.Equal(b.Values(), t.Values()) {
			return
		}
	}
	res.Spec, res.State = meta, state
}

// boundedShapes resolves s layer by layer from examples of shape in and
// fails as soon as one gives examples of more than MaxExample values, so
// that no layer is resolved on an input larger than that.
func boundedShapes(s nn.Spec, in []int) error {
	_, err := boundedShape(s, in, 0)
	return err
}

func boundedShape(s nn.Spec, in []int, depth int) ([]int, error) {
	if depth > nn.MaxSpecDepth {
		return nil, errors.New("nested too deep")
	}
	if s.Type == "Sequential" {
		for _, l := range s.Layers {
			var err error
			if in, err = boundedShape(l, in, depth+1); err != nil {
				return nil, err
			}
		}
		return in, nil
	}
	_, out, err := nn.Resolve(s, in)
	if err != nil {
		return nil, err
	}
	return out, checkExample(out)
}

// checkExample refuses examples of more than MaxExample values.
func checkExample(shape []int) error {
	n := 1
	for _, d := range shape {
		if d < 1 || d > MaxExample || n > MaxExample/d {
			return fmt.Errorf("examples of shape %v: more than %d values", shape, MaxExample)
		}
		n *= d
	}
	return nil
}

// leafPaths lists the paths of the layers of s that the ONNX graph keeps
// (Sequentials opened, Dropout and Dropout2d left out), in order.
func leafPaths(s nn.Spec, path string) []string {
	switch s.Type {
	case "Sequential":
		var out []string
		for i, l := range s.Layers {
			out = append(out, leafPaths(l, joinPath(path, strconv.Itoa(i)))...)
		}
		return out
	case "Dropout", "Dropout2d":
		return nil
	}
	return []string{path}
}

// readMeta takes what nabla's export records beside the graph (data set
// name, raw pixels, classes) from its metadata, when it is there and
// agrees with the graph.
func readMeta(mp *onnxpb.ModelProto, res *Imported) error {
	for _, p := range mp.GetMetadataProps() {
		if p.GetKey() != MetaInput {
			continue
		}
		var in train.Input
		if err := json.Unmarshal([]byte(p.GetValue()), &in); err != nil {
			return fmt.Errorf("bad %s metadata: %v", MetaInput, err)
		}
		if !slices.Equal(in.Shape, res.Input.Shape) {
			return fmt.Errorf("the %s metadata says the input is %v, the graph's is %v", MetaInput, in.Shape, res.Input.Shape)
		}
		if in.Classes < 1 || in.Classes > res.Input.Classes {
			return fmt.Errorf("the %s metadata says %d classes for %d outputs", MetaInput, in.Classes, res.Input.Classes)
		}
		res.Input.Classes, res.Input.Data, res.Input.RawPixels = in.Classes, in.Data, in.RawPixels
	}
	return nil
}

func nodeName(n *onnxpb.NodeProto, i int) string {
	if n.GetName() != "" {
		return strconv.Quote(clip(n.GetName()))
	}
	return fmt.Sprintf("#%d (%s)", i, printable(n.GetOpType()))
}

// printable returns a name read from a file as it may appear in a
// message: as is when it is a short plain identifier, else quoted (so that
// no control character or line break reaches the message) and clipped.
func printable(s string) string {
	for _, r := range s {
		if !(r == '_' || r == '.' || r == ':' || r == '/' || r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			return strconv.Quote(clip(s))
		}
	}
	return clip(s)
}

// clip shortens a name read from a file to 64 bytes for messages.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func clipList(xs []string) string {
	if len(xs) > 3 {
		return strings.Join(xs[:3], ", ") + fmt.Sprintf(" and %d more", len(xs)-3)
	}
	return strings.Join(xs, ", ")
}

// inputType reads the graph input's element type and example shape: a
// float tensor of at least two dimensions, the first the batch (any size
// or symbolic), the others fixed.
func inputType(vi *onnxpb.ValueInfoProto) (onnxpb.TensorProto_DataType, []int, error) {
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return 0, nil, fmt.Errorf("the input %q is not a tensor", vi.GetName())
	}
	elem := onnxpb.TensorProto_DataType(tt.GetElemType())
	if elem != onnxpb.TensorProto_FLOAT && elem != onnxpb.TensorProto_DOUBLE {
		return 0, nil, fmt.Errorf("the input %q is of type %v; nabla reads FLOAT and DOUBLE models", vi.GetName(), elem)
	}
	dims := tt.GetShape().GetDim()
	if tt.GetShape() == nil || len(dims) < 2 {
		return 0, nil, fmt.Errorf("the input %q has %d dimensions; nabla needs a batch dimension and a fixed example shape", vi.GetName(), len(dims))
	}
	var shape []int
	n := int64(1)
	for i, d := range dims[1:] {
		v := d.GetDimValue()
		if _, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); !ok || v < 1 || v > maxDimValue {
			return 0, nil, fmt.Errorf("the input %q: dimension %d is %s; nabla needs fixed sizes after the batch", vi.GetName(), i+1, dimString(d))
		}
		n *= v
		if n > MaxExample {
			return 0, nil, fmt.Errorf("the input %q: examples of more than %d values", vi.GetName(), MaxExample)
		}
		shape = append(shape, int(v))
	}
	return elem, shape, nil
}

func dimString(d *onnxpb.TensorShapeProto_Dimension) string {
	switch v := d.GetValue().(type) {
	case *onnxpb.TensorShapeProto_Dimension_DimValue:
		return strconv.FormatInt(v.DimValue, 10)
	case *onnxpb.TensorShapeProto_Dimension_DimParam:
		return strconv.Quote(v.DimParam)
	}
	return "unknown"
}

// readTensor converts a TensorProto, checking that its data holds exactly
// the elements its dims say (so nothing larger than the file is ever
// allocated).
func readTensor(t *onnxpb.TensorProto) (*constant, error) {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, errors.New("its data is in an external file, which nabla does not read")
	}
	if t.Segment != nil {
		return nil, errors.New("segmented tensors are not supported")
	}
	n := int64(1)
	shape := make([]int, 0, len(t.GetDims()))
	for _, d := range t.GetDims() {
		if d < 0 || d > maxDimValue {
			return nil, fmt.Errorf("dimension %d", d)
		}
		if d > 0 && n > maxElements/d {
			return nil, fmt.Errorf("dims %v: too many elements", t.GetDims())
		}
		n *= d
		shape = append(shape, int(d))
	}
	raw := t.GetRawData()
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	width := map[onnxpb.TensorProto_DataType]int64{onnxpb.TensorProto_FLOAT: 4, onnxpb.TensorProto_DOUBLE: 8,
		onnxpb.TensorProto_FLOAT16: 2, onnxpb.TensorProto_INT64: 8, onnxpb.TensorProto_INT32: 4}[dt]
	if width == 0 {
		return nil, fmt.Errorf("data type %v is not supported (FLOAT, DOUBLE, FLOAT16, INT64, INT32)", dt)
	}
	var have int64
	switch {
	case raw != nil:
		have = int64(len(raw)) / width
		if int64(len(raw))%width != 0 {
			have = -1
		}
	case dt == onnxpb.TensorProto_FLOAT:
		have = int64(len(t.GetFloatData()))
	case dt == onnxpb.TensorProto_DOUBLE:
		have = int64(len(t.GetDoubleData()))
	case dt == onnxpb.TensorProto_INT64:
		have = int64(len(t.GetInt64Data()))
	default: // INT32, FLOAT16 (as bits)
		have = int64(len(t.GetInt32Data()))
	}
	if have != n {
		return nil, fmt.Errorf("dims %v call for %d elements but its data holds %d", t.GetDims(), n, max(have, 0))
	}
	c := &constant{shape: shape}
	switch dt {
	case onnxpb.TensorProto_INT64, onnxpb.TensorProto_INT32:
		c.i = make([]int64, n)
		for k := range c.i {
			switch {
			case raw != nil && width == 8:
				c.i[k] = int64(binary.LittleEndian.Uint64(raw[8*k:]))
			case raw != nil:
				c.i[k] = int64(int32(binary.LittleEndian.Uint32(raw[4*k:])))
			case dt == onnxpb.TensorProto_INT64:
				c.i[k] = t.GetInt64Data()[k]
			default:
				c.i[k] = int64(t.GetInt32Data()[k])
			}
		}
	default:
		c.f = make([]float64, n)
		for k := range c.f {
			switch {
			case dt == onnxpb.TensorProto_FLOAT && raw != nil:
				c.f[k] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:])))
			case dt == onnxpb.TensorProto_FLOAT:
				c.f[k] = float64(t.GetFloatData()[k])
			case dt == onnxpb.TensorProto_DOUBLE && raw != nil:
				c.f[k] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*k:]))
			case dt == onnxpb.TensorProto_DOUBLE:
				c.f[k] = t.GetDoubleData()[k]
			case raw != nil:
				c.f[k] = half(binary.LittleEndian.Uint16(raw[2*k:]))
			default:
				c.f[k] = half(uint16(t.GetInt32Data()[k]))
			}
		}
	}
	return c, nil
}

// half converts IEEE 754 half-precision bits.
func half(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e, m := int(h>>10&0x1f), float64(h&0x3ff)
	switch e {
	case 0:
		return sign * m * math.Pow(2, -24)
	case 31:
		if m == 0 {
			return sign * math.Inf(1)
		}
		return math.NaN()
	}
	return sign * (1 + m/1024) * math.Pow(2, float64(e-15))
}

// checkAcyclic refuses a graph whose nodes cannot be ordered (a cycle).
func (im *importer) checkAcyclic() error {
	nodes := im.g.GetNode()
	indeg := make([]int, len(nodes))
	for i, n := range nodes {
		for _, in := range n.GetInput() {
			if _, ok := im.producer[in]; ok {
				indeg[i]++
			}
		}
	}
	var queue []int
	for i, d := range indeg {
		if d == 0 {
			queue = append(queue, i)
		}
	}
	seen := 0
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		seen++
		for _, o := range nodes[i].GetOutput() {
			for _, u := range im.users[o] {
				indeg[u]--
				if indeg[u] == 0 {
					queue = append(queue, u)
				}
			}
		}
	}
	if seen < len(nodes) {
		var stuck []string
		for i, d := range indeg {
			if d > 0 {
				stuck = append(stuck, nodeName(nodes[i], i))
			}
		}
		return fmt.Errorf("the graph has a cycle through nodes %s", clipList(stuck))
	}
	return nil
}

// foldConstants evaluates the nodes whose inputs are all constants
// (Constant, Transpose of a weight, Identity), in an order that follows
// the graph, and marks them done.
func (im *importer) foldConstants() error {
	nodes := im.g.GetNode()
	for changed := true; changed; {
		changed = false
		for i, n := range nodes {
			if im.done[i] || !im.allConst(n) {
				continue
			}
			c, err := im.fold(n)
			if err != nil {
				return fmt.Errorf("node %s: %v", nodeName(n, i), err)
			}
			if c == nil {
				continue // not foldable here (Shape of the input, …)
			}
			im.consts[n.GetOutput()[0]] = c
			im.done[i] = true
			changed = true
		}
	}
	return nil
}

func (im *importer) allConst(n *onnxpb.NodeProto) bool {
	for _, in := range n.GetInput() {
		if in != "" && im.consts[in] == nil {
			return false
		}
	}
	return true
}

func (im *importer) fold(n *onnxpb.NodeProto) (*constant, error) {
	in := func(k int) *constant {
		if k < len(n.GetInput()) {
			return im.consts[n.GetInput()[k]]
		}
		return nil
	}
	switch n.GetOpType() {
	case "Constant":
		for _, a := range n.GetAttribute() {
			switch a.GetName() {
			case "value":
				if a.GetT() == nil {
					return nil, errors.New("a value attribute without a tensor")
				}
				return readTensor(a.GetT())
			case "value_float":
				return &constant{f: []float64{float64(a.GetF())}}, nil
			case "value_floats":
				return &constant{shape: []int{len(a.GetFloats())}, f: f32to64(a.GetFloats())}, nil
			case "value_int":
				return &constant{i: []int64{a.GetI()}}, nil
			case "value_ints":
				return &constant{shape: []int{len(a.GetInts())}, i: slices.Clone(a.GetInts())}, nil
			}
		}
		return nil, errors.New("a Constant without a value nabla reads")
	case "Identity":
		return in(0), nil
	case "Transpose":
		c := in(0)
		if c == nil || len(c.shape) != 2 || c.isInt() {
			return nil, errors.New("only 2-D float constants are transposed")
		}
		perm, _ := intsAttrOf(n, "perm")
		if perm != nil && !slices.Equal(perm, []int64{1, 0}) {
			return nil, fmt.Errorf("perm %v of a 2-D constant", perm)
		}
		r, k := c.shape[0], c.shape[1]
		out := &constant{shape: []int{k, r}, f: make([]float64, len(c.f))}
		for i := range r {
			for j := range k {
				out.f[j*r+i] = c.f[i*k+j]
			}
		}
		return out, nil
	}
	return nil, nil
}

func f32to64(xs []float32) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// attribute lookups.
func findAttr(n *onnxpb.NodeProto, name string) *onnxpb.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func intAttrOf(n *onnxpb.NodeProto, name string, def int64) int64 {
	if a := findAttr(n, name); a != nil {
		return a.GetI()
	}
	return def
}

func floatAttrOf(n *onnxpb.NodeProto, name string, def float64) float64 {
	if a := findAttr(n, name); a != nil {
		return float64(a.GetF())
	}
	return def
}

func intsAttrOf(n *onnxpb.NodeProto, name string) ([]int64, bool) {
	if a := findAttr(n, name); a != nil {
		return a.GetInts(), true
	}
	return nil, false
}
