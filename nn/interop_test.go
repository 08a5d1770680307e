package nn_test

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/internal/reftest"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/safetensors"
	"github.com/nabla-go/nabla/tensor"
)

// The CNN interop tests use the files of ../testdata/cnn, written by
// ../testdata/cnn/gen_torch_cnn.py with PyTorch 1.13: a torch.nn.Sequential
// of every convolutional layer kind, the same model as the nabla spec in
// torch_cnn.json's "text".

var updateCNN = flag.Bool("update-cnn", false, "rewrite testdata/cnn/nabla_cnn.* from the current code")

type torchCNN struct {
	Source     string    `json:"source"`
	Text       string    `json:"text"`
	Example    []int     `json:"example"`
	Input      []float64 `json:"input"`
	InputShape []int     `json:"input_shape"`
	Logits     []float64 `json:"logits"`
	BatchNorm  struct {
		Batches           [][]float64 `json:"batches"`
		Shape             []int       `json:"shape"`
		Output            []float64   `json:"output"`
		RunningMean       []float64   `json:"running_mean"`
		RunningVar        []float64   `json:"running_var"`
		NumBatchesTracked float64     `json:"num_batches_tracked"`
	} `json:"batchnorm"`
}

func loadTorchCNN(t *testing.T) torchCNN {
	t.Helper()
	var ref torchCNN
	reftest.Load(t, "../testdata/cnn/torch_cnn.json", &ref)
	return ref
}

func buildCNN(t *testing.T, ref torchCNN, dt tensor.DType, seed uint64) nn.Module {
	t.Helper()
	parsed, err := nn.ParseText(ref.Text)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := nn.Resolve(parsed, ref.Example)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build(s, dt, tensor.NewRand(seed))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// PyTorch's state_dict of the CNN (float32, num_batches_tracked as I64,
// running statistics after three training batches) loads into the model
// nabla builds from the text spec, by PyTorch's names, and gives torch's
// evaluation-mode logits, in float32 and float64.
func TestLoadTorchCNN(t *testing.T) {
	ref := loadTorchCNN(t)
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		m := buildCNN(t, ref, dt, 1)
		o := safetensors.As(dt)
		o.Ints = true
		sd, _, err := o.ReadFile("../testdata/cnn/torch_cnn.safetensors")
		if err != nil {
			t.Fatal(err)
		}
		if err := nn.LoadStateDict(m, sd); err != nil {
			t.Fatal(err)
		}
		nn.SetTraining(m, false)
		x := tensor.FromValues(dt, ref.Input, ref.InputShape...)
		got := m.Forward(ag.Const(x)).Value().Values()
		if e := reftest.RelErr(got, ref.Logits); e > 1e-5 {
			t.Errorf("%v: logits differ from torch's by %.3g\nnabla %v\ntorch %v", dt, e, got, ref.Logits)
		} else {
			t.Logf("%v: logits agree with torch's to %.2g (relative to the largest)", dt, e)
		}
	}
}

// BatchNorm2d in training mode normalises with the batch's biased variance
// and updates its running statistics with PyTorch's momentum 0.1 and the
// unbiased variance; in evaluation it uses them.
func TestBatchNormRunningStatsMatchTorch(t *testing.T) {
	bnRef := loadTorchCNN(t).BatchNorm
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		bn := nn.NewBatchNorm2d(3, dt)
		var y *ag.Node
		for _, b := range bnRef.Batches {
			y = bn.Forward(ag.Const(tensor.FromValues(dt, b, bnRef.Shape...)))
		}
		for what, pair := range map[string][2][]float64{
			"output":       {y.Value().Values(), bnRef.Output},
			"running_mean": {bn.RunningMean.Values(), bnRef.RunningMean},
			"running_var":  {bn.RunningVar.Values(), bnRef.RunningVar},
		} {
			if e := reftest.RelErr(pair[0], pair[1]); e > 1e-5 {
				t.Errorf("%v %s: %v, torch %v (error %.3g)", dt, what, pair[0], pair[1], e)
			}
		}
		if n := bn.NumBatchesTracked.Item(); n != bnRef.NumBatchesTracked {
			t.Errorf("%v: num_batches_tracked %v, torch %v", dt, n, bnRef.NumBatchesTracked)
		}
		// Evaluation: (x − running_mean)/√(running_var + eps).
		bn.SetTraining(false)
		x := tensor.FromValues(dt, bnRef.Batches[0], bnRef.Shape...)
		got := bn.Forward(ag.Const(x)).Value()
		for i, v := range got.Values() {
			c := (i / 6) % 3
			want := (x.Values()[i] - bnRef.RunningMean[c]) / math.Sqrt(bnRef.RunningVar[c]+1e-5)
			if d := v - want; d > 1e-5 || d < -1e-5 {
				t.Fatalf("%v: evaluation output %d is %v, want %v", dt, i, v, want)
			}
		}
		if ps := nn.NumParams(bn); ps != 6 || len(bn.Buffers()) != 3 {
			t.Errorf("%v: %d parameters and %d buffers, want 6 and 3 (buffers are not parameters)", dt, ps, len(bn.Buffers()))
		}
	}
}

// A nabla CNN saved with its state_dict loads into the torch Sequential
// with load_state_dict(strict=True) and gives nabla's logits. The
// committed testdata/cnn/nabla_cnn.safetensors was checked by
// gen_torch_cnn.py's check mode; this test insists that nabla still
// writes exactly those bytes, and reruns the Python check where PyTorch is
// installed.
func TestTorchLoadsNablaCNN(t *testing.T) {
	ref := loadTorchCNN(t)
	m := buildCNN(t, ref, tensor.Float32, 42)
	// Perturb every parameter (norm weights start at ones) and draw the
	// running statistics, so that evaluation differs from the initial
	// state. (Drawn rather than trained: the file's bytes must not depend
	// on the rounding of this CPU's kernels.)
	rng := tensor.NewRand(43)
	for _, p := range m.Params() {
		v := p.Node.Value()
		v.CopyFrom(tensor.Add(v, tensor.Normal(rng, v.DType(), 0, 0.1, v.Shape()...)))
	}
	for _, b := range nn.Buffers(m) {
		switch v := b.Value; {
		case strings.HasSuffix(b.Name, "running_mean"):
			v.CopyFrom(tensor.Normal(rng, v.DType(), 0, 0.5, v.Shape()...))
		case strings.HasSuffix(b.Name, "running_var"):
			v.CopyFrom(tensor.Uniform(rng, v.DType(), 0.5, 2, v.Shape()...))
		default:
			v.Fill(3)
		}
	}
	nn.SetTraining(m, false)
	x := tensor.Normal(rng, tensor.Float32, 0, 1, append([]int{4}, ref.Example...)...)
	logits := m.Forward(ag.Const(x)).Value()

	dir := t.TempDir()
	path := filepath.Join(dir, "nabla_cnn.safetensors")
	if err := safetensors.WriteFile(path, nn.StateDict(m), map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	js, _ := json.MarshalIndent(map[string]any{
		"source": "nn/interop_test.go TestTorchLoadsNablaCNN", "text": ref.Text,
		"input": x.Values(), "input_shape": x.Shape(), "logits": logits.Values(),
	}, "", " ")
	jsPath := filepath.Join(dir, "nabla_cnn.json")
	if err := os.WriteFile(jsPath, js, 0o644); err != nil {
		t.Fatal(err)
	}
	written, _ := os.ReadFile(path)
	if *updateCNN {
		if err := os.WriteFile("../testdata/cnn/nabla_cnn.json", js, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !reftest.Golden(t, "../testdata/cnn/nabla_cnn.safetensors", written, *updateCNN) {
		t.Fatal("nabla no longer writes the CNN file that PyTorch was checked to load; rerun with -update-cnn and the Python check")
	}
	if !reftest.HasTorch() {
		t.Log("PyTorch is not installed here: checked against the committed, PyTorch-verified file only")
		return
	}
	out, err := exec.Command(reftest.Python, "../testdata/cnn/gen_torch_cnn.py", "check", path, jsPath).CombinedOutput()
	if err != nil {
		t.Fatalf("PyTorch could not load nabla's file: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
