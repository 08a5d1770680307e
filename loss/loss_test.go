package loss_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/gradcheck"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/tensor"
)

func randn(rng *rand.Rand, shape ...int) *tensor.Tensor {
	return tensor.Normal(rng, tensor.Float64, 0, 1, shape...)
}

func labelsOf(rng *rand.Rand, n, c int) []int {
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(c)
	}
	return y
}

// hingeInputs draws scores whose margin terms s_j − s_y + margin all stay
// at least 0.05 from the kink at 0.
func hingeInputs(rng *rand.Rand, n, c int, margin float64) (*tensor.Tensor, []int) {
	for {
		s := tensor.Normal(rng, tensor.Float64, 0, 1.5, n, c)
		y := labelsOf(rng, n, c)
		ok := true
		for i := range n {
			for j := range c {
				if j != y[i] && math.Abs(s.At(i, j)-s.At(i, y[i])+margin) < 0.05 {
					ok = false
				}
			}
		}
		if ok {
			return s, y
		}
	}
}

// awayFromZero draws from ±[0.1, 2].
func awayFromZero(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.Uniform(rng, tensor.Float64, 0.1, 2, shape...)
	for i := range t.Float64s() {
		if rng.IntN(2) == 0 {
			t.Float64s()[i] *= -1
		}
	}
	return t
}

// TestGradcheck checks every loss against central finite differences in
// float64, with inputs away from kinks.
func TestGradcheck(t *testing.T) {
	rng := tensor.NewRand(1)
	const n, c = 5, 4
	y := labelsOf(rng, n, c)
	hs, hy := hingeInputs(rng, n, c, 1)
	hs0, hy0 := hingeInputs(rng, n, c, 0.3)
	cases := []struct {
		name   string
		inputs []*tensor.Tensor
		f      gradcheck.Fn
	}{
		{"CrossEntropy", []*tensor.Tensor{randn(rng, n, c)}, func(in []*ag.Node) *ag.Node { return loss.CrossEntropy(in[0], y, 0) }},
		{"CrossEntropy/smoothing", []*tensor.Tensor{randn(rng, n, c)}, func(in []*ag.Node) *ag.Node { return loss.CrossEntropy(in[0], y, 0.2) }},
		{"Hinge/margin=1", []*tensor.Tensor{hs}, func(in []*ag.Node) *ag.Node { return loss.Hinge(in[0], hy, 1) }},
		{"Hinge/margin=0.3", []*tensor.Tensor{hs0}, func(in []*ag.Node) *ag.Node { return loss.Hinge(in[0], hy0, 0.3) }},
		{"MSE", []*tensor.Tensor{randn(rng, n, c), randn(rng, n, c)}, func(in []*ag.Node) *ag.Node { return loss.MSE(in[0], in[1]) }},
		{"BCEWithLogits", []*tensor.Tensor{tensor.Normal(rng, tensor.Float64, 0, 3, n, c), tensor.Uniform(rng, tensor.Float64, 0, 1, n, c)},
			func(in []*ag.Node) *ag.Node { return loss.BCEWithLogits(in[0], in[1]) }},
		{"L1", []*tensor.Tensor{awayFromZero(rng, 3, 4), awayFromZero(rng, 4)}, func(in []*ag.Node) *ag.Node { return loss.L1(in, 0.1) }},
		{"L2", []*tensor.Tensor{randn(rng, 3, 4), randn(rng, 4)}, func(in []*ag.Node) *ag.Node { return loss.L2(in, 0.1) }},
	}
	// The option-taking losses, with every option and reduction None (the
	// random upstream then weighs each example differently).
	w := tensor.Uniform(rng, tensor.Float64, 0.5, 2, c)
	yIgn := slices.Clone(y)
	yIgn[1] = -100
	ceAll := loss.CrossEntropyOptions{Weight: w, LabelSmoothing: 0.2}
	probs := func() *tensor.Tensor { return ag.Softmax(ag.Const(randn(rng, n, c)), 1).Value() }
	far := func() *tensor.Tensor { // pred − target away from the Huber kinks at ±0.5 and ±1
		d := awayFromZero(rng, n, c)
		for i, v := range d.Float64s() {
			if a := math.Abs(v); math.Abs(a-0.5) < 0.05 || math.Abs(a-1) < 0.05 {
				d.Float64s()[i] += 0.2
			}
		}
		return d
	}
	for _, r := range []loss.Reduction{loss.Mean, loss.Sum, loss.None} {
		ceAll.Reduction = r
		opts := ceAll
		add := func(name string, inputs []*tensor.Tensor, f gradcheck.Fn) {
			cases = append(cases, struct {
				name   string
				inputs []*tensor.Tensor
				f      gradcheck.Fn
			}{name + "/" + r.String(), inputs, f})
		}
		add("CrossEntropyWith", []*tensor.Tensor{randn(rng, n, c)}, func(in []*ag.Node) *ag.Node { return loss.CrossEntropyWith(in[0], yIgn, opts) })
		add("SoftCrossEntropy", []*tensor.Tensor{randn(rng, n, c), probs()}, func(in []*ag.Node) *ag.Node { return loss.SoftCrossEntropy(in[0], in[1], opts) })
		add("NLL", []*tensor.Tensor{randn(rng, n, c)}, func(in []*ag.Node) *ag.Node {
			return loss.NLL(in[0], yIgn, loss.NLLOptions{Weight: w, Reduction: r})
		})
		add("BCEWithLogitsWith", []*tensor.Tensor{randn(rng, n, c), tensor.Uniform(rng, tensor.Float64, 0, 1, n, c)}, func(in []*ag.Node) *ag.Node {
			return loss.BCEWithLogitsWith(in[0], in[1], loss.BCEOptions{PosWeight: w, Weight: tensor.Uniform(tensor.NewRand(9), tensor.Float64, 0.5, 2, n, 1), Reduction: r})
		})
		tgt := randn(rng, n, c)
		add("Huber", []*tensor.Tensor{tensor.Add(tgt, far())}, func(in []*ag.Node) *ag.Node { return loss.Huber(in[0], ag.Const(tgt), 0.5, r) })
		add("SmoothL1", []*tensor.Tensor{tensor.Add(tgt, far()), tgt}, func(in []*ag.Node) *ag.Node { return loss.SmoothL1(in[0], in[1], 1, r) })
		add("KLDiv", []*tensor.Tensor{randn(rng, n, c), probs()}, func(in []*ag.Node) *ag.Node {
			return loss.KLDiv(in[0], in[1], loss.KLDivOptions{Reduction: r})
		})
		add("KLDiv/log-target", []*tensor.Tensor{randn(rng, n, c), tensor.Log(probs())}, func(in []*ag.Node) *ag.Node {
			return loss.KLDiv(in[0], in[1], loss.KLDivOptions{Reduction: r, LogTarget: true})
		})
	}
	for _, name := range loss.Names() {
		f, err := loss.ByName(name)
		if err != nil {
			t.Fatal(err)
		}
		in := randn(rng, n, c)
		yy := y
		if name == "hinge" {
			in, yy = hingeInputs(rng, n, c, 1)
		}
		cases = append(cases, struct {
			name   string
			inputs []*tensor.Tensor
			f      gradcheck.Fn
		}{"ByName/" + name, []*tensor.Tensor{in}, func(in []*ag.Node) *ag.Node { return f(in[0], yy) }})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := gradcheck.Check(tc.f, tc.inputs, tensor.NewRand(2), gradcheck.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Pass {
				t.Error(res)
			}
			t.Logf("max rel err %.2g", res.MaxRelErr)
		})
	}
}

// TestSecondOrder checks that the losses are differentiable twice: the
// Hessian-vector product by double backward against central differences
// of the gradient.
func TestSecondOrder(t *testing.T) {
	rng := tensor.NewRand(3)
	const n, c = 4, 3
	y := labelsOf(rng, n, c)
	target := randn(rng, n, c)
	prob := tensor.Uniform(rng, tensor.Float64, 0, 1, n, c)
	fs := map[string]ag.Func{
		"CrossEntropy":           func(x *ag.Node) *ag.Node { return loss.CrossEntropy(x, y, 0) },
		"CrossEntropy/smoothing": func(x *ag.Node) *ag.Node { return loss.CrossEntropy(x, y, 0.1) },
		"MSE":                    func(x *ag.Node) *ag.Node { return loss.MSE(x, ag.Const(target)) },
		"BCEWithLogits":          func(x *ag.Node) *ag.Node { return loss.BCEWithLogits(x, ag.Const(prob)) },
		"L2":                     func(x *ag.Node) *ag.Node { return loss.L2([]*ag.Node{x}, 0.3) },
		"CrossEntropyWith": func(x *ag.Node) *ag.Node {
			return loss.CrossEntropyWith(x, []int{0, -100, 2, 1}, loss.CrossEntropyOptions{Weight: tensor.FromFloat64([]float64{1, 2, 0.5}), LabelSmoothing: 0.1})
		},
		"SoftCrossEntropy": func(x *ag.Node) *ag.Node { return loss.SoftCrossEntropy(x, ag.Const(prob), loss.CrossEntropyOptions{}) },
		"BCEWithLogitsWith": func(x *ag.Node) *ag.Node {
			return loss.BCEWithLogitsWith(x, ag.Const(prob), loss.BCEOptions{PosWeight: tensor.FromFloat64([]float64{1, 3, 0.5})})
		},
		"KLDiv": func(x *ag.Node) *ag.Node {
			return loss.KLDiv(ag.LogSoftmax(x, 1), ag.Const(prob), loss.KLDivOptions{Reduction: loss.BatchMean})
		},
	}
	for name, f := range fs {
		x, v := randn(rng, n, c), randn(rng, n, c)
		hv := ag.HVP(f, x, v).Values()
		grad := func(h float64) []float64 {
			xh := tensor.Add(x, tensor.Scale(v, h))
			_, g := ag.VJP(f, xh, tensor.Scalar(tensor.Float64, 1))
			return g.Values()
		}
		const h = 1e-5
		gp, gm := grad(h), grad(-h)
		var worst float64
		for i := range hv {
			fd := (gp[i] - gm[i]) / (2 * h)
			worst = math.Max(worst, math.Abs(hv[i]-fd)/math.Max(math.Abs(fd), 1e-3))
		}
		if worst > 1e-6 {
			t.Errorf("%s: HVP differs from finite differences of the gradient by %.3g", name, worst)
		}
	}
}

// TestHingeIsCS231n pins the formula on a hand-computed example (CS231n's
// cat/car/frog scores): per row Σ_{j≠y} max(0, s_j − s_y + 1).
func TestHingeIsCS231n(t *testing.T) {
	s := ag.Const(tensor.FromFloat64([]float64{
		3.2, 5.1, -1.7,
		1.3, 4.9, 2.0,
		2.2, 2.5, -3.1,
	}, 3, 3))
	got := loss.Hinge(s, []int{0, 1, 2}, 1).Item()
	want := (2.9 + 0 + 12.9) / 3 // the notes' 2.9, 0 and 12.9
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("Hinge = %v, want %v", got, want)
	}
}

// TestL2IsWeightDecay: the gradient of L2 with λ = wd/2 is wd·w, what
// PyTorch's SGD weight_decay=wd adds.
func TestL2IsWeightDecay(t *testing.T) {
	w := ag.Var(randn(tensor.NewRand(4), 3, 2))
	const wd = 0.01
	ag.Backward(loss.L2([]*ag.Node{w}, wd/2))
	want := tensor.Scale(w.Value(), wd)
	if !tensor.AllClose(w.Grad(), want, 1e-15, 0) {
		t.Errorf("grad %v, want %v", w.Grad(), want)
	}
}

// TestBCEAtZero: the gradient at x = 0 is σ(0) − t = 0.5 − t.
func TestBCEAtZero(t *testing.T) {
	x := ag.Var(tensor.Zeros(tensor.Float64, 1, 2))
	tg := ag.Const(tensor.FromFloat64([]float64{0, 1}, 1, 2))
	l := loss.BCEWithLogits(x, tg)
	ag.Backward(l)
	if got := x.Grad().Values(); got[0] != 0.25 || got[1] != -0.25 {
		t.Errorf("grad at 0 = %v, want [0.25 -0.25] (0.5 − t, over 2 elements)", got)
	}
	if math.Abs(l.Item()-math.Ln2) > 1e-15 {
		t.Errorf("loss at 0 = %v, want ln 2", l.Item())
	}
	// Large logits neither overflow nor lose the loss.
	big := ag.Const(tensor.FromFloat64([]float64{1000, -1000}, 1, 2))
	if v := loss.BCEWithLogits(big, ag.Const(tensor.FromFloat64([]float64{0, 1}, 1, 2))).Item(); math.Abs(v-1000) > 1e-9 {
		t.Errorf("BCE at ±1000 = %v, want 1000", v)
	}
}

func TestByNameErrors(t *testing.T) {
	_, err := loss.ByName("softmax")
	if err == nil {
		t.Fatal("no error for an unknown loss")
	}
	for _, n := range loss.Names() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list %q", err, n)
		}
	}
}

func TestShapePanics(t *testing.T) {
	x := ag.Const(tensor.Zeros(tensor.Float64, 2, 3))
	cases := map[string]func(){
		"CrossEntropy": func() { loss.CrossEntropy(x, []int{0, 3}, 0.1) },
		"Hinge":        func() { loss.Hinge(x, []int{0}, 1) },
		"MSE":          func() { loss.MSE(x, ag.Const(tensor.Zeros(tensor.Float64, 3, 2))) },
		"OneHot":       func() { loss.OneHot([]int{-1}, 3, tensor.Float64) },
		"L1":           func() { loss.L1(nil, 1) },
	}
	for op, f := range cases {
		err := tensor.Try(f)
		var se *tensor.ShapeError
		if !errors.As(err, &se) || se.Op != op {
			t.Errorf("%s: got %v, want a *tensor.ShapeError naming %s", op, err, op)
		}
	}
}
