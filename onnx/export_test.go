package onnx

import (
	"strings"
	"testing"

	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

func specModel(t *testing.T, arch string, shape []int) (nn.Spec, map[string]*tensor.Tensor, train.Input) {
	t.Helper()
	s, err := nn.ParseSpec(arch)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err = nn.Resolve(s, shape)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build(s, tensor.Float32, tensor.NewRand(1))
	if err != nil {
		t.Fatal(err)
	}
	return s, nn.StateDict(m), train.Input{Shape: shape, Classes: 2}
}

// TestExportUnsupportedKindsListed: a spec with several kinds that have no
// ONNX form gives one error naming each layer.
func TestExportUnsupportedKindsListed(t *testing.T) {
	for _, k := range []string{"GELU", "Conv2d"} {
		saved := exporters[k]
		delete(exporters, k)
		defer func() { exporters[k] = saved }()
	}
	s, sd, in := specModel(t, `{"type":"Sequential","layers":[{"type":"Conv2d","out":2,"kernel":3},{"type":"GELU"},{"type":"Flatten"},{"type":"Sequential","layers":[{"type":"Linear","out":2},{"type":"GELU"}]}]}`, []int{1, 4, 4})
	_, err := ExportSpec(s, sd, in, Options{})
	want := "onnx: Export: no ONNX form for layer 0 (Conv2d), layer 1 (GELU), layer 3.1 (GELU)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// TestExportSettingsWithoutONNXForm: settings opset 17 cannot express are
// refused by layer.
func TestExportSettingsWithoutONNXForm(t *testing.T) {
	cases := []struct {
		arch  string
		shape []int
		want  string
	}{
		{"avgpool(2, divisor=3)", []int{1, 4, 4}, "layer 0: AvgPool2d's divisor has no ONNX form"},
		{"adaptiveavgpool(3)", []int{1, 4, 4}, "from 4×4 to 3×3 has no ONNX form"},
		{"batchnorm2d(track_running_stats=false)", []int{2, 4, 4}, "without running statistics"},
		{"avgpool(2, ceil_mode=true)", []int{1, 5, 5}, "ceil_mode on a 5×5 input has no ONNX form"},
	}
	for _, c := range cases {
		s, sd, in := specModel(t, c.arch, c.shape)
		_, err := ExportSpec(s, sd, in, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.arch, err, c.want)
		}
	}
}

// TestExportStateDictChecked: a state dict that does not fit the spec
// (missing, misshapen or extra tensors) is an error, not a wrong file.
func TestExportStateDictChecked(t *testing.T) {
	s, sd, in := specModel(t, "linear(3)-relu-linear(2)", []int{4})
	delete(sd, "2.bias")
	if _, err := ExportSpec(s, sd, in, Options{}); err == nil || !strings.Contains(err.Error(), `no "2.bias"`) {
		t.Errorf("missing tensor: %v", err)
	}
	s, sd, in = specModel(t, "linear(3)-relu-linear(2)", []int{4})
	sd["0.weight"] = tensor.New(tensor.Float32, 4, 3)
	if _, err := ExportSpec(s, sd, in, Options{}); err == nil || !strings.Contains(err.Error(), `"0.weight" has shape [4 3], the layer needs [3 4]`) {
		t.Errorf("misshapen tensor: %v", err)
	}
	s, sd, in = specModel(t, "linear(3)-relu-linear(2)", []int{4})
	sd["9.weight"] = tensor.New(tensor.Float32, 1)
	if _, err := ExportSpec(s, sd, in, Options{}); err == nil || !strings.Contains(err.Error(), "tensors no layer uses: 9.weight") {
		t.Errorf("extra tensor: %v", err)
	}
	s, sd, _ = specModel(t, "linear(3)", []int{4})
	if _, err := ExportSpec(s, sd, train.Input{Shape: []int{5}}, Options{}); err == nil || !strings.Contains(err.Error(), "the input has 5 features") {
		t.Errorf("input of the wrong size: %v", err)
	}
}

// TestExportDeterministic: the same model gives the same bytes.
func TestExportDeterministic(t *testing.T) {
	c := exportCases[1]
	m, _ := buildCase(t, c)
	var first []byte
	for range 3 {
		mp, err := Export(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Marshal(mp)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if string(b) != string(first) {
			t.Fatal("two exports of one model differ")
		}
	}
}
