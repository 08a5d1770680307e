package train_test

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/internal/reftest"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

var update = flag.Bool("update", false, "rewrite testdata/train/nabla_mlp.* from the current code")

type shaped struct {
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
}

// A PyTorch nn.Sequential(Linear(4,8), ReLU(), Linear(8,3)) saved by the
// committed script testdata/safetensors/gen_fixtures.py loads into nabla
// when the activation is named, and gives torch's logits.
func TestLoadTorchMLP(t *testing.T) {
	path := "../testdata/safetensors/torch_mlp.safetensors"
	if _, _, err := train.LoadMLP(path, ""); err == nil {
		t.Fatal("a PyTorch file without the activation named loaded anyway")
	}
	m, cfg, err := train.LoadMLP(path, "relu")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.In != 4 || len(cfg.Hidden) != 1 || cfg.Hidden[0] != 8 || cfg.Out != 3 {
		t.Fatalf("inferred %+v, want 4-8-3", cfg)
	}
	raw, err := os.ReadFile("../testdata/safetensors/torch_mlp.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct{ Input, Logits shaped }
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	x := tensor.FromValues(tensor.Float32, ref.Input.Values, ref.Input.Shape...)
	got := m.Forward(ag.Const(x)).Value().Values()
	scale := 0.0
	for _, v := range ref.Logits.Values {
		scale = max(scale, math.Abs(v))
	}
	for i, want := range ref.Logits.Values {
		if math.Abs(got[i]-want) > 1e-5*scale {
			t.Fatalf("logit %d: nabla %v, torch %v", i, got[i], want)
		}
	}
}

// A nabla MLP saved by nabla loads into PyTorch with load_state_dict. The
// committed file testdata/train/nabla_mlp.safetensors was checked with
// testdata/train/check_torch_load.py; this test insists that nabla still
// writes exactly those bytes, and reruns the Python check where PyTorch is
// installed.
func TestTorchLoadsNablaMLP(t *testing.T) {
	cfg := nn.MLPConfig{In: 2, Hidden: []int{16, 8}, Out: 3, Activation: "tanh"}
	m, err := nn.NewMLP(cfg, tensor.NewRand(42))
	if err != nil {
		t.Fatal(err)
	}
	arch, _ := json.Marshal(cfg)
	dir := t.TempDir()
	path := filepath.Join(dir, "nabla_mlp.safetensors")
	if err := train.SaveModel(path, m, map[string]string{train.MetaMLP: string(arch)}); err != nil {
		t.Fatal(err)
	}
	x := tensor.Normal(tensor.NewRand(43), tensor.Float32, 0, 1, 4, 2)
	logits := m.Forward(ag.Const(x)).Value()
	spec, _ := json.MarshalIndent(map[string]any{
		"in": cfg.In, "hidden": cfg.Hidden, "out": cfg.Out, "activation": cfg.Activation,
		"input": x.Values(), "input_shape": x.Shape(), "logits": logits.Values(),
	}, "", " ")
	specPath := filepath.Join(dir, "nabla_mlp.json")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	written, _ := os.ReadFile(path)
	if *update {
		if err := os.WriteFile("../testdata/train/nabla_mlp.json", spec, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !reftest.Golden(t, "../testdata/train/nabla_mlp.safetensors", written, *update) {
		t.Fatal("nabla no longer writes the model file that PyTorch was checked to load; rerun with -update and the Python check")
	}
	if !reftest.HasTorch() {
		t.Log("PyTorch is not installed here: checked against the committed, PyTorch-verified file only")
		return
	}
	out, err := exec.Command(reftest.Python, "../testdata/train/check_torch_load.py", path, specPath).CombinedOutput()
	if err != nil {
		t.Fatalf("PyTorch could not load nabla's file: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// A model file whose metadata disagrees with its tensors, or names an
// impossible dtype or size, is an error before anything is allocated.
func TestLoadMLPRejectsBadMetadata(t *testing.T) {
	m, err := nn.NewMLP(nn.MLPConfig{In: 2, Hidden: []int{4}, Out: 3}, tensor.NewRand(1))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, meta := range map[string]string{
		"dtype":    `{"In":2,"Hidden":[4],"Out":3,"DType":7}`,
		"huge":     `{"In":2,"Hidden":[4],"Out":3000000000}`,
		"negative": `{"In":2,"Hidden":[-4],"Out":3}`,
		"shapes":   `{"In":2,"Hidden":[5],"Out":3}`,
	} {
		path := filepath.Join(dir, name+".safetensors")
		if err := train.SaveModel(path, m, map[string]string{train.MetaMLP: meta}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := train.LoadMLP(path, ""); err == nil {
			t.Errorf("%s: metadata %s loaded without error", name, meta)
		}
	}
}
