package nn_test

import (
	"encoding/json"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/internal/reftest"
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
// |want_i| (reftest.RelErr); at most 1e-10 in float64 and 1e-5 in float32.

const refPath = "../testdata/nn/reference.json"

var refTol = map[string]float64{"float64": 1e-10, "float32": 1e-5}

func TestReferenceMLP(t *testing.T) {
	var f reftest.NNFile
	reftest.Load(t, refPath, &f)
	t.Logf("reference from torch %s (%s)", f.Torch, f.Command)
	ref := reftest.Checker{Tol: refTol}
	n := 0
	for _, c := range f.Cases {
		if c.Kind != "mlp" {
			continue
		}
		n++
		var attrs struct {
			Sizes      []int  `json:"sizes"`
			Activation string `json:"activation"`
		}
		if err := json.Unmarshal(c.Attrs, &attrs); err != nil {
			t.Fatalf("%s: attrs: %v", c.Name, err)
		}
		if len(c.Grads) == 0 || c.Grads[0] == nil {
			t.Fatalf("%s: no gradient of the input", c.Name)
		}
		dt := reftest.DType(c.DType)
		sz := attrs.Sizes
		net, err := nn.NewMLP(nn.MLPConfig{In: sz[0], Hidden: sz[1 : len(sz)-1], Out: sz[len(sz)-1],
			Activation: attrs.Activation, DType: dt}, tensor.NewRand(1))
		if err != nil {
			t.Fatal(err)
		}
		sd := map[string]*tensor.Tensor{}
		for k, v := range c.State {
			sd[k] = v.Tensor(dt)
		}
		if err := nn.LoadStateDict(net, sd); err != nil {
			t.Fatalf("%s: loading torch's state_dict: %v", c.Name, err)
		}
		x := ag.Var(c.Inputs[0].Tensor(dt))
		out := net.Forward(x)
		l := ag.SoftmaxCrossEntropy(out, c.Labels)
		ag.Backward(l)

		check := func(what string, got, want []float64) {
			t.Helper()
			ref.Check(t, c.Name, c.DType, what, got, want)
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
	ref.LogWorst(t)
}
