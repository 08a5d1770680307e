package train

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/safetensors"
	"github.com/nabla-go/nabla/tensor"
)

// FuzzLoadModel goes from arbitrary safetensors bytes to a loaded and
// evaluated model, the path of `nabla eval --model FILE`: a corrupt or
// hostile file must be an error, never a panic or an allocation beyond the
// file's size, and a model that loads must run on a batch of its input.
func FuzzLoadModel(f *testing.F) {
	for _, p := range []string{
		"../testdata/train/nabla_mlp.safetensors",
		"../testdata/train/torch_mlp_f64.safetensors",
		"../testdata/train/torch_mlp_f16.safetensors",
		"../testdata/train/torch_mlp_bf16.safetensors",
		"../testdata/safetensors/torch_mlp.safetensors",
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// A spec-described model with its input, and a checkpoint-like file.
	s, _ := nn.ParseText("flatten-linear(4)-tanh-dropout(0.1)-linear(3)")
	s, _, _ = nn.Resolve(s, []int{1, 2, 2})
	m, _ := nn.Build(s, tensor.Float32, tensor.NewRand(1))
	arch, _ := json.Marshal(s)
	in, _ := json.Marshal(Input{Shape: []int{1, 2, 2}, Classes: 3, Mean: []float64{0, 1, 2, 3}, Std: []float64{1, 1, 2, 2}})
	sd := nn.StateDict(m)
	f.Add(encode(f, sd, map[string]string{MetaArch: string(arch), MetaInput: string(in)}))
	ck := map[string]*tensor.Tensor{}
	for k, v := range sd {
		ck["model."+k] = v
	}
	f.Add(encode(f, ck, map[string]string{MetaArch: string(arch), MetaCheckpoint: `{"epoch":2,"step":9,"epochs_without_improvement":0,"rng":{},"history":[]}`}))
	f.Fuzz(func(t *testing.T, b []byte) {
		o := safetensors.As(tensor.Float32)
		o.Ints = true
		ts, meta, err := o.Decode(b)
		if err != nil {
			return
		}
		for _, act := range []string{"", "relu"} {
			m, err := buildModel("fuzz.safetensors", ts, meta, LoadOptions{Activation: act})
			if err != nil {
				continue
			}
			n := m.Input.Features()
			if n < 1 || n > 1<<12 {
				continue
			}
			shape := append([]int{2}, m.Input.Shape...)
			nn.SetTraining(m.Module, false)
			if err := tensor.Try(func() { m.Module.Forward(ag.Untracked(tensor.Zeros(nn.DTypeOf(m.Module), shape...))) }); err != nil {
				t.Fatalf("a model that loads fails on a batch of its input %v: %v", m.Input.Shape, err)
			}
		}
	})
}

func encode(f *testing.F, ts map[string]*tensor.Tensor, meta map[string]string) []byte {
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ts, meta); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}
