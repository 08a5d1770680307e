package onnx

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/onnx/onnxpb"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

// The versions Export writes: IR version 8 and opset 17 of the default
// domain, which ONNX 1.12 (Debian bookworm's python3-onnx) checks and
// PyTorch 1.13's torch.onnx.export writes by default.
const (
	IRVersion = 8
	Opset     = 17
)

// Names of the graph's input and output in exported models.
const (
	InputName  = "input"
	OutputName = "output"
	// ProbsName is the output's name with Options.Softmax.
	ProbsName = "probabilities"
)

// Metadata keys Export writes into the model's metadata_props: the spec
// the graph was made from and the model's Input (without the normaliser,
// which is in the graph), as nabla's own files carry them.
const (
	MetaArch  = train.MetaArch
	MetaInput = train.MetaInput
)

// Options are the choices of Export.
type Options struct {
	// Softmax appends a Softmax over the last axis, so that the graph's
	// output (named "probabilities" rather than "output") gives class
	// probabilities instead of scores.
	Softmax bool
	// Producer is written as the model's producer_version (default:
	// "dev").
	Producer string
}

// Export converts a model read by train.LoadModel into an ONNX model:
// IR version 8, opset 17, a batch dimension left dynamic ("batch"), the
// input normalisation of m.Input (if any) as the first nodes, and node
// names that say which layer each node came from ("3.Linear/Gemm"). A spec
// with layer kinds Export cannot write is an error that lists them all.
func Export(m *train.Model, opt Options) (*onnxpb.ModelProto, error) {
	if m == nil || m.Module == nil {
		return nil, fmt.Errorf("onnx: Export: no model")
	}
	spec := m.Spec
	if spec.Type == "" {
		s, err := nn.SpecOf(m.Module)
		if err != nil {
			return nil, fmt.Errorf("onnx: Export: %v", err)
		}
		spec = s
	}
	return ExportSpec(spec, nn.StateDict(m.Module), m.Input, opt)
}

// ExportSpec is Export for a model given as data: its spec, its state
// dict (parameters and buffers named as nn.StateDict names them) and its
// input (shape, classes and the normaliser, if any).
func ExportSpec(spec nn.Spec, state map[string]*tensor.Tensor, in train.Input, opt Options) (*onnxpb.ModelProto, error) {
	mp, unused, err := export(spec, state, in, opt)
	if err != nil {
		return nil, err
	}
	if len(unused) > 0 {
		return nil, fmt.Errorf("onnx: Export: the state dict has tensors no layer uses: %s", strings.Join(unused, ", "))
	}
	return mp, nil
}

// export is ExportSpec, returning the names of state tensors no layer
// used (sorted) instead of refusing them.
func export(spec nn.Spec, state map[string]*tensor.Tensor, in train.Input, opt Options) (*onnxpb.ModelProto, []string, error) {
	chk := in
	if chk.Classes < 1 {
		chk.Classes = 1 // not needed to export
	}
	if err := chk.Check(); err != nil {
		return nil, nil, fmt.Errorf("onnx: Export: input: %v", err)
	}
	rs, out, err := nn.Resolve(spec, in.Shape)
	if err != nil {
		return nil, nil, fmt.Errorf("onnx: Export: %v", err)
	}
	if missing := unsupportedKinds(rs, ""); len(missing) > 0 {
		return nil, nil, fmt.Errorf("onnx: Export: no ONNX form for %s", strings.Join(missing, ", "))
	}
	elem := onnxpb.TensorProto_FLOAT
	if len(state) > 0 {
		all64 := true
		for _, t := range state {
			all64 = all64 && t.DType() == tensor.Float64
		}
		if all64 {
			elem = onnxpb.TensorProto_DOUBLE
		}
	}
	g := &graph{elem: elem, state: state, used: map[string]bool{}, names: map[string]int{}}
	x := InputName
	if in.Mean != nil {
		x = g.normaliser(x, in)
	}
	x, err = g.layer(rs, "", slices.Clone(in.Shape), x)
	if err != nil {
		return nil, nil, fmt.Errorf("onnx: Export: %v", err)
	}
	outName := OutputName
	if opt.Softmax {
		x = g.node("softmax", "Softmax", []string{x}, intAttr("axis", -1))
		outName = ProbsName
	}
	g.finish(x, outName)
	var unused []string
	for k := range state {
		if !g.used[k] {
			unused = append(unused, k)
		}
	}
	sort.Strings(unused)

	meta := in
	meta.Mean, meta.Std = nil, nil
	archJSON, err := json.Marshal(rs)
	if err != nil {
		return nil, nil, fmt.Errorf("onnx: Export: %v", err)
	}
	inJSON, _ := json.Marshal(meta)
	producer := opt.Producer
	if producer == "" {
		producer = "dev"
	}
	mp := &onnxpb.ModelProto{
		IrVersion:       proto.Int64(IRVersion),
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		ProducerName:    proto.String("nabla"),
		ProducerVersion: proto.String(producer),
		Graph: &onnxpb.GraphProto{
			Name:        proto.String("nabla"),
			Node:        g.nodes,
			Initializer: g.inits,
			Input:       []*onnxpb.ValueInfoProto{valueInfo(InputName, elem, in.Shape)},
			Output:      []*onnxpb.ValueInfoProto{valueInfo(outName, elem, out)},
		},
		MetadataProps: []*onnxpb.StringStringEntryProto{
			{Key: proto.String(MetaArch), Value: proto.String(string(archJSON))},
			{Key: proto.String(MetaInput), Value: proto.String(string(inJSON))},
		},
	}
	return mp, unused, nil
}

// Marshal returns the bytes of an ONNX file holding m. The same model
// gives the same bytes.
func Marshal(m *onnxpb.ModelProto) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("onnx: %v", err)
	}
	return b, nil
}

// layerExport writes the nodes of one layer: l describes it, x is the
// name of its input value; it returns the name of its output value.
type layerExport func(g *graph, l layer, x string) (string, error)

// layer is what a layer's exporter knows: its path ("3", "1.0"), its
// resolved spec and the shapes of one input and one output example
// (without the batch dimension).
type layer struct {
	Path    string
	Spec    nn.Spec
	In, Out []int
}

// name is the prefix of the layer's node names: "3.Linear".
func (l layer) name() string {
	if l.Path == "" {
		return l.Spec.Type
	}
	return l.Path + "." + l.Spec.Type
}

// exporters maps each layer kind to its ONNX form. Container kinds
// (Sequential) are walked by graph.layer and have no entry.
var exporters = map[string]layerExport{
	"Linear":    exportLinear,
	"ReLU":      unary("Relu"),
	"Sigmoid":   unary("Sigmoid"),
	"Tanh":      unary("Tanh"),
	"Softplus":  unary("Softplus"),
	"LeakyReLU": exportLeakyReLU,
	"ELU":       exportELU,
	"GELU":      exportGELU,
	"SiLU":      exportSiLU,
	"Dropout":   func(g *graph, l layer, x string) (string, error) { return x, nil },
	"Flatten":   exportFlatten,
}

// ExportKinds lists the layer kinds Export writes (besides Sequential).
func ExportKinds() []string {
	var ks []string
	for k := range exporters {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// unsupportedKinds lists the layers of s that Export cannot write, as
// "layer 3 (Conv2d)".
func unsupportedKinds(s nn.Spec, path string) []string {
	k, _ := nn.LookupKind(s.Type)
	var out []string
	if k.Container {
		if s.Type != "Sequential" {
			return []string{describeLayer(path, s.Type)}
		}
		for i, c := range s.Layers {
			out = append(out, unsupportedKinds(c, joinPath(path, strconv.Itoa(i)))...)
		}
		return out
	}
	if _, ok := exporters[s.Type]; !ok {
		out = append(out, describeLayer(path, s.Type))
	}
	return out
}

func describeLayer(path, typ string) string {
	if path == "" {
		return "the model (" + typ + ")"
	}
	return "layer " + path + " (" + typ + ")"
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// graph collects the nodes and initialisers of the graph being written.
type graph struct {
	elem  onnxpb.TensorProto_DataType
	state map[string]*tensor.Tensor
	used  map[string]bool // state dict keys written
	nodes []*onnxpb.NodeProto
	inits []*onnxpb.TensorProto
	names map[string]int // node names given, for unique suffixes
}

// layer writes the nodes of s (a Sequential's layers in order) with input
// x and returns the output's name.
func (g *graph) layer(s nn.Spec, path string, in []int, x string) (string, error) {
	if s.Type == "Sequential" {
		cur := in
		for i, c := range s.Layers {
			p := joinPath(path, strconv.Itoa(i))
			_, out, err := nn.Resolve(c, cur)
			if err != nil {
				return "", err
			}
			x, err = g.layer(c, p, cur, x)
			if err != nil {
				return "", err
			}
			cur = out
		}
		return x, nil
	}
	_, out, err := nn.Resolve(s, in)
	if err != nil {
		return "", err
	}
	return exporters[s.Type](g, layer{Path: path, Spec: s, In: in, Out: out}, x)
}

// node appends a node named prefix/op (with a suffix when the name is
// taken) and returns the name of its one output, which is the node's name.
func (g *graph) node(prefix, op string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	name := prefix + "/" + op
	if n := g.names[name]; n > 0 {
		g.names[name] = n + 1
		name += "_" + strconv.Itoa(n)
	} else {
		g.names[name] = 1
	}
	g.nodes = append(g.nodes, &onnxpb.NodeProto{
		Name: proto.String(name), OpType: proto.String(op),
		Input: inputs, Output: []string{name}, Attribute: attrs,
	})
	return name
}

// finish names the graph's output: the last node's output becomes name
// (an Identity node is added when x is not a node's output, for a model
// without nodes).
func (g *graph) finish(x, name string) {
	if n := len(g.nodes); n > 0 && g.nodes[n-1].Output[0] == x {
		g.nodes[n-1].Output[0] = name
		return
	}
	g.node("output", "Identity", []string{x})
	g.nodes[len(g.nodes)-1].Output[0] = name
}

// param adds the state-dict tensor key as an initialiser of that name,
// checking its shape, and returns the name.
func (g *graph) param(key string, shape ...int) (string, error) {
	t, ok := g.state[key]
	if !ok {
		return "", fmt.Errorf("the state dict has no %q", key)
	}
	if !slices.Equal(t.Shape(), shape) {
		return "", fmt.Errorf("%q has shape %v, the layer needs %v", key, t.Shape(), shape)
	}
	g.used[key] = true
	if t.DType() == tensor.Float32 && g.elem == onnxpb.TensorProto_FLOAT {
		// The common case, without a float64 copy of the weights.
		vals := t.Float32s()
		raw := make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
		g.inits = append(g.inits, &onnxpb.TensorProto{Name: proto.String(key), DataType: proto.Int32(int32(g.elem)), Dims: int64s(shape), RawData: raw})
		return key, nil
	}
	g.inits = append(g.inits, g.tensor(key, t.Values(), shape))
	return key, nil
}

// constant adds an initialiser of the graph's float type.
func (g *graph) constant(name string, vals []float64, shape ...int) string {
	g.inits = append(g.inits, g.tensor(name, vals, shape))
	return name
}

// scalar adds a scalar constant named prefix/what.
func (g *graph) scalar(prefix, what string, v float64) string {
	return g.constant(prefix+"/"+what, []float64{v})
}

// tensor converts vals to a TensorProto of the graph's float type, with
// raw little-endian data.
func (g *graph) tensor(name string, vals []float64, shape []int) *onnxpb.TensorProto {
	var raw []byte
	if g.elem == onnxpb.TensorProto_DOUBLE {
		raw = make([]byte, 8*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(v))
		}
	} else {
		raw = make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(v)))
		}
	}
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(g.elem)), Dims: int64s(shape), RawData: raw}
}

// int64Constant adds an INT64 initialiser (a Reshape's shape).
func (g *graph) int64Constant(name string, vals []int64) string {
	raw := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	g.inits = append(g.inits, &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)),
		Dims: []int64{int64(len(vals))}, RawData: raw})
	return name
}

// normaliser writes x' = (x − mean) / std, with mean and std shaped like
// one example, so that they broadcast over the batch.
func (g *graph) normaliser(x string, in train.Input) string {
	mean := g.constant("input/mean", in.Mean, in.Shape...)
	std := g.constant("input/std", in.Std, in.Shape...)
	x = g.node("input", "Sub", []string{x, mean})
	return g.node("input", "Div", []string{x, std})
}

func int64s(xs []int) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}

func valueInfo(name string, elem onnxpb.TensorProto_DataType, example []int) *onnxpb.ValueInfoProto {
	dims := []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}}}
	for _, d := range example {
		dims = append(dims, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(elem)),
			Shape:    &onnxpb.TensorShapeProto{Dim: dims},
		}}},
	}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func floatAttr(name string, v float64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(float32(v))}
}

func intsAttr(name string, vs ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: vs}
}

func unary(op string) layerExport {
	return func(g *graph, l layer, x string) (string, error) {
		return g.node(l.name(), op, []string{x}), nil
	}
}

// exportLinear writes y = x·Wᵀ + b: one Gemm (transB) for inputs of one
// feature dimension, else MatMul with the transposed weight, and Add.
func exportLinear(g *graph, l layer, x string) (string, error) {
	in, out := l.Spec.Int("in"), l.Spec.Int("out")
	w, err := g.param(joinPath(l.Path, "weight"), out, in)
	if err != nil {
		return "", err
	}
	var b string
	if l.Spec.Bool("bias") {
		if b, err = g.param(joinPath(l.Path, "bias"), out); err != nil {
			return "", err
		}
	}
	if len(l.In) == 1 {
		inputs := []string{x, w}
		if b != "" {
			inputs = append(inputs, b)
		}
		return g.node(l.name(), "Gemm", inputs, floatAttr("alpha", 1), floatAttr("beta", 1), intAttr("transB", 1)), nil
	}
	wt := g.node(l.name(), "Transpose", []string{w}, intsAttr("perm", 1, 0))
	y := g.node(l.name(), "MatMul", []string{x, wt})
	if b != "" {
		y = g.node(l.name(), "Add", []string{y, b})
	}
	return y, nil
}

func exportLeakyReLU(g *graph, l layer, x string) (string, error) {
	return g.node(l.name(), "LeakyRelu", []string{x}, floatAttr("alpha", l.Spec.Float("negative_slope"))), nil
}

func exportELU(g *graph, l layer, x string) (string, error) {
	return g.node(l.name(), "Elu", []string{x}, floatAttr("alpha", l.Spec.Float("alpha"))), nil
}

// exportSiLU writes x·σ(x) (opset 17 has no SiLU op).
func exportSiLU(g *graph, l layer, x string) (string, error) {
	s := g.node(l.name(), "Sigmoid", []string{x})
	return g.node(l.name(), "Mul", []string{x, s}), nil
}

// exportGELU composes GELU, which opset 17 lacks (Gelu arrives in opset
// 20): the exact form x·(1 + erf(x/√2))·0.5 as PyTorch 1.13 writes it, or
// the tanh form 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
func exportGELU(g *graph, l layer, x string) (string, error) {
	p := l.name()
	if l.Spec.Str("approximate") == "tanh" {
		cube := g.node(p, "Pow", []string{x, g.scalar(p, "three", 3)})
		inner := g.node(p, "Mul", []string{cube, g.scalar(p, "kappa", 0.044715)})
		inner = g.node(p, "Add", []string{x, inner})
		inner = g.node(p, "Mul", []string{inner, g.scalar(p, "beta", math.Sqrt(2/math.Pi))})
		t := g.node(p, "Tanh", []string{inner})
		t = g.node(p, "Add", []string{t, g.scalar(p, "one", 1)})
		y := g.node(p, "Mul", []string{x, t})
		return g.node(p, "Mul", []string{y, g.scalar(p, "half", 0.5)}), nil
	}
	d := g.node(p, "Div", []string{x, g.scalar(p, "sqrt2", math.Sqrt2)})
	e := g.node(p, "Erf", []string{d})
	e = g.node(p, "Add", []string{e, g.scalar(p, "one", 1)})
	y := g.node(p, "Mul", []string{x, e})
	return g.node(p, "Mul", []string{y, g.scalar(p, "half", 0.5)}), nil
}

// exportFlatten writes ONNX's Flatten (axis 1) when every dimension after
// the batch is merged, else a Reshape to the static output shape with the
// batch dimension copied (0).
func exportFlatten(g *graph, l layer, x string) (string, error) {
	if slices.Equal(l.In, l.Out) {
		return x, nil
	}
	if len(l.Out) == 1 {
		return g.node(l.name(), "Flatten", []string{x}, intAttr("axis", 1)), nil
	}
	shape := append([]int64{0}, int64s(l.Out)...)
	s := g.int64Constant(l.name()+"/shape", shape)
	return g.node(l.name(), "Reshape", []string{x, s}), nil
}
