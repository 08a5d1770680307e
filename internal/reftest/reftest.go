// Package reftest holds helpers for tests that compare with committed
// reference data: the JSON files under testdata/ written by PyTorch scripts
// committed beside them (testdata/golden/ops.json, testdata/nn/reference.json,
// testdata/optim/reference.json). It is for tests only.
//
// Every such test measures a compared tensor by RelErr, the worst absolute
// error relative to the largest reference entry.
package reftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// Tensor is a tensor as the reference files write it: its shape and its
// values in row-major order, in float64 whatever the case's dtype.
type Tensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
	Grad  bool      `json:"grad"` // inputs only: whether it is a Var
}

// Tensor returns x as a tensor of dtype dt.
func (x Tensor) Tensor(dt tensor.DType) *tensor.Tensor {
	return tensor.FromValues(dt, x.Data, x.Shape...)
}

// Node returns x as a graph input of dtype dt: a Var if x.Grad, else a
// Const.
func (x Tensor) Node(dt tensor.DType) *ag.Node {
	if x.Grad {
		return ag.Var(x.Tensor(dt))
	}
	return ag.Const(x.Tensor(dt))
}

// RelErr is the error measure of the reference tests:
//
//	max_i |got_i − want_i| / max(max_i |want_i|, 1e-30)
//
// the worst absolute error relative to the largest reference entry (a
// relative error that does not blow up at entries near zero). It is +Inf
// when the lengths differ or the measure is NaN, so that a test's
// e <= tol fails.
func RelErr(got, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range want {
		num = math.Max(num, math.Abs(got[i]-want[i]))
		den = math.Max(den, math.Abs(want[i]))
	}
	e := num / math.Max(den, 1e-30)
	if math.IsNaN(e) {
		return math.Inf(1)
	}
	return e
}

// Checker compares tensors by RelErr with a tolerance per dtype name
// ("float64", "float32"), reports each comparison over it, and keeps the
// worst error of each dtype for LogWorst. Its zero value has no tolerance:
// set Tol.
type Checker struct {
	Tol   map[string]float64
	worst map[string]float64
}

// Check compares got with want, the tensor what of case name in dtype, and
// reports an error when RelErr is over Tol[dtype] (or NaN, or the lengths
// differ).
func (k *Checker) Check(t testing.TB, name, dtype, what string, got, want []float64) {
	t.Helper()
	e, tol := RelErr(got, want), k.Tol[dtype]
	if k.worst == nil {
		k.worst = map[string]float64{}
	}
	k.worst[dtype] = math.Max(k.worst[dtype], e)
	if !(e <= tol) {
		t.Errorf("%s %s: %s: relative error %.3g > %g", name, dtype, what, e, tol)
	}
}

// LogWorst logs the worst error Check has seen in float64 and in float32.
func (k *Checker) LogWorst(t testing.TB) {
	t.Helper()
	t.Logf("worst relative error vs torch: float64 %.3g, float32 %.3g", k.worst["float64"], k.worst["float32"])
}

// DType returns the dtype a reference file names "float64" or "float32"; it
// panics on any other name (a malformed file).
func DType(name string) tensor.DType {
	switch name {
	case "float64":
		return tensor.Float64
	case "float32":
		return tensor.Float32
	}
	panic(fmt.Sprintf("reftest: unknown dtype %q", name))
}

// Load reads the JSON file at path into v, and fails the test on error.
func Load(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// NNFile is testdata/nn/reference.json, written by testdata/nn/gen_nn.py:
// package nn's MLP cases (Kind "mlp") and package loss's cases (every other
// Kind).
type NNFile struct {
	Torch   string   `json:"torch_version"`
	Command string   `json:"command"`
	Cases   []NNCase `json:"cases"`
}

// NNCase is one case of NNFile.
type NNCase struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	DType string `json:"dtype"`
	// Attrs depends on Kind: {"sizes": [...], "activation": "..."} for
	// "mlp", an object of numbers for a loss.
	Attrs  json.RawMessage `json:"attrs"`
	Inputs []Tensor        `json:"inputs"`
	Labels []int           `json:"labels"`
	Loss   float64         `json:"loss"`
	// Grads are the gradients of the inputs, nil where an input has none.
	Grads []*Tensor `json:"grads"`

	// MLP cases only: torch's state_dict, the network's output and the
	// loss's gradient with respect to each parameter, by state_dict key.
	State      map[string]Tensor `json:"state"`
	Output     Tensor            `json:"output"`
	ParamGrads map[string]Tensor `json:"param_grads"`
}

// Python is the interpreter that the committed PyTorch scripts run with
// (Debian's python3-torch installs torch for it).
const Python = "/usr/bin/python3"

// HasTorch reports whether Python is installed and can import torch.
func HasTorch() bool {
	if _, err := exec.LookPath(Python); err != nil {
		return false
	}
	return exec.Command(Python, "-c", "import torch").Run() == nil
}

// Golden reports whether got equals the committed file golden, after
// writing got there first when update is set (the tests' -update flags).
func Golden(t testing.TB, golden string, got []byte, update bool) bool {
	t.Helper()
	if update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(got, want)
}
