package onnx

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

var update = flag.Bool("update", false, "rewrite testdata/onnx/nabla/*.onnx and *.json from the current code (then run testdata/onnx/check.py)")

const refDir = "../testdata/onnx"

// exportCase is a model the reference files hold: exported by Go, checked
// by check.py (ONNX checker, shape inference, numpy evaluator).
type exportCase struct {
	name    string
	arch    string // the spec, text or JSON form
	shape   []int  // one example's shape
	norm    bool   // with a normaliser
	softmax bool
	dtype   tensor.DType
	// imported is the spec Import gives back, where the ONNX form loses
	// a distinction (padding "same" written as pads, an AdaptiveAvgPool2d
	// as an AveragePool, constant ones and zeros for a layer without
	// affine parameters); empty: the layers of arch without Dropout.
	imported string
}

// exportCases cover every layer kind Export writes, with and without a
// normaliser, softmax, both dtypes, nested Sequentials and both forms of
// Linear (Gemm for one feature dimension, MatMul above) and Flatten
// (Flatten, Reshape).
var exportCases = []exportCase{
	{name: "mlp_relu", arch: "linear(16)-relu-linear(4)", shape: []int{6}, norm: true, dtype: tensor.Float32},
	{name: "activations", arch: "linear(7)-leakyrelu(0.2)-linear(7)-sigmoid-linear(7)-tanh-linear(7)-elu(0.7)-linear(7)-gelu-linear(7)-gelu(approximate=tanh)-linear(7)-silu-linear(7)-softplus-dropout(0.3)-linear(3)", shape: []int{5}, dtype: tensor.Float32},
	{name: "image_softmax", arch: "flatten-linear(12)-relu-linear(10)", shape: []int{1, 4, 4}, norm: true, softmax: true, dtype: tensor.Float32},
	{name: "flatten_partial", arch: "flatten(start_dim=2)-linear(5)-gelu-flatten-linear(3, bias=false)", shape: []int{2, 3, 4}, dtype: tensor.Float32},
	{name: "nested", arch: `{"type":"Sequential","layers":[{"type":"Sequential","layers":[{"type":"Linear","out":8},{"type":"Tanh"}]},{"type":"Dropout","p":0.1},{"type":"Linear","out":3,"bias":false}]}`, shape: []int{4}, dtype: tensor.Float32},
	{name: "mlp_float64", arch: "linear(9)-elu-linear(9)-softplus-linear(2)", shape: []int{3}, norm: true, dtype: tensor.Float64},
	{name: "cnn", arch: "conv(4, 3, pad=1)-batchnorm2d-relu-maxpool(2)-conv(6, 3, stride=2, groups=2, bias=false)-gelu-adaptiveavgpool(1)-flatten-linear(3)",
		shape: []int{2, 10, 10}, norm: true, dtype: tensor.Float32},
	{name: "cnn_norms", arch: "conv(4, 3, same=true, dilation=2)-groupnorm(2)-silu-avgpool(2, pad=1)-convt(2, 3, stride=2, pad=1, output_padding=1)-layernorm(dims=3)-dropout2d(0.2)-flatten-linear(8)-batchnorm1d-leakyrelu(0.1)-linear(3)",
		shape: []int{2, 8, 8}, dtype: tensor.Float32,
		imported: "conv(4, 3, pad=2, dilation=2)-groupnorm(2)-silu-avgpool(2, pad=1)-convt(2, 3, stride=2, pad=1, output_padding=1)-layernorm(dims=3)-flatten-linear(8)-batchnorm1d-leakyrelu(0.1)-linear(3)"},
	{name: "cnn_more", arch: "conv(4, 4, same=true)-maxpool(3, 2, dilation=2)-convt(4, 2, stride=2, groups=2)-flatten(start_dim=2)-batchnorm1d-linear(3)-layernorm-flatten-linear(2)",
		shape: []int{2, 9, 9}, norm: true, dtype: tensor.Float32},
	{name: "cnn_pool", arch: "maxpool(3, 2, 1, ceil_mode=true)-avgpool(3, 1, 1, count_include_pad=false)-adaptiveavgpool(2)-batchnorm2d(affine=false)-groupnorm(1, affine=false)-layernorm(affine=false)-flatten-linear(3)",
		shape: []int{3, 10, 10}, dtype: tensor.Float64,
		imported: "maxpool(3, 2, 1, ceil_mode=true)-avgpool(3, 1, 1, count_include_pad=false)-avgpool(3)-batchnorm2d-groupnorm(1, affine=false)-layernorm-flatten-linear(3)"},
}

// buildCase returns the case's model with seeded weights, and a fixed
// batch of inputs.
func buildCase(t testing.TB, c exportCase) (*train.Model, *tensor.Tensor) {
	t.Helper()
	spec, err := nn.ParseSpec(c.arch)
	if err != nil {
		t.Fatal(err)
	}
	spec, out, err := nn.Resolve(spec, c.shape)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build(spec, c.dtype, tensor.NewRand(7))
	if err != nil {
		t.Fatal(err)
	}
	perturbNorms(m)
	in := train.Input{Shape: c.shape, Classes: out[len(out)-1]}
	n := in.Features()
	rng := tensor.NewRand(11)
	if c.norm {
		for range n {
			in.Mean = append(in.Mean, rng.NormFloat64())
			in.Std = append(in.Std, 0.5+rng.Float64())
		}
	}
	const batch = 3
	vals := make([]float64, batch*n)
	for i := range vals {
		vals[i] = 2 * rng.NormFloat64()
	}
	x := tensor.FromValues(c.dtype, vals, append([]int{batch}, c.shape...)...)
	return &train.Model{Module: m, Spec: spec, Input: in, HasInput: true}, x
}

// perturbNorms gives the normalisation layers' parameters and running
// statistics values other than their initial ones and zeros, so that the
// reference outputs depend on them.
func perturbNorms(m nn.Module) {
	rng := tensor.NewRand(3)
	sd := nn.StateDict(m)
	names := slices.Sorted(maps.Keys(sd))
	for _, name := range names {
		t := sd[name]
		vals := t.Values()
		all := func(v float64) bool { return !slices.ContainsFunc(vals, func(x float64) bool { return x != v }) }
		switch {
		case strings.HasSuffix(name, "num_batches_tracked"):
			continue
		case strings.HasSuffix(name, "running_var"):
			for i := range vals {
				vals[i] = 0.5 + rng.Float64()
			}
		case strings.HasSuffix(name, "running_mean"), all(0):
			for i := range vals {
				vals[i] = 0.3 * rng.NormFloat64()
			}
		case all(1):
			for i := range vals {
				vals[i] = 1 + 0.3*rng.NormFloat64()
			}
		default:
			continue
		}
		t.CopyFrom(tensor.FromValues(t.DType(), vals, t.Shape()...))
	}
}

// forward runs m on raw inputs x as nabla does in evaluation: standardised
// first (as data.Normalizer does) when the model has a normaliser.
func forward(m *train.Model, x *tensor.Tensor) *tensor.Tensor {
	vals := x.Values()
	if m.Input.Mean != nil {
		n := m.Input.Features()
		for k, v := range vals {
			j := k % n
			f := (v - m.Input.Mean[j]) / m.Input.Std[j]
			if x.DType() == tensor.Float32 {
				f = float64(float32(f))
			}
			vals[k] = f
		}
	}
	in := tensor.FromValues(x.DType(), vals, x.Shape()...)
	nn.SetTraining(m.Module, false)
	return m.Module.Forward(ag.Untracked(in)).Value()
}

type caseFile struct {
	InputShape  []int     `json:"input_shape"`
	Input       []float64 `json:"input"`
	OutputShape []int     `json:"output_shape"`
	Nabla       []float64 `json:"nabla,omitempty"`
	Torch       []float64 `json:"torch,omitempty"`
}

type refFile struct {
	SHA256      string    `json:"sha256"`
	OutputShape []int     `json:"output_shape"`
	Numpy       []float64 `json:"numpy"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./onnx -run TestExportReference -update, then /usr/bin/python3 testdata/onnx/check.py)", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// close reports whether got is within 1e-5 + 1e-5·|want| of want
// everywhere, and the worst index.
func closeTo(got, want []float64, tol float64) (int, bool) {
	if len(got) != len(want) {
		return -1, false
	}
	for i := range got {
		if !(math.Abs(got[i]-want[i]) <= tol+tol*math.Abs(want[i])) {
			return i, false
		}
	}
	return 0, true
}

// TestExportReference exports every case and checks the bytes against the
// committed file that check.py checked (its SHA-256 is in the .ref.json),
// and nabla's outputs against the numpy evaluator's outputs on that file
// to 1e-5.
func TestExportReference(t *testing.T) {
	for _, c := range exportCases {
		t.Run(c.name, func(t *testing.T) {
			m, x := buildCase(t, c)
			mp, err := Export(m, Options{Softmax: c.softmax})
			if err != nil {
				t.Fatal(err)
			}
			b, err := Marshal(mp)
			if err != nil {
				t.Fatal(err)
			}
			y := forward(m, x)
			want := y.Values()
			if c.softmax {
				want = softmaxRows(want, y.Shape()[len(y.Shape())-1])
			}
			base := filepath.Join(refDir, "nabla", c.name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
					t.Fatal(err)
				}
				js, _ := json.Marshal(caseFile{InputShape: x.Shape(), Input: x.Values(), OutputShape: y.Shape(), Nabla: want})
				if err := os.WriteFile(base+".onnx", b, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(base+".json", append(js, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			committed, err := os.ReadFile(base + ".onnx")
			if err != nil {
				t.Fatalf("%v (run with -update, then check.py)", err)
			}
			if !bytes.Equal(committed, b) {
				t.Fatalf("the export of %s differs from %s.onnx, which check.py checked: rerun with -update and run testdata/onnx/check.py", c.name, base)
			}
			var ref refFile
			readJSON(t, base+".ref.json", &ref)
			sum := sha256.Sum256(b)
			if ref.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("%s.ref.json was written for another file than %s.onnx: run testdata/onnx/check.py", base, base)
			}
			if !slices.Equal(ref.OutputShape, y.Shape()) {
				t.Fatalf("numpy's output shape %v, nabla's %v", ref.OutputShape, y.Shape())
			}
			if i, ok := closeTo(want, ref.Numpy, 1e-5); !ok {
				t.Fatalf("nabla's output differs from the numpy evaluator's on the exported graph at %d: %v, want %v", i, want[i], ref.Numpy[i])
			}
		})
	}
}

func softmaxRows(v []float64, n int) []float64 {
	out := make([]float64, len(v))
	for r := 0; r < len(v); r += n {
		mx := math.Inf(-1)
		for _, x := range v[r : r+n] {
			mx = max(mx, x)
		}
		s := 0.0
		for j, x := range v[r : r+n] {
			out[r+j] = math.Exp(x - mx)
			s += out[r+j]
		}
		for j := range n {
			out[r+j] /= s
		}
	}
	return out
}

// TestExportCoversEveryKind fails when a registered layer kind has no ONNX
// form or no reference case: a new kind must be added to the exporter
// table and to exportCases.
func TestExportCoversEveryKind(t *testing.T) {
	used := map[string]bool{}
	for _, c := range exportCases {
		s, err := nn.ParseSpec(c.arch)
		if err != nil {
			t.Fatal(err)
		}
		var visit func(nn.Spec)
		visit = func(s nn.Spec) {
			used[s.Type] = true
			for _, l := range s.Layers {
				visit(l)
			}
		}
		visit(s)
	}
	for _, k := range nn.Kinds() {
		if _, ok := exporters[k.Name]; !ok && k.Name != "Sequential" {
			t.Errorf("layer kind %s has no ONNX form (add it to exporters in onnx/export.go)", k.Name)
		}
		if !used[k.Name] {
			t.Errorf("layer kind %s is in no exportCases model (add one, rerun with -update and testdata/onnx/check.py)", k.Name)
		}
	}
}

// TestCheckScript reruns testdata/onnx/check.py --verify (the ONNX checker,
// shape inference and the numpy evaluator on every committed file, and the
// PyTorch models against their committed outputs) where /usr/bin/python3
// has onnx and torch. CI has no Python and relies on the committed files,
// which the other tests read.
func TestCheckScript(t *testing.T) {
	if testing.Short() {
		t.Skip("short: the script takes seconds")
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx, torch, numpy").Run(); err != nil {
		t.Skipf("%s cannot import onnx, torch and numpy: the committed reference files stand in for the script", py)
	}
	out, err := exec.Command(py, filepath.Join(refDir, "check.py"), "--verify").CombinedOutput()
	if err != nil {
		t.Fatalf("check.py --verify: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ok:") {
		t.Fatalf("check.py --verify printed no result:\n%s", out)
	}
	t.Logf("%s", out)
}
