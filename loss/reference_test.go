package loss_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/tensor"
)

// The reference test compares every loss and its gradients with PyTorch's.
// The numbers are in ../testdata/nn/reference.json, written by
// ../testdata/nn/gen_nn.py (run it with /usr/bin/python3 from the
// repository root; the file's header records the torch version). Hinge is
// compared with the CS231n formula written out in torch, not with
// MultiMarginLoss (which also divides by C).
//
// Error measure, per compared tensor: max_i |got_i − want_i| / max_i
// |want_i| (the worst absolute error relative to the largest reference
// entry); at most 1e-10 in float64 and 1e-5 in float32.

const refPath = "../testdata/nn/reference.json"

var refTol = map[string]float64{"float64": 1e-10, "float32": 1e-5}

type refTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
	Grad  bool      `json:"grad"`
}

type refCase struct {
	Name   string          `json:"name"`
	Kind   string          `json:"kind"`
	DType  string          `json:"dtype"`
	Raw    json.RawMessage `json:"attrs"`
	Inputs []refTensor     `json:"inputs"`
	Labels []int           `json:"labels"`
	Loss   float64         `json:"loss"`
	Grads  []*refTensor    `json:"grads"`
}

type refFile struct {
	Torch   string    `json:"torch_version"`
	Command string    `json:"command"`
	Cases   []refCase `json:"cases"`
}

func dtypeOf(s string) tensor.DType {
	if s == "float64" {
		return tensor.Float64
	}
	return tensor.Float32
}

// relErr is max|got − want| / max|want|.
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

func TestReference(t *testing.T) {
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
	for _, c := range f.Cases {
		if c.Kind == "mlp" { // package nn's
			continue
		}
		n++
		attrs := map[string]float64{}
		if err := json.Unmarshal(c.Raw, &attrs); err != nil {
			t.Fatalf("%s: attrs: %v", c.Name, err)
		}
		dt := dtypeOf(c.DType)
		in := make([]*ag.Node, len(c.Inputs))
		for i, x := range c.Inputs {
			v := tensor.FromValues(dt, x.Data, x.Shape...)
			if x.Grad {
				in[i] = ag.Var(v)
			} else {
				in[i] = ag.Const(v)
			}
		}
		var out *ag.Node
		switch c.Kind {
		case "cross-entropy":
			out = loss.CrossEntropy(in[0], c.Labels, attrs["smoothing"])
		case "hinge":
			out = loss.Hinge(in[0], c.Labels, attrs["margin"])
		case "mse":
			out = loss.MSE(in[0], in[1])
		case "bce":
			out = loss.BCEWithLogits(in[0], in[1])
		case "l1":
			out = loss.L1(in, attrs["lambda"])
		case "l2":
			out = loss.L2(in, attrs["lambda"])
		default:
			t.Fatalf("%s: unknown kind %q", c.Name, c.Kind)
		}
		ag.Backward(out)
		tol := refTol[c.DType]
		check := func(what string, got, want []float64) {
			e := relErr(got, want)
			worst[c.DType] = math.Max(worst[c.DType], e)
			if !(e <= tol) {
				t.Errorf("%s %s: %s: relative error %.3g > %g", c.Name, c.DType, what, e, tol)
			}
		}
		check("loss", []float64{out.Item()}, []float64{c.Loss})
		for i, g := range c.Grads {
			if g == nil {
				continue
			}
			check("grad of input "+string(rune('0'+i)), in[i].Grad().Values(), g.Data)
		}
	}
	if n < 14 {
		t.Errorf("only %d loss cases in %s", n, refPath)
	}
	t.Logf("worst relative error vs torch: float64 %.3g, float32 %.3g", worst["float64"], worst["float32"])
}
