package loss_test

import (
	"encoding/json"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/internal/reftest"
	"github.com/nabla-go/nabla/loss"
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
// entry; reftest.RelErr); at most 1e-10 in float64 and 1e-5 in float32.

const refPath = "../testdata/nn/reference.json"

var refTol = map[string]float64{"float64": 1e-10, "float32": 1e-5}

func TestReference(t *testing.T) {
	var f reftest.NNFile
	reftest.Load(t, refPath, &f)
	t.Logf("reference from torch %s (%s)", f.Torch, f.Command)
	ref := reftest.Checker{Tol: refTol}
	n := 0
	for _, c := range f.Cases {
		if c.Kind == "mlp" { // package nn's
			continue
		}
		n++
		attrs := map[string]float64{}
		if err := json.Unmarshal(c.Attrs, &attrs); err != nil {
			t.Fatalf("%s: attrs: %v", c.Name, err)
		}
		dt := reftest.DType(c.DType)
		in := make([]*ag.Node, len(c.Inputs))
		for i, x := range c.Inputs {
			in[i] = x.Node(dt)
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
		check := func(what string, got, want []float64) {
			t.Helper()
			ref.Check(t, c.Name, c.DType, what, got, want)
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
	ref.LogWorst(t)
}
