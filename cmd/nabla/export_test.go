package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// evalLines returns the loss and accuracy lines of nabla eval's report.
func evalLines(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := nabla(t, append([]string{"eval"}, args...)...)
	if code != 0 {
		t.Fatalf("eval %v: exit %d: %s", args, code, errOut)
	}
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "loss") || strings.HasPrefix(l, "accuracy") {
			keep = append(keep, l)
		}
	}
	if len(keep) != 2 {
		t.Fatalf("eval %v printed no loss and accuracy:\n%s", args, out)
	}
	return strings.Join(keep, "\n")
}

// TestExportONNXRoundTrip trains a normalised model, exports it to ONNX,
// evaluates the ONNX file, converts it back to safetensors and evaluates
// that: the loss and accuracy must be the run's.
func TestExportONNXRoundTrip(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if _, errOut, code := nabla(t, "train", "--out", run, "--epochs", "3", "--normalize", "--arch", "linear(16)-gelu-dropout(0.1)-linear(16)-silu-linear(3)"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, errOut)
	}
	want := evalLines(t, "--model", run)

	onnxFile := filepath.Join(dir, "model.onnx")
	out, errOut, code := nabla(t, "export", "--model", run, "--format", "onnx", "--out", onnxFile)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `input "input" [batch, 2], output "output"`) {
		t.Errorf("export printed %q", out)
	}
	if got := evalLines(t, "--model", onnxFile); got != want {
		t.Errorf("eval of the ONNX file:\n%s\nwant the run's\n%s", got, want)
	}

	st := filepath.Join(dir, "back.safetensors")
	out, errOut, code = nabla(t, "export", "--model", onnxFile, "--format", "safetensors", "--out", st)
	if code != 0 {
		t.Fatalf("export to safetensors: exit %d: %s", code, errOut)
	}
	// The spec the ONNX file records comes back, Dropout included.
	if !strings.Contains(out, "the network linear(16)-gelu-dropout(0.1)-linear(16)-silu-linear(3)") {
		t.Errorf("export to safetensors printed %q", out)
	}
	if got := evalLines(t, "--model", st); got != want {
		t.Errorf("eval of the safetensors file made from ONNX:\n%s\nwant the run's\n%s", got, want)
	}

	// With a Softmax the file outputs probabilities; nabla takes it off
	// again and scores as before.
	probs := filepath.Join(dir, "probs.onnx")
	if _, errOut, code := nabla(t, "export", "--model", st, "--out", probs, "--softmax"); code != 0 {
		t.Fatalf("export --softmax: exit %d: %s", code, errOut)
	}
	if got := evalLines(t, "--model", probs); got != want {
		t.Errorf("eval of the ONNX file with a softmax:\n%s\nwant the run's\n%s", got, want)
	}
}

// TestEvalTorchONNX evaluates a model PyTorch exported to ONNX
// (testdata/onnx/torch/mlp_relu.onnx: 6 inputs, 4 classes) through nabla
// eval, on the inputs torch ran it on labelled with torch's predictions:
// nabla must agree on every one.
func TestEvalTorchONNX(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/onnx/torch/mlp_relu.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		InputShape []int     `json:"input_shape"`
		Input      []float64 `json:"input"`
		Torch      []float64 `json:"torch"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	n, f := ref.InputShape[0], ref.InputShape[1]
	classes := len(ref.Torch) / n
	var b strings.Builder
	for i := range n {
		for j := range f {
			fmt.Fprintf(&b, "%v,", ref.Input[i*f+j])
		}
		best := 0
		for k := range classes {
			if ref.Torch[i*classes+k] > ref.Torch[i*classes+best] {
				best = k
			}
		}
		fmt.Fprintf(&b, "%d\n", best)
	}
	csv := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := nabla(t, "eval", "--model", "../../testdata/onnx/torch/mlp_relu.onnx", "--data", csv)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// (The CSV's classes are its largest label plus one: torch's
	// predictions must include the last class, as they do.)
	if !strings.Contains(out, fmt.Sprintf("%d examples", n)) || !strings.Contains(out, "accuracy  100.00%") {
		t.Fatalf("eval printed:\n%s\nwant all %d of torch's predictions", out, n)
	}
}

// TestExportErrors: bad flags and files give one line and a non-zero exit.
func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.onnx")
	os.WriteFile(junk, []byte("not an onnx file"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"export", "--out", "x.onnx"}, "--model and --out are required"},
		{[]string{"export", "--model", junk, "--out", filepath.Join(dir, "o.safetensors"), "--format", "safetensors"}, "not a valid ONNX file"},
		{[]string{"export", "--model", junk, "--out", junk, "--format", "safetensors"}, "is the model file itself"},
		{[]string{"export", "--model", "../../testdata/onnx/torch/mlp_relu.onnx", "--out", filepath.Join(dir, "o"), "--format", "tflite"}, `--format "tflite"`},
		{[]string{"eval", "--model", junk}, "not a valid ONNX file"},
		{[]string{"eval", "--model", "../../testdata/onnx/torch/mlp_relu.onnx", "--activation", "relu"}, "records its activations"},
	}
	for _, c := range cases {
		_, errOut, code := nabla(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 || !strings.HasPrefix(errOut, "nabla: ") {
			t.Errorf("%v: exit %d, stderr %q; want one line containing %q", c.args, code, errOut, c.want)
		}
	}
}
