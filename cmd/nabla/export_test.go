package main

import (
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
// (testdata/onnx/torch/mlp_relu.onnx: 6 inputs, 4 classes) on a CSV file.
func TestEvalTorchONNX(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "d.csv")
	var b strings.Builder
	for i := range 40 {
		for j := range 6 {
			fmt.Fprintf(&b, "%.3f,", float64((i*7+j*3)%11)/5-1)
		}
		fmt.Fprintf(&b, "%d\n", i%4)
	}
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	got := evalLines(t, "--model", "../../testdata/onnx/torch/mlp_relu.onnx", "--data", csv)
	if !strings.Contains(got, "accuracy") {
		t.Fatal(got)
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
