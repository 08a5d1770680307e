package onnx

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/nabla-go/nabla/onnx/onnxpb"
	"github.com/nabla-go/nabla/tensor"
)

// baseModel is a valid export to break: normaliser, Gemm, Relu, Gemm.
func baseModel(t *testing.T) *onnxpb.ModelProto {
	t.Helper()
	m, _ := buildCase(t, exportCase{arch: "linear(4)-relu-linear(3)", shape: []int{2}, norm: true, dtype: tensor.Float32})
	mp, err := Export(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

// cnnModel is a valid export whose first layer can be made to blow up
// the shapes after it.
func cnnModel(t *testing.T) *onnxpb.ModelProto {
	t.Helper()
	m, _ := buildCase(t, exportCase{arch: "convt(1, 1, stride=2)-maxpool(2)-flatten", shape: []int{1, 4, 4}, dtype: tensor.Float32})
	mp, err := Export(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

func nested(depth int) *onnxpb.TypeProto {
	tp := &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(1)}}}
	for range depth {
		tp = &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{SequenceType: &onnxpb.TypeProto_Sequence{ElemType: tp}}}
	}
	return tp
}

// TestImportMalformed checks that malformed and hostile files give a
// one-line error naming the fault, not a panic or a large allocation.
func TestImportMalformed(t *testing.T) {
	valid, err := Marshal(baseModel(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Import(valid); err != nil {
		t.Fatalf("the base model does not import: %v", err)
	}
	// A graph of two million empty nodes: 4 MB on the wire, hundreds of MB
	// decoded.
	var many bytes.Buffer
	for range 2_000_000 {
		many.WriteString("\x0a\x00")
	}
	manyNodes := append([]byte{0x3a}, append(varint(uint64(many.Len())), many.Bytes()...)...)

	raw := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "imports no version of the default ONNX operator set"},
		{"text", []byte("this is not an ONNX file\n"), "not a valid ONNX file"},
		{"truncated", valid[:len(valid)/2], "not a valid ONNX file"},
		{"many small messages", manyNodes, "too much memory"},
	}
	for _, c := range raw {
		t.Run(c.name, func(t *testing.T) { expectError(t, c.b, c.want) })
	}

	edits := []struct {
		name string
		edit func(m *onnxpb.ModelProto)
		want string
	}{
		{"deep nesting", func(m *onnxpb.ModelProto) { m.Graph.Input[0].Type = nested(100) }, "nested deeper"},
		{"unsupported ops listed together", func(m *onnxpb.ModelProto) {
			m.Graph.Node[2].OpType = proto.String("Foo")
			m.Graph.Node[3].OpType = proto.String("Bar")
			m.Graph.Node[4].Domain = proto.String("com.example")
		}, `unsupported ops: Bar ("1.ReLU/Relu"), Foo ("0.Linear/Gemm"), com.example.Gemm ("2.Linear/Gemm")`},
		{"cycle", func(m *onnxpb.ModelProto) {
			m.Graph.Node[2].Input[0] = m.Graph.Node[3].Output[0]
		}, "cycle"},
		{"missing initialiser", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer = m.Graph.Initializer[:2]
		}, "missing initialiser"},
		{"huge dims", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[2].Dims = []int64{1 << 30, 1 << 30, 1 << 30}
		}, "too many elements"},
		{"dims the data lacks", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[2].Dims = []int64{1 << 20, 4}
		}, "call for 4194304 elements but its data holds 8"},
		{"negative dim", func(m *onnxpb.ModelProto) { m.Graph.Initializer[2].Dims = []int64{-4, -2} }, "dimension -4"},
		{"huge input", func(m *onnxpb.ModelProto) {
			m.Graph.Input[0].Type.GetTensorType().Shape.Dim[1].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1 << 40}
		}, "nabla needs fixed sizes after the batch"},
		{"symbolic example dimension", func(m *onnxpb.ModelProto) {
			m.Graph.Input[0].Type.GetTensorType().Shape.Dim[1].Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "n"}
		}, `dimension 1 is "n"`},
		{"external data", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[2].DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		}, "external file"},
		{"no opset", func(m *onnxpb.ModelProto) { m.OpsetImport = nil }, "operator set"},
		{"future opset", func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = proto.Int64(30) }, "operator set version 30"},
		{"value produced twice", func(m *onnxpb.ModelProto) { m.Graph.Node[3].Output[0] = m.Graph.Node[2].Output[0] }, "produced twice"},
		{"two inputs", func(m *onnxpb.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, proto.Clone(m.Graph.Input[0]).(*onnxpb.ValueInfoProto))
			m.Graph.Input[1].Name = proto.String("second")
		}, "2 inputs"},
		{"skip connection", func(m *onnxpb.ModelProto) {
			// output = Gemm(...) + the first layer's output: a branch.
			last := m.Graph.Node[len(m.Graph.Node)-1]
			last.Output[0] = "pre"
			m.Graph.Node = append(m.Graph.Node, &onnxpb.NodeProto{OpType: proto.String("Add"), Name: proto.String("skip"),
				Input: []string{"pre", m.Graph.Node[2].Output[0]}, Output: []string{"output"}})
		}, "no nabla activation"},
		{"weight of the wrong size", func(m *onnxpb.ModelProto) {
			m.Graph.Node[4].Input[1] = m.Graph.Node[2].Input[1]
			m.Graph.Node[4].Input[2] = m.Graph.Node[2].Input[2]
		}, "a weight of 2 inputs for an input of shape [4]"},
		{"bias of the wrong size", func(m *onnxpb.ModelProto) {
			m.Graph.Node[4].Input[2] = m.Graph.Node[2].Input[2]
		}, "bias: shape [4] for 3 outputs"},
		{"zero std", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[1].RawData = make([]byte, 8)
		}, "is not usable"},
		{"node without output", func(m *onnxpb.ModelProto) { m.Graph.Node[3].Output = nil }, "has no output"},
		{"cnn: example too large", func(m *onnxpb.ModelProto) {
			m.Graph.Input[0].Type.GetTensorType().Shape.Dim[2].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1 << 13}
			m.Graph.Input[0].Type.GetTensorType().Shape.Dim[3].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1 << 13}
		}, "examples of more than 33554432 values"},
		{"cnn: a layer output too large", func(m *onnxpb.ModelProto) {
			for _, a := range m.Graph.Node[0].Attribute {
				if a.GetName() == "strides" {
					a.Ints = []int64{60000, 60000}
				}
			}
		}, "layer 0 (ConvTranspose2d): examples of shape [1 180001 180001]: more than 33554432 values"},
		{"metadata lying about the input", func(m *onnxpb.ModelProto) {
			m.MetadataProps[1].Value = proto.String(`{"shape":[5],"classes":3}`)
		}, "the graph's is [2]"},
	}
	for _, c := range edits {
		t.Run(c.name, func(t *testing.T) {
			m := baseModel(t)
			if strings.HasPrefix(c.name, "cnn:") {
				m = cnnModel(t)
			}
			c.edit(m)
			b, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			expectError(t, b, c.want)
		})
	}
}

func expectError(t *testing.T, b []byte, want string) {
	t.Helper()
	im, err := Import(b)
	if err == nil {
		t.Fatalf("imported %v; want an error containing %q", im.Spec.Text(), want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q; want it to contain %q", err, want)
	}
	if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "onnx: ") {
		t.Fatalf("error %q is not one line starting with \"onnx: \"", err)
	}
}

func varint(v uint64) []byte {
	var out []byte
	for v >= 0x80 {
		out = append(out, byte(v)|0x80)
		v >>= 7
	}
	return append(out, byte(v))
}
