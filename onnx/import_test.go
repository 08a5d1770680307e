package onnx

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/onnx/onnxpb"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// leaves lists the layers of s in order, Sequentials opened and Dropout
// (which Export drops) left out.
func leaves(s nn.Spec) []nn.Spec {
	if s.Type == "Sequential" {
		var out []nn.Spec
		for _, l := range s.Layers {
			out = append(out, leaves(l)...)
		}
		return out
	}
	if s.Type == "Dropout" || s.Type == "Dropout2d" {
		return nil
	}
	return []nn.Spec{s}
}

// TestImportRoundTrip exports every reference case and imports the bytes
// twice: as written, where the spec nabla records restores the model
// exactly (Dropout layers, nesting, state dict names); and without that
// metadata, where the graph alone gives the layers (Sequentials opened,
// Dropout dropped, and the changes exportCase.imported lists). Both give
// the original model's input and outputs.
func TestImportRoundTrip(t *testing.T) {
	for _, c := range exportCases {
		for _, withMeta := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/metadata=%v", c.name, withMeta), func(t *testing.T) {
				m, x := buildCase(t, c)
				mp, err := Export(m, Options{Softmax: c.softmax})
				if err != nil {
					t.Fatal(err)
				}
				if !withMeta {
					mp.MetadataProps = nil
				}
				b, err := Marshal(mp)
				if err != nil {
					t.Fatal(err)
				}
				im, err := Import(b)
				if err != nil {
					t.Fatal(err)
				}
				if withMeta {
					if !nn.Equal(im.Spec, m.Spec) {
						t.Fatalf("imported %s, exported %s", im.Spec.Text(), m.Spec.Text())
					}
					want := slices.Sorted(maps.Keys(nn.StateDict(m.Module)))
					if got := slices.Sorted(maps.Keys(im.State)); !slices.Equal(got, want) {
						t.Fatalf("state dict keys %v, want %v", got, want)
					}
				} else {
					wantSpec := m.Spec
					if c.imported != "" {
						ws, err := nn.ParseSpec(c.imported)
						if err != nil {
							t.Fatal(err)
						}
						if wantSpec, _, err = nn.Resolve(ws, c.shape); err != nil {
							t.Fatal(err)
						}
					}
					got, want := leaves(im.Spec), leaves(wantSpec)
					if len(got) != len(want) {
						t.Fatalf("imported %s, want %s", im.Spec.Text(), wantSpec.Text())
					}
					for i := range got {
						if !nn.Equal(got[i], want[i]) {
							t.Fatalf("layer %d: imported %s, want %s", i, got[i].Text(), want[i].Text())
						}
					}
				}
				if im.DType != c.dtype {
					t.Errorf("dtype %v, want %v", im.DType, c.dtype)
				}
				if wantOp := map[bool]string{true: "Softmax"}[c.softmax]; im.FinalOp != wantOp {
					t.Errorf("FinalOp %q, want %q", im.FinalOp, wantOp)
				}
				if !slices.Equal(im.Input.Shape, m.Input.Shape) || im.Input.Classes != m.Input.Classes {
					t.Errorf("input %v with %d classes, want %v with %d", im.Input.Shape, im.Input.Classes, m.Input.Shape, m.Input.Classes)
				}
				if (im.Input.Mean == nil) != (m.Input.Mean == nil) {
					t.Fatalf("normaliser imported: %v, exported: %v", im.Input.Mean != nil, m.Input.Mean != nil)
				}
				if i, ok := closeTo(im.Input.Mean, m.Input.Mean, 1e-6); !ok {
					t.Errorf("mean %d: %v, want %v", i, im.Input.Mean, m.Input.Mean)
				}
				if i, ok := closeTo(im.Input.Std, m.Input.Std, 1e-6); !ok {
					t.Errorf("std %d: %v, want %v", i, im.Input.Std, m.Input.Std)
				}
				back, err := im.Model()
				if err != nil {
					t.Fatal(err)
				}
				y0, y1 := forward(m, x), forward(back, x)
				if !slices.Equal(y0.Shape(), y1.Shape()) {
					t.Fatalf("output shape %v, want %v", y1.Shape(), y0.Shape())
				}
				if i, ok := closeTo(y1.Values(), y0.Values(), 1e-5); !ok {
					t.Fatalf("output %d: %v, want %v", i, y1.Values()[i], y0.Values()[i])
				}
			})
		}
	}
}

// TestImportIgnoresLyingArch: a recorded spec that does not compute what
// the graph does (here a Conv2d without the graph's padding, with weights
// of the same shape) is passed over for the graph's.
func TestImportIgnoresLyingArch(t *testing.T) {
	c := exportCases[slices.IndexFunc(exportCases, func(c exportCase) bool { return c.name == "cnn" })]
	m, _ := buildCase(t, c)
	mp, err := Export(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	lying := strings.Replace(c.arch, "conv(4, 3, pad=1)", "conv(4, 3, pad=0)", 1)
	ls, err := nn.ParseSpec(lying)
	if err != nil || lying == c.arch {
		t.Fatalf("%v %q", err, lying)
	}
	js, err := json.Marshal(ls)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range mp.MetadataProps {
		if p.GetKey() == MetaArch {
			p.Value = proto.String(string(js))
		}
	}
	b, err := Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	im, err := Import(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := im.Spec.Layers[0]; got.Int("pad") != 1 {
		t.Fatalf("the first layer imported as %s; the graph pads by 1", got.Text())
	}

	// A recorded spec whose shapes would blow up is not even resolved.
	m, _ = buildCase(t, exportCase{arch: "convt(1, 1, stride=2)-maxpool(2)-flatten", shape: []int{1, 4, 4}, dtype: tensor.Float32})
	if mp, err = Export(m, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range mp.MetadataProps {
		if p.GetKey() == MetaArch {
			p.Value = proto.String(strings.Replace(p.GetValue(), `"stride":2`, `"stride":60000`, 1))
		}
	}
	if b, err = Marshal(mp); err != nil {
		t.Fatal(err)
	}
	if im, err = Import(b); err != nil {
		t.Fatal(err)
	}
	if got := im.Spec.Layers[0]; got.Int("stride") != 2 {
		t.Fatalf("the first layer imported as %s; the graph's stride is 2", got.Text())
	}
}

// torchSpecs are the nabla specs the PyTorch reference models import as.
var torchSpecs = map[string]string{
	"mlp_relu":            "linear(16)-relu-linear(16)-relu-linear(4)",
	"mlp_activations":     "linear(7)-leakyrelu(0.2)-linear(7)-sigmoid-linear(7)-tanh-linear(7)-elu(0.7)-linear(7)-gelu-linear(7)-gelu(approximate=tanh)-linear(7)-silu-linear(7)-softplus-linear(3)",
	"mlp_dropout_nobias":  "linear(8)-relu-linear(3, bias=false)",
	"mlp_image":           "flatten-linear(12)-relu-linear(10)",
	"flatten_partial":     "flatten(start_dim=2)-linear(5)-gelu-flatten-linear(3)",
	"cnn":                 "conv(4, 3, pad=1)-relu-maxpool(2)-conv(8, 3, stride=2, groups=2, bias=false)-gelu-adaptiveavgpool(1)-flatten-linear(3)",
	"cnn_norms":           "conv(4, 3)-groupnorm(2)-silu-avgpool(2, pad=1)-convt(2, 3, stride=2, pad=1, output_padding=1)-layernorm(dims=3)-flatten-linear(8)-batchnorm1d-leakyrelu(0.1)-linear(3)",
	"cnn_dilated_softmax": "conv(2, 3, pad=2, dilation=2)-tanh-flatten-linear(3)",
	"cnn_pool":            "maxpool(3, 2, 1, ceil_mode=true)-avgpool(3, 1, 1, count_include_pad=false)-avgpool(3)-batchnorm2d-flatten-linear(3)",
}

// torchFinalOps are the final ops Import takes off the PyTorch models.
var torchFinalOps = map[string]string{"cnn_dilated_softmax": "Softmax"}

// TestImportTorch imports the models PyTorch 1.13's torch.onnx.export
// wrote (testdata/onnx/torch, made by check.py) and compares nabla's
// outputs with torch's on the same inputs, to 1e-5.
func TestImportTorch(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(refDir, "torch", "*.onnx"))
	if len(files) < len(torchSpecs) {
		t.Fatalf("%d PyTorch files in %s/torch, want %d: run testdata/onnx/check.py", len(files), refDir, len(torchSpecs))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".onnx")
		t.Run(name, func(t *testing.T) {
			var c caseFile
			readJSON(t, strings.TrimSuffix(f, ".onnx")+".json", &c)
			im, err := ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := im.Model()
			if err != nil {
				t.Fatal(err)
			}
			if want, ok := torchSpecs[name]; !ok {
				t.Errorf("no expected spec for %s in torchSpecs", name)
			} else if ws, err := nn.ParseSpec(want); err != nil {
				t.Fatal(err)
			} else if ws, _, err = nn.Resolve(ws, c.InputShape[1:]); err != nil {
				t.Fatal(err)
			} else if !nn.Equal(ws, m.Spec) {
				t.Errorf("imported %s, want %s", m.Spec.Text(), ws.Text())
			}
			x := tensor.FromValues(tensor.Float32, c.Input, c.InputShape...)
			y := forward(m, x)
			if !slices.Equal(y.Shape(), c.OutputShape) {
				t.Fatalf("output shape %v, torch's %v", y.Shape(), c.OutputShape)
			}
			got := y.Values()
			if im.FinalOp == "Softmax" {
				got = softmaxRows(got, y.Shape()[len(y.Shape())-1])
			}
			if wantOp := torchFinalOps[name]; im.FinalOp != wantOp {
				t.Errorf("FinalOp %q, want %q", im.FinalOp, wantOp)
			}
			if i, ok := closeTo(got, c.Torch, 1e-5); !ok {
				t.Fatalf("output %d: %v, torch gives %v", i, got[i], c.Torch[i])
			}
		})
	}
}

// fuzzSeeds are small ONNX files for the fuzzer to start from: exports of
// tiny models (a normaliser, a composed GELU, a Reshape, a softmax) and
// PyTorch's smallest file. Small seeds keep each run, and the fuzzer's
// minimisation of what it finds, fast.
func fuzzSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, c := range []exportCase{
		{arch: "linear(2)-relu-linear(2)", shape: []int{2}, norm: true, dtype: tensor.Float32},
		{arch: "linear(2)-gelu-silu", shape: []int{2}, softmax: true, dtype: tensor.Float32},
		{arch: "flatten(start_dim=2)-linear(2, bias=false)-flatten", shape: []int{1, 2, 2}, dtype: tensor.Float64},
		{arch: "conv(2, 2, pad=1)-batchnorm2d-groupnorm(2)-avgpool(2)-layernorm(dims=3)-maxpool(2, ceil_mode=true)-adaptiveavgpool(1)", shape: []int{1, 3, 3}, dtype: tensor.Float32},
	} {
		m, _ := buildCase(t, c)
		mp, err := Export(m, Options{Softmax: c.softmax})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Marshal(mp)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	b, err := os.ReadFile(filepath.Join(refDir, "torch", "mlp_dropout_nobias.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return append(out, b)
}

// FuzzImport feeds the reader arbitrary bytes, starting from small valid
// files: it must return a one-line error or a model that builds, never
// panic.
func FuzzImport(f *testing.F) {
	for _, b := range fuzzSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := Import(b)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("a multi-line error: %q", err)
			}
			return
		}
		if _, err := im.Model(); err != nil {
			t.Fatalf("Import accepted a model that does not build: %v", err)
		}
	})
}

// TestImportGeluOp reads opset 20's Gelu op, both forms.
func TestImportGeluOp(t *testing.T) {
	for _, approx := range []string{"", "none", "tanh"} {
		m := baseModel(t) // normaliser, Gemm, Relu, Gemm
		m.OpsetImport[0].Version = proto.Int64(20)
		m.MetadataProps = nil
		relu := m.Graph.Node[3]
		relu.OpType = proto.String("Gelu")
		if approx != "" {
			relu.Attribute = []*onnxpb.AttributeProto{{Name: proto.String("approximate"), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(approx)}}
		}
		b, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		im, err := Import(b)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"": "none", "none": "none", "tanh": "tanh"}[approx]
		if l := im.Spec.Layers[1]; l.Type != "GELU" || l.Str("approximate") != want {
			t.Errorf("approximate=%q: imported %s", approx, im.Spec.Text())
		}
	}
}

// TestImportedModelTrains: a model PyTorch exported (with a BatchNorm1d
// and a LayerNorm) trains further in nabla: every parameter gets a
// gradient and a few SGD steps lower the loss on a fixed batch.
func TestImportedModelTrains(t *testing.T) {
	m, err := LoadModel(filepath.Join(refDir, "torch", "cnn_norms.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var c caseFile
	readJSON(t, filepath.Join(refDir, "torch", "cnn_norms.json"), &c)
	x := ag.Const(tensor.FromValues(tensor.Float32, c.Input, c.InputShape...))
	labels := []int{0, 2}
	var params []*ag.Node
	for _, p := range m.Module.Params() {
		params = append(params, p.Node)
	}
	opt := optim.NewSGD(params, optim.SGDConfig{LR: 0.05})
	nn.SetTraining(m.Module, false) // BatchNorm on its running statistics: a batch of two
	var first, last float64
	for step := range 10 {
		opt.ZeroGrad()
		l := loss.CrossEntropy(m.Module.Forward(x), labels, 0)
		ag.Backward(l)
		if step == 0 {
			first = l.Value().Item()
			for _, p := range m.Module.Params() {
				if p.Node.Grad() == nil {
					t.Fatalf("parameter %s has no gradient", p.Name)
				}
			}
		}
		last = l.Value().Item()
		opt.Step()
	}
	if !(last < first) {
		t.Fatalf("the loss went from %v to %v in 10 steps", first, last)
	}
}
