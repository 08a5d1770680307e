package loss_test

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/internal/reftest"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/tensor"
)

// TestTorchOptions compares the option-taking losses (CrossEntropyWith,
// SoftCrossEntropy, NLL, BCEWithLogitsWith, Huber, SmoothL1, KLDiv), their
// values and the gradients of every input that requires one, with
// PyTorch's. The numbers are in ../testdata/loss/reference.json, written
// by ../testdata/loss/gen_loss.py (run it with /usr/bin/python3 from the
// repository root; the file records the torch version). For reduction
// "none" the gradient is that of Σ loss·upstream, with a random upstream
// stored in the file.
//
// Error measure: reftest.RelErr (the worst absolute error relative to the
// largest reference entry), at most 1e-12 in float64 and 1e-5 in float32.
func TestTorchOptions(t *testing.T) {
	var f struct {
		Torch   string `json:"torch_version"`
		Command string `json:"command"`
		Cases   []struct {
			Name   string `json:"name"`
			Kind   string `json:"kind"`
			DType  string `json:"dtype"`
			Inputs []struct {
				Name  string    `json:"name"`
				Shape []int     `json:"shape"`
				Data  []float64 `json:"data"`
				Grad  bool      `json:"grad"`
				GData []float64 `json:"grad_data"`
			} `json:"inputs"`
			Labels   []int                      `json:"labels"`
			Options  map[string]json.RawMessage `json:"options"`
			Upstream []float64                  `json:"upstream"`
			Loss     reftest.Tensor             `json:"loss"`
		} `json:"cases"`
	}
	reftest.Load(t, "../testdata/loss/reference.json", &f)
	t.Logf("reference from torch %s (%s)", f.Torch, f.Command)
	ref := reftest.Checker{Tol: map[string]float64{"float64": 1e-12, "float32": 1e-5}}
	kinds := map[string]int{}
	for _, c := range f.Cases {
		t.Run(c.Name+"/"+c.DType, func(t *testing.T) {
			dt := reftest.DType(c.DType)
			in := map[string]*ag.Node{}
			for _, x := range c.Inputs {
				in[x.Name] = reftest.Tensor{Shape: x.Shape, Data: x.Data, Grad: x.Grad}.Node(dt)
			}
			o := decodeOptions(t, c.Options, dt)
			var out *ag.Node
			switch c.Kind {
			case "cross_entropy":
				out = loss.CrossEntropyWith(in["x"], c.Labels, loss.CrossEntropyOptions{Weight: o.weight, IgnoreIndex: o.ignore, LabelSmoothing: o.smoothing, Reduction: o.reduction})
			case "cross_entropy_prob":
				out = loss.SoftCrossEntropy(in["x"], in["t"], loss.CrossEntropyOptions{Weight: o.weight, LabelSmoothing: o.smoothing, Reduction: o.reduction})
			case "nll":
				out = loss.NLL(in["x"], c.Labels, loss.NLLOptions{Weight: o.weight, IgnoreIndex: o.ignore, Reduction: o.reduction})
			case "bce_logits":
				out = loss.BCEWithLogitsWith(in["x"], in["t"], loss.BCEOptions{Weight: o.weight, PosWeight: o.posWeight, Reduction: o.reduction})
			case "huber":
				out = loss.Huber(in["x"], in["t"], o.delta, o.reduction)
			case "smooth_l1":
				out = loss.SmoothL1(in["x"], in["t"], o.beta, o.reduction)
			case "kl_div":
				out = loss.KLDiv(in["x"], in["t"], loss.KLDivOptions{Reduction: o.reduction, LogTarget: o.logTarget})
			default:
				t.Fatalf("unknown kind %q", c.Kind)
			}
			kinds[c.Kind]++
			if !tensor.EqualShape(out.Shape(), c.Loss.Shape) {
				t.Fatalf("loss shape %v, torch %v", out.Shape(), c.Loss.Shape)
			}
			ref.Check(t, c.Name, c.DType, "loss", out.Value().Values(), c.Loss.Data)
			if c.Upstream != nil {
				ag.Backward(out, ag.WithUpstream(tensor.FromValues(dt, c.Upstream, out.Shape()...)))
			} else {
				ag.Backward(out)
			}
			for _, x := range c.Inputs {
				if x.Grad {
					ref.Check(t, c.Name, c.DType, "grad of "+x.Name, in[x.Name].Grad().Values(), x.GData)
				}
			}
		})
	}
	if len(kinds) != 7 || len(f.Cases) < 90 {
		t.Errorf("cases by kind %v (%d cases): want all 7 kinds and at least 90 cases", kinds, len(f.Cases))
	}
	ref.LogWorst(t)
}

type lossOptions struct {
	weight, posWeight *tensor.Tensor
	ignore            *int
	smoothing         float64
	reduction         loss.Reduction
	delta, beta       float64
	logTarget         bool
}

func decodeOptions(t *testing.T, raw map[string]json.RawMessage, dt tensor.DType) lossOptions {
	t.Helper()
	o := lossOptions{delta: 1, beta: 1}
	get := func(key string, v any) {
		if r, ok := raw[key]; ok {
			if err := json.Unmarshal(r, v); err != nil {
				t.Fatalf("option %s: %v", key, err)
			}
		}
	}
	tens := func(key string) *tensor.Tensor {
		var x *reftest.Tensor
		get(key, &x)
		if x == nil {
			return nil
		}
		return x.Tensor(dt)
	}
	o.weight, o.posWeight = tens("weight"), tens("pos_weight")
	get("ignore_index", &o.ignore)
	get("label_smoothing", &o.smoothing)
	get("delta", &o.delta)
	get("beta", &o.beta)
	get("log_target", &o.logTarget)
	red := "mean"
	get("reduction", &red)
	found := false
	for _, r := range []loss.Reduction{loss.Mean, loss.Sum, loss.None, loss.BatchMean} {
		if r.String() == red {
			o.reduction, found = r, true
		}
	}
	if !found {
		t.Fatalf("unknown reduction %q", red)
	}
	for k := range raw {
		switch k {
		case "weight", "pos_weight", "ignore_index", "label_smoothing", "delta", "beta", "log_target", "reduction":
		default:
			t.Fatalf("unknown option %q", k)
		}
	}
	return o
}

// TestOptionsDefaults checks that the zero options are PyTorch's defaults:
// CrossEntropyWith with none is CrossEntropy, BCEWithLogitsWith is
// BCEWithLogits, NLL of LogSoftmax is the cross-entropy, and labels equal
// to −100 are ignored while an IgnoreIndex of 0 ignores class 0.
func TestOptionsDefaults(t *testing.T) {
	rng := tensor.NewRand(7)
	x := ag.Const(randn(rng, 6, 3))
	y := []int{0, 2, 1, 1, 0, 2}
	close := func(what string, a, b *ag.Node) {
		t.Helper()
		if d := math.Abs(a.Item() - b.Item()); !(d < 1e-14) {
			t.Errorf("%s: %v vs %v", what, a.Item(), b.Item())
		}
	}
	close("CrossEntropyWith{}", loss.CrossEntropyWith(x, y, loss.CrossEntropyOptions{}), loss.CrossEntropy(x, y, 0))
	close("CrossEntropyWith{smoothing}", loss.CrossEntropyWith(x, y, loss.CrossEntropyOptions{LabelSmoothing: 0.3}), loss.CrossEntropy(x, y, 0.3))
	close("NLL(LogSoftmax)", loss.NLL(ag.LogSoftmax(x, 1), y, loss.NLLOptions{}), loss.CrossEntropy(x, y, 0))
	p := ag.Const(tensor.Uniform(rng, tensor.Float64, 0, 1, 6, 3))
	close("BCEWithLogitsWith{}", loss.BCEWithLogitsWith(x, p, loss.BCEOptions{}), loss.BCEWithLogits(x, p))

	ign := []int{0, -100, 1, -100, 0, 2}
	kept := loss.CrossEntropy(ag.IndexSelect(x, 0, []int{0, 2, 4, 5}), []int{0, 1, 0, 2}, 0)
	close("ignored −100", loss.CrossEntropyWith(x, ign, loss.CrossEntropyOptions{}), kept)
	zero := loss.CrossEntropyWith(x, []int{0, 1, 2, 0, 0, 1}, loss.CrossEntropyOptions{IgnoreIndex: new(0)})
	close("IgnoreIndex 0", zero, loss.CrossEntropy(ag.IndexSelect(x, 0, []int{1, 2, 5}), []int{1, 2, 1}, 0))
	if v := loss.CrossEntropyWith(x, []int{-100, -100, -100, -100, -100, -100}, loss.CrossEntropyOptions{}).Item(); !math.IsNaN(v) {
		t.Errorf("every label ignored: %v, want NaN (as PyTorch)", v)
	}
}

// TestOptionsPanics checks the programmer errors of the option-taking
// losses.
func TestOptionsPanics(t *testing.T) {
	x := ag.Const(tensor.New(tensor.Float64, 2, 3))
	cases := map[string]func(){
		"label out of range": func() { loss.CrossEntropyWith(x, []int{0, 3}, loss.CrossEntropyOptions{}) },
		"wrong label count":  func() { loss.NLL(x, []int{0}, loss.NLLOptions{}) },
		"weight shape": func() {
			loss.CrossEntropyWith(x, []int{0, 1}, loss.CrossEntropyOptions{Weight: tensor.New(tensor.Float64, 2)})
		},
		"smoothing > 1":      func() { loss.CrossEntropyWith(x, []int{0, 1}, loss.CrossEntropyOptions{LabelSmoothing: 1.5}) },
		"batchmean":          func() { loss.CrossEntropyWith(x, []int{0, 1}, loss.CrossEntropyOptions{Reduction: loss.BatchMean}) },
		"soft ignore index":  func() { loss.SoftCrossEntropy(x, x, loss.CrossEntropyOptions{IgnoreIndex: new(0)}) },
		"pos weight shape":   func() { loss.BCEWithLogitsWith(x, x, loss.BCEOptions{PosWeight: tensor.New(tensor.Float64, 2)}) },
		"huber delta 0":      func() { loss.Huber(x, x, 0, loss.Mean) },
		"smooth l1 negative": func() { loss.SmoothL1(x, x, -1, loss.Mean) },
		"kl shapes":          func() { loss.KLDiv(x, ag.Const(tensor.New(tensor.Float64, 3, 2)), loss.KLDivOptions{}) },
		"unknown reduction":  func() { loss.Huber(x, x, 1, loss.Reduction(9)) },
		"soft shapes differ": func() {
			loss.SoftCrossEntropy(x, ag.Const(tensor.New(tensor.Float64, 2, 2)), loss.CrossEntropyOptions{})
		},
		"huber batchmean":       func() { loss.Huber(x, x, 1, loss.BatchMean) },
		"bce weight wont widen": func() { loss.BCEWithLogitsWith(x, x, loss.BCEOptions{Weight: tensor.New(tensor.Float64, 4, 2, 3)}) },
	}
	for name, f := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
	if s := fmt.Sprint(loss.Mean, loss.Sum, loss.None, loss.BatchMean); s != "mean sum none batchmean" {
		t.Errorf("Reduction names %q", s)
	}
}
