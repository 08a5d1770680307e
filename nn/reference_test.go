package nn_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// The reference test runs PyTorch's MLPs in nabla: it builds the same
// network with NewMLP, loads torch's state_dict by its own key names
// ("0.weight", "2.bias", …) and compares the output, the cross-entropy
// loss and the gradients of the input and of every parameter. The numbers
// are in ../testdata/nn/reference.json, written by ../testdata/nn/gen_nn.py
// (run it with /usr/bin/python3 from the repository root; the file's header
// records the torch version).
//
// Error measure, per compared tensor: max_i |got_i − want_i| / max_i
// |want_i|; at most 1e-10 in float64 and 1e-5 in float32.

const refPath = "../testdata/nn/reference.json"

var refTol = map[string]float64{"float64": 1e-10, "float32": 1e-5}

type refTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type refCase struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	DType string `json:"dtype"`
	Attrs struct {
		Sizes      []int  `json:"sizes"`
		Activation string `json:"activation"`
	} `json:"attrs"`
	Inputs     []refTensor          `json:"inputs"`
	Labels     []int                `json:"labels"`
	State      map[string]refTensor `json:"state"`
	Output     refTensor            `json:"output"`
	Loss       float64              `json:"loss"`
	Grads      []refTensor          `json:"grads"`
	ParamGrads map[string]refTensor `json:"param_grads"`
}

type refFile struct {
	Torch   string            `json:"torch_version"`
	Command string            `json:"command"`
	Cases   []json.RawMessage `json:"cases"`
}

func relErr(got, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range got {
		num = math.Max(num, math.Abs(got[i]-want[i]))
		den = math.Max(den, math.Abs(want[i]))
	}
	return num / math.Max(den, 1e-30)
}

func TestReferenceMLP(t *testing.T) {
	raw, err := os.ReadFile(refPath)
	if err != nil {
		t.Fatal(err)
	}
	var f refFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	t.Logf("reference from torch %s (%s)", f.Torch, f.Command)
	worst := map[string]float64{}
	n := 0
	for _, rc := range f.Cases {
		var c refCase
		if err := json.Unmarshal(rc, &c); err != nil {
			t.Fatal(err)
		}
		if c.Kind != "mlp" {
			continue
		}
		n++
		dt := tensor.Float32
		if c.DType == "float64" {
			dt = tensor.Float64
		}
		sz := c.Attrs.Sizes
		net, err := nn.NewMLP(nn.MLPConfig{In: sz[0], Hidden: sz[1 : len(sz)-1], Out: sz[len(sz)-1],
			Activation: c.Attrs.Activation, DType: dt}, tensor.NewRand(1))
		if err != nil {
			t.Fatal(err)
		}
		sd := map[string]*tensor.Tensor{}
		for k, v := range c.State {
			sd[k] = tensor.FromValues(dt, v.Data, v.Shape...)
		}
		if err := nn.LoadStateDict(net, sd); err != nil {
			t.Fatalf("%s: loading torch's state_dict: %v", c.Name, err)
		}
		x := ag.Var(tensor.FromValues(dt, c.Inputs[0].Data, c.Inputs[0].Shape...))
		out := net.Forward(x)
		l := ag.SoftmaxCrossEntropy(out, c.Labels)
		ag.Backward(l)

		tol := refTol[c.DType]
		check := func(what string, got, want []float64) {
			e := relErr(got, want)
			worst[c.DType] = math.Max(worst[c.DType], e)
			if !(e <= tol) {
				t.Errorf("%s %s: %s: relative error %.3g > %g", c.Name, c.DType, what, e, tol)
			}
		}
		check("output", out.Value().Values(), c.Output.Data)
		check("loss", []float64{l.Item()}, []float64{c.Loss})
		check("grad of x", x.Grad().Values(), c.Grads[0].Data)
		ps := net.Params()
		if len(ps) != len(c.ParamGrads) {
			t.Errorf("%s: %d parameters, torch has %d", c.Name, len(ps), len(c.ParamGrads))
		}
		for _, p := range ps {
			want, ok := c.ParamGrads[p.Name]
			if !ok {
				t.Errorf("%s: torch has no parameter %q", c.Name, p.Name)
				continue
			}
			check("grad of "+p.Name, p.Node.Grad().Values(), want.Data)
		}
	}
	if n < 6 {
		t.Errorf("only %d MLP cases in %s", n, refPath)
	}
	t.Logf("worst relative error vs torch: float64 %.3g, float32 %.3g", worst["float64"], worst["float32"])
}
