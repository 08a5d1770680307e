package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// The fixtures in testdata/safetensors are written by gen_fixtures.py
// there, with PyTorch, by hand from the specification (the safetensors
// Python package is not available); see its docstring.

var update = flag.Bool("update", false, "rewrite testdata/safetensors/go_written.safetensors")

const dir = "../testdata/safetensors"

type dump struct {
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
}

func loadJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// fromDump builds the tensor a JSON dump describes, in dtype dt.
func fromDump(d dump, dt tensor.DType) *tensor.Tensor {
	shape := d.Shape
	if shape == nil {
		shape = []int{}
	}
	return tensor.FromValues(dt, d.Values, shape...)
}

// checkReencode checks that writing the decoded tensors back gives the
// fixture's bytes: gen_fixtures.py encodes as Write does.
func checkReencode(t *testing.T, name string, ts map[string]*tensor.Tensor, meta map[string]string) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if got := encode(t, ts, meta); !bytes.Equal(got, want) {
		t.Errorf("re-encoding %s gives different bytes:\n got %q\nwant %q", name, got[:min(len(got), 120)], want[:min(len(want), 120)])
	}
}

func TestTorchMLP(t *testing.T) {
	ts, meta, err := ReadFile(filepath.Join(dir, "torch_mlp.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Metadata  map[string]string `json:"metadata"`
		StateDict map[string]dump   `json:"state_dict"`
		Input     dump              `json:"input"`
		Logits    dump              `json:"logits"`
	}
	loadJSON(t, "torch_mlp.json", &want)
	if !equalMeta(meta, want.Metadata) || meta["format"] != "pt" {
		t.Errorf("metadata %v, want %v", meta, want.Metadata)
	}
	wantTs := make(map[string]*tensor.Tensor)
	for name, d := range want.StateDict {
		wantTs[name] = fromDump(d, tensor.Float32)
	}
	sameTensors(t, ts, wantTs)
	for name, shape := range map[string][]int{"0.weight": {8, 4}, "0.bias": {8}, "2.weight": {3, 8}, "2.bias": {3}} {
		if !slices.Equal(ts[name].Shape(), shape) {
			t.Errorf("%s has shape %v, want %v", name, ts[name].Shape(), shape)
		}
	}
	checkReencode(t, "torch_mlp.safetensors", ts, meta)

	// The weights mean what torch means: Linear is x @ W.T + b, W stored
	// [out, in] row-major. Run the MLP with plain loops and compare with
	// torch's logits.
	x := fromDump(want.Input, tensor.Float32)
	h := linear(x, ts["0.weight"], ts["0.bias"])
	for i := range h {
		h[i] = max(h[i], 0)
	}
	hT := tensor.FromFloat64(h, x.Dim(0), 8)
	got := linear(hT, ts["2.weight"], ts["2.bias"])
	for i, w := range want.Logits.Values {
		if math.Abs(got[i]-w) > 1e-5*(1+math.Abs(w)) {
			t.Fatalf("logit %d: got %v, torch %v", i, got[i], w)
		}
	}
}

// linear returns x @ w.T + b in float64, row-major [batch, out].
func linear(x, w, b *tensor.Tensor) []float64 {
	n, in, out := x.Dim(0), x.Dim(1), w.Dim(0)
	xv, wv, bv := x.Values(), w.Values(), b.Values()
	y := make([]float64, n*out)
	for i := range n {
		for o := range out {
			s := bv[o]
			for k := range in {
				s += xv[i*in+k] * wv[o*in+k]
			}
			y[i*out+o] = s
		}
	}
	return y
}

func TestTorchF64(t *testing.T) {
	ts, meta, err := ReadFile(filepath.Join(dir, "torch_f64.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if meta != nil {
		t.Errorf("metadata %v, want nil", meta)
	}
	var want struct {
		Tensors map[string]dump `json:"tensors"`
	}
	loadJSON(t, "torch_f64.json", &want)
	wantTs := make(map[string]*tensor.Tensor)
	for name, d := range want.Tensors {
		wantTs[name] = fromDump(d, tensor.Float64)
	}
	sameTensors(t, ts, wantTs)
	if s := ts["scalar"].Shape(); s == nil || len(s) != 0 {
		t.Errorf("scalar has shape %#v", s)
	}
	if math.Float64bits(ts["odd"].At(0)) != 1<<63 {
		t.Errorf("-0.0 lost its sign")
	}
	checkReencode(t, "torch_f64.safetensors", ts, meta)

	// ToFloat32 rounds F64 to float32.
	ts32, _, err := ReadOptions{ToFloat32: true}.ReadFile(filepath.Join(dir, "torch_f64.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range wantTs {
		w32 := tensor.FromValues(tensor.Float32, w.Values(), w.Shape()...)
		if msg := diffTensor(ts32[name], w32); msg != "" {
			t.Errorf("ToFloat32: %s: %s", name, msg)
		}
	}
}

func TestTorchHalf(t *testing.T) {
	path := filepath.Join(dir, "torch_half.safetensors")
	_, _, err := ReadFile(path)
	var e *Error
	if !errors.Is(err, ErrUnsupportedDType) || !errors.As(err, &e) || (e.Tensor != "bf16" && e.Tensor != "f16") {
		t.Fatalf("ReadFile of F16/BF16 without ToFloat32: %v", err)
	}
	ts, meta, err := ReadOptions{ToFloat32: true}.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" {
		t.Errorf("metadata %v", meta)
	}
	var want struct {
		Tensors map[string]dump `json:"tensors"`
	}
	loadJSON(t, "torch_half.json", &want)
	wantTs := make(map[string]*tensor.Tensor)
	for name, d := range want.Tensors {
		wantTs[name] = fromDump(d, tensor.Float32)
	}
	sameTensors(t, ts, wantTs)

	// Widened to float64, every value is exact too.
	for _, o := range []ReadOptions{{ToFloat64: true}, As(tensor.Float64)} {
		ts64, _, err := o.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for name, d := range want.Tensors {
			wantTs[name] = fromDump(d, tensor.Float64)
		}
		sameTensors(t, ts64, wantTs)
	}
	if ts, _, err := ReadFileAs(path, tensor.Float32); err != nil || ts["f16"].DType() != tensor.Float32 {
		t.Fatalf("ReadFileAs float32: %v", err)
	}
}

// As(dtype) reads each of PyTorch's float dtypes into either of nabla's,
// widening exactly and rounding F64 to nearest for float32.
func TestReadAs(t *testing.T) {
	for _, file := range []string{"torch_mlp.safetensors", "torch_f64.safetensors", "torch_half.safetensors"} {
		path := filepath.Join(dir, file)
		ts64, _, err := ReadFileAs(path, tensor.Float64)
		if err != nil {
			t.Fatalf("%s as float64: %v", file, err)
		}
		ts32, _, err := ReadFileAs(path, tensor.Float32)
		if err != nil {
			t.Fatalf("%s as float32: %v", file, err)
		}
		for name, t64 := range ts64 {
			t32 := ts32[name]
			if t64.DType() != tensor.Float64 || t32.DType() != tensor.Float32 {
				t.Fatalf("%s: %s read as %v and %v", file, name, t64.DType(), t32.DType())
			}
			if msg := diffTensor(t32, tensor.FromValues(tensor.Float32, t64.Values(), t64.Shape()...)); msg != "" {
				t.Errorf("%s: %s: float32 read is not the float64 one rounded: %s", file, name, msg)
			}
		}
	}
	// F32 widened: the float64 values are the float32 ones exactly.
	ts, _, _ := ReadFile(filepath.Join(dir, "torch_mlp.safetensors"))
	ts64, _, _ := ReadFileAs(filepath.Join(dir, "torch_mlp.safetensors"), tensor.Float64)
	for name, w := range ts {
		if msg := diffTensor(ts64[name], tensor.FromValues(tensor.Float64, w.Values(), w.Shape()...)); msg != "" {
			t.Errorf("F32 %s widened: %s", name, msg)
		}
	}
	_, _, err := ReadOptions{ToFloat32: true, ToFloat64: true}.ReadFile(filepath.Join(dir, "torch_mlp.safetensors"))
	if err == nil || !strings.Contains(err.Error(), "both ToFloat32 and ToFloat64") {
		t.Fatalf("both conversions: %v", err)
	}
}

func TestHalfConversion(t *testing.T) {
	// Every binary16 value, against a float64 computation of its value.
	for h := range 1 << 16 {
		exp, mant := h>>10&0x1f, float64(h&0x3ff)
		var want float64
		switch {
		case exp == 0:
			want = mant * math.Pow(2, -24)
		case exp == 31 && mant == 0:
			want = math.Inf(1)
		case exp == 31:
			want = math.NaN()
		default:
			want = (1 + mant/1024) * math.Pow(2, float64(exp-15))
		}
		if h>>15 == 1 {
			want = -want
		}
		got := halfToFloat32(uint16(h))
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("half %#04x: got %v, want NaN", h, got)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != (h>>15 == 1) {
			t.Fatalf("half %#04x: got %v, want %v", h, got, want)
		}
	}
}

func TestTorchI64(t *testing.T) {
	path := filepath.Join(dir, "torch_i64.safetensors")
	want := "safetensors: " + path + `: tensor "ids": dtype I64 is not supported: nabla reads floating-point tensors only (F32, F64, F16, BF16)`
	for name, o := range map[string]ReadOptions{"default": {}, "float32": As(tensor.Float32), "float64": As(tensor.Float64)} {
		_, _, err := o.ReadFile(path)
		if !errors.Is(err, ErrUnsupportedDType) || err.Error() != want {
			t.Fatalf("%s: ReadFile of an I64 tensor: %v\nwant %s", name, err, want)
		}
	}
}

// With Ints, integer tensors (PyTorch's num_batches_tracked is I64) are
// read converted to the float type asked for.
func TestTorchI64AsFloat(t *testing.T) {
	path := filepath.Join(dir, "torch_i64.safetensors")
	want := []float64{0, 1, 2, 3} // gen_fixtures.py writes torch.arange(4, dtype=torch.int64)
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		o := As(dt)
		o.Ints = true
		ts, _, err := o.ReadFile(path)
		if err != nil {
			t.Fatalf("%v: %v", dt, err)
		}
		ids := ts["ids"]
		if ids == nil || ids.DType() != dt || ids.Len() == 0 {
			t.Fatalf("%v: ids %v", dt, ids)
		}
		if !slices.Equal(ids.Values(), want) {
			t.Errorf("%v: ids %v, want %v", dt, ids.Values(), want)
		}
	}
	if _, _, err := (ReadOptions{Ints: true}).ReadFile(path); !errors.Is(err, ErrUnsupportedDType) {
		t.Errorf("Ints without a float conversion: %v", err)
	}
}

// A directory is named as one, not read as an empty file.
func TestReadDirectory(t *testing.T) {
	d := t.TempDir()
	_, _, err := ReadFile(d)
	if err == nil || err.Error() != "safetensors: "+d+": is a directory, not a safetensors file" {
		t.Fatalf("ReadFile of a directory: %v", err)
	}
	_, _, err = ReadFileAs(d, tensor.Float64)
	if err == nil || strings.Contains(err.Error(), "bytes") {
		t.Fatalf("ReadFileAs of a directory: %v", err)
	}
	err = WriteFile(d, map[string]*tensor.Tensor{"x": tensor.FromFloat32([]float32{1})}, nil)
	if err == nil || err.Error() != "safetensors: "+d+": is a directory" {
		t.Fatalf("WriteFile over a directory: %v", err)
	}
}

// goWritten is what go_written.safetensors holds; gen_fixtures.py checks
// the file against the same tensors (GO_EXPECTED there).
func goWritten() (map[string]*tensor.Tensor, map[string]string) {
	return map[string]*tensor.Tensor{
			"a":            tensor.FromFloat32([]float32{-1, -0.5, 0, 0.5, 1, 1.5}, 2, 3),
			"b":            tensor.FromFloat64([]float64{1.0 / 3, -2.5, 1e-300}),
			"empty":        tensor.FromFloat32(nil, 0, 2),
			"layer.weight": tensor.FromFloat64([]float64{math.Pi, math.E, math.Copysign(0, -1), 5e-324}, 2, 2),
			"scalar":       tensor.FromFloat32([]float32{3.25}, []int{}...),
			"zz<&>":        tensor.FromFloat32([]float32{0x1p100}),
		},
		map[string]string{"format": "pt", "note": "written by nabla"}
}

func TestGoWrittenGolden(t *testing.T) {
	ts, meta := goWritten()
	got := encode(t, ts, meta)
	path := filepath.Join(dir, "go_written.safetensors")
	if *update {
		if err := WriteFile(path, ts, meta); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Write's bytes differ from %s (checked by gen_fixtures.py against torch):\n got %q\nwant %q", path, got, want)
	}
}

// TestPythonReadsGoFile has gen_fixtures.py parse a file Write just wrote
// and compare it with torch tensors. It needs /usr/bin/python3 with torch.
func TestPythonReadsGoFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python")
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skipf("no %s with torch: %v", py, err)
	}
	ts, meta := goWritten()
	path := filepath.Join(t.TempDir(), "go.safetensors")
	if err := WriteFile(path, ts, meta); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, filepath.Join(dir, "gen_fixtures.py"), "--check", path).CombinedOutput()
	if err != nil {
		t.Fatalf("gen_fixtures.py --check: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// ReadHeader lists every tensor's dtype and shape, whatever the dtype,
// without reading data.
func TestReadHeader(t *testing.T) {
	ts, meta, err := ReadHeader(filepath.Join(dir, "torch_half.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts["f16"].DType != "F16" || !slices.Equal(ts["f16"].Shape, []int{2, 3}) ||
		ts["bf16"].DType != "BF16" || !slices.Equal(ts["bf16"].Shape, []int{3}) || meta["format"] != "pt" {
		t.Fatalf("header %+v, metadata %v", ts, meta)
	}
	ts, _, err = ReadHeader(filepath.Join(dir, "torch_i64.safetensors"))
	if err != nil || ts["ids"].DType != "I64" {
		t.Fatalf("I64 header %+v: %v", ts, err)
	}
	d := t.TempDir()
	if _, _, err := ReadHeader(d); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("ReadHeader of a directory: %v", err)
	}
	// A file cut short inside its data fails as ReadFile does.
	b, _ := os.ReadFile(filepath.Join(dir, "torch_mlp.safetensors"))
	p := filepath.Join(d, "cut.safetensors")
	os.WriteFile(p, b[:len(b)-3], 0o644)
	if _, _, err := ReadHeader(p); err == nil || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), p) {
		t.Fatalf("ReadHeader of a truncated file: %v", err)
	}
}
