package nn_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/gradcheck"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// awayFromZero draws from ±[0.1, 2]: clear of every activation's kink.
func awayFromZero(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.Uniform(rng, tensor.Float64, 0.1, 2, shape...)
	for i := range t.Float64s() {
		if rng.IntN(2) == 0 {
			t.Float64s()[i] *= -1
		}
	}
	return t
}

func randn(rng *rand.Rand, shape ...int) *tensor.Tensor {
	return tensor.Normal(rng, tensor.Float64, 0, 1, shape...)
}

type gcCase struct {
	name   string
	inputs []*tensor.Tensor
	f      gradcheck.Fn
}

func runGradcheck(t *testing.T, cases []gcCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := gradcheck.Check(tc.f, tc.inputs, tensor.NewRand(2), gradcheck.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("max rel err %.2g over %d elements", res.MaxRelErr, res.Checked)
			if !res.Pass || res.Checked == 0 {
				t.Error(res)
			}
		})
	}
}

// TestGradcheckLayers checks every layer's gradients, with respect to its
// input and its parameters, against finite differences in float64.
func TestGradcheckLayers(t *testing.T) {
	rng := tensor.NewRand(1)
	linear := func(in []*ag.Node) *nn.Linear {
		s := in[1].Shape()
		return &nn.Linear{Weight: in[1], Bias: in[2], In: s[1], Out: s[0]}
	}
	cases := []gcCase{
		{"Linear", []*tensor.Tensor{randn(rng, 4, 3), randn(rng, 5, 3), randn(rng, 5)},
			func(in []*ag.Node) *ag.Node { return linear(in).Forward(in[0]) }},
		{"Linear/batched", []*tensor.Tensor{randn(rng, 2, 4, 3), randn(rng, 5, 3), randn(rng, 5)},
			func(in []*ag.Node) *ag.Node { return linear(in).Forward(in[0]) }},
		{"Linear/no bias", []*tensor.Tensor{randn(rng, 4, 3), randn(rng, 2, 3)},
			func(in []*ag.Node) *ag.Node {
				return (&nn.Linear{Weight: in[1], In: 3, Out: 2}).Forward(in[0])
			}},
		{"Sequential/tanh MLP", []*tensor.Tensor{randn(rng, 4, 3), randn(rng, 5, 3), randn(rng, 5), randn(rng, 2, 5), randn(rng, 2)},
			func(in []*ag.Node) *ag.Node {
				return nn.NewSequential(
					&nn.Linear{Weight: in[1], Bias: in[2], In: 3, Out: 5}, nn.Tanh(),
					&nn.Linear{Weight: in[3], Bias: in[4], In: 5, Out: 2}).Forward(in[0])
			}},
		{"Dropout/train", []*tensor.Tensor{randn(rng, 6, 5)},
			func(in []*ag.Node) *ag.Node {
				// A fresh generator with a fixed seed on every call: the same mask.
				return nn.NewDropout(0.4, tensor.NewRand(9)).Forward(in[0])
			}},
		{"Dropout/eval", []*tensor.Tensor{randn(rng, 6, 5)},
			func(in []*ag.Node) *ag.Node {
				d := nn.NewDropout(0.4, tensor.NewRand(9))
				d.SetTraining(false)
				return ag.Square(d.Forward(in[0]))
			}},
	}
	for _, name := range nn.ActivationNames() {
		act, err := nn.ActivationByName(name)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, gcCase{"Activation/" + name, []*tensor.Tensor{awayFromZero(rng, 4, 6)},
			func(in []*ag.Node) *ag.Node { return act.Forward(in[0]) }})
	}
	for _, a := range []*nn.Activation{nn.LeakyReLU(0.2), nn.ELU(0.5)} {
		cases = append(cases, gcCase{"Activation/" + a.String(), []*tensor.Tensor{awayFromZero(rng, 4, 6)},
			func(in []*ag.Node) *ag.Node { return a.Forward(in[0]) }})
	}
	runGradcheck(t, cases)
}

// TestGradcheckMLP checks a whole NewMLP network with respect to all its
// parameters at once: the parameters are replaced by the checker's inputs.
func TestGradcheckMLP(t *testing.T) {
	for _, act := range []string{"tanh", "gelu", "silu", "softplus", "sigmoid"} {
		net, err := nn.NewMLP(nn.MLPConfig{In: 3, Hidden: []int{4, 3}, Out: 2, Activation: act, DType: tensor.Float64}, tensor.NewRand(5))
		if err != nil {
			t.Fatal(err)
		}
		ps := net.Params()
		inputs := []*tensor.Tensor{randn(tensor.NewRand(6), 5, 3)}
		for _, p := range ps {
			inputs = append(inputs, p.Node.Value().Clone())
		}
		runGradcheck(t, []gcCase{{"MLP/" + act, inputs, func(in []*ag.Node) *ag.Node {
			// Rebuild the network around the given parameter nodes.
			var mods []nn.Module
			next := 1 // in[next], in[next+1] are the next Linear's weight and bias
			for _, m := range net.Layers {
				if l, ok := m.(*nn.Linear); ok {
					mods = append(mods, &nn.Linear{Weight: in[next], Bias: in[next+1], In: l.In, Out: l.Out})
					next += 2
				} else {
					mods = append(mods, m)
				}
			}
			return nn.NewSequential(mods...).Forward(in[0])
		}}})
	}
}

func TestLinearShapePanic(t *testing.T) {
	l := nn.NewLinear(3, 2, tensor.Float64, tensor.NewRand(1))
	for _, shape := range [][]int{{4, 5}, {5}, {}} {
		err := tensor.Try(func() { l.Forward(ag.Const(tensor.Zeros(tensor.Float64, shape...))) })
		var se *tensor.ShapeError
		if !errors.As(err, &se) || se.Op != "Linear" {
			t.Fatalf("input %v: got %v, want a *tensor.ShapeError naming Linear", shape, err)
		}
		if !strings.Contains(err.Error(), "[2 3]") {
			t.Errorf("error %q does not name the weight's shape", err)
		}
	}
}

func TestSequentialNames(t *testing.T) {
	rng := tensor.NewRand(1)
	inner := nn.NewSequential(nn.NewLinear(4, 4, tensor.Float32, rng), nn.ReLU(), nn.NewLinear(4, 3, tensor.Float32, rng))
	net := nn.NewSequential(nn.NewLinear(2, 4, tensor.Float32, rng), inner, nn.Tanh(), nn.NewLinear(3, 1, tensor.Float32, rng))
	var names []string
	var shapes [][]int
	for _, p := range net.Params() {
		names = append(names, p.Name)
		shapes = append(shapes, p.Node.Shape())
	}
	want := []string{"0.weight", "0.bias", "1.0.weight", "1.0.bias", "1.2.weight", "1.2.bias", "3.weight", "3.bias"}
	if !slices.Equal(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
	if !slices.Equal(shapes[4], []int{3, 4}) || !slices.Equal(shapes[5], []int{3}) {
		t.Errorf("1.2.* shapes %v %v, want [3 4] [3]", shapes[4], shapes[5])
	}
	if got := nn.NumParams(net); got != (2*4+4)+(4*4+4)+(4*3+3)+(3+1) {
		t.Errorf("NumParams = %d", got)
	}
	// Stable: the same names and nodes on every call.
	again := net.Params()
	for i, p := range net.Params() {
		if p != again[i] {
			t.Fatalf("Params changed between calls at %d", i)
		}
	}
}

func TestSetTrainingWalksNested(t *testing.T) {
	d1 := nn.NewDropout(0.5, tensor.NewRand(1))
	d2 := nn.NewDropout(0.5, tensor.NewRand(2))
	net := nn.NewSequential(nn.ReLU(), nn.NewSequential(d1, nn.NewSequential(d2)))
	if !d1.Training() || !d2.Training() {
		t.Fatal("a new Dropout should be in training mode")
	}
	nn.SetTraining(net, false)
	if d1.Training() || d2.Training() {
		t.Error("SetTraining(false) did not reach nested Dropout layers")
	}
	nn.SetTraining(net, true)
	if !d1.Training() || !d2.Training() {
		t.Error("SetTraining(true) did not reach nested Dropout layers")
	}
	nn.SetTraining(nn.ReLU(), false) // no TrainingSetter: a no-op
}

func TestDropout(t *testing.T) {
	const n, p = 200000, 0.3
	x := ag.Const(tensor.Ones(tensor.Float64, 400, n/400))

	// Evaluation: identity, and nothing drawn.
	rng := tensor.NewRand(3)
	d := nn.NewDropout(p, rng)
	d.SetTraining(false)
	if y := d.Forward(x); !tensor.AllClose(y.Value(), x.Value(), 0, 0) {
		t.Error("eval-mode Dropout changed its input")
	}
	if rng.Uint64() != tensor.NewRand(3).Uint64() {
		t.Error("eval-mode Dropout drew from its generator")
	}

	// Training: a fraction p zeroed, the rest scaled by 1/(1−p), the mean kept.
	d.SetTraining(true)
	y := d.Forward(x).Value().Values()
	zeros, sum := 0, 0.0
	for _, v := range y {
		switch {
		case v == 0:
			zeros++
		case math.Abs(v-1/(1-p)) > 1e-15:
			t.Fatalf("survivor %v, want 1/(1−p) = %v", v, 1/(1-p))
		}
		sum += v
	}
	frac := float64(zeros) / n
	se := math.Sqrt(p * (1 - p) / n) // binomial standard error
	if math.Abs(frac-p) > 5*se {
		t.Errorf("zeroed fraction %.4f, want %.2f ± %.4f", frac, p, 5*se)
	}
	// mean = (1−frac)/(1−p); its standard error is se/(1−p).
	if mean := sum / n; math.Abs(mean-1) > 5*se/(1-p) {
		t.Errorf("mean %.4f, want 1 (expectation preserved)", mean)
	}

	// The same seed gives the same mask.
	a := nn.NewDropout(p, tensor.NewRand(8)).Forward(x).Value()
	b := nn.NewDropout(p, tensor.NewRand(8)).Forward(x).Value()
	if !tensor.AllClose(a, b, 0, 0) {
		t.Error("same seed, different masks")
	}
	// p = 0 draws nothing and is the identity.
	r0 := tensor.NewRand(4)
	if y := nn.NewDropout(0, r0).Forward(x); y != x || r0.Uint64() != tensor.NewRand(4).Uint64() {
		t.Error("Dropout(0) is not the identity or drew from its generator")
	}
}

func TestDropoutBadP(t *testing.T) {
	for _, p := range []float64{-0.1, 1, 1.5, math.NaN()} {
		func() {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.Contains(s, "not in [0, 1)") {
					t.Errorf("p = %v: panic %v, want a message about [0, 1)", p, r)
				}
			}()
			nn.NewDropout(p, tensor.NewRand(1))
		}()
	}
}

func TestActivationByName(t *testing.T) {
	for _, name := range nn.ActivationNames() {
		m, err := nn.ActivationByName(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if a := m.(*nn.Activation); a.Name() != name || len(a.Params()) != 0 {
			t.Errorf("%s: Name() = %q, %d params", name, a.Name(), len(a.Params()))
		}
	}
	if m, _ := nn.ActivationByName("leaky-relu"); m.(*nn.Activation).String() != "LeakyReLU(0.01)" {
		t.Errorf("leaky-relu is %v, want LeakyReLU(0.01)", m)
	}
	_, err := nn.ActivationByName("Relu")
	if err == nil {
		t.Fatal("no error for an unknown activation")
	}
	for _, name := range nn.ActivationNames() {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not list %q", err, name)
		}
	}
}

// TestActivationValues spot-checks each activation at a few points against
// its formula.
func TestActivationValues(t *testing.T) {
	xs := []float64{-1.5, -0.2, 0.3, 2}
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	want := map[string]func(float64) float64{
		"relu": func(x float64) float64 { return math.Max(x, 0) },
		"leaky-relu": func(x float64) float64 {
			if x > 0 {
				return x
			}
			return 0.01 * x
		},
		"sigmoid": sig,
		"tanh":    math.Tanh,
		"elu": func(x float64) float64 {
			if x > 0 {
				return x
			}
			return math.Expm1(x)
		},
		"gelu": func(x float64) float64 { return x / 2 * (1 + math.Erf(x/math.Sqrt2)) },
		"gelu-tanh": func(x float64) float64 {
			return x / 2 * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
		},
		"silu":     func(x float64) float64 { return x * sig(x) },
		"softplus": func(x float64) float64 { return math.Log1p(math.Exp(x)) },
	}
	for _, name := range nn.ActivationNames() {
		m, _ := nn.ActivationByName(name)
		got := m.Forward(ag.Const(tensor.FromFloat64(slices.Clone(xs)))).Value().Values()
		for i, x := range xs {
			if w := want[name](x); math.Abs(got[i]-w) > 1e-14 {
				t.Errorf("%s(%v) = %v, want %v", name, x, got[i], w)
			}
		}
	}
}

func TestStateDictRoundTrip(t *testing.T) {
	cfg := nn.MLPConfig{In: 3, Hidden: []int{4}, Out: 2, DType: tensor.Float64}
	a, _ := nn.NewMLP(cfg, tensor.NewRand(1))
	b, _ := nn.NewMLP(cfg, tensor.NewRand(2))
	x := ag.Const(randn(tensor.NewRand(3), 5, 3))
	if tensor.AllClose(a.Forward(x).Value(), b.Forward(x).Value(), 0, 0) {
		t.Fatal("different seeds gave the same network")
	}
	if err := nn.LoadStateDict(b, nn.StateDict(a)); err != nil {
		t.Fatal(err)
	}
	if !tensor.AllClose(a.Forward(x).Value(), b.Forward(x).Value(), 0, 0) {
		t.Error("after LoadStateDict the networks differ")
	}
	// Loaded values are copies: changing a does not change b.
	a.Params()[0].Node.Value().Fill(7)
	if b.Params()[0].Node.Value().At(0, 0) == 7 {
		t.Error("LoadStateDict aliased the source tensors")
	}
}

// TestLinear1D checks PyTorch's rule for a 1-D input: [In] → [Out], the
// same values as the row of a batch of one, and gradients that flow.
func TestLinear1D(t *testing.T) {
	l := nn.NewLinear(3, 2, tensor.Float64, tensor.NewRand(1))
	x := ag.Var(tensor.FromFloat64([]float64{0.5, -1, 2}))
	y := l.Forward(x)
	if !slices.Equal(y.Shape(), []int{2}) {
		t.Fatalf("shape %v, want [2]", y.Shape())
	}
	batch := l.Forward(ag.Const(tensor.FromFloat64([]float64{0.5, -1, 2}, 1, 3)))
	if !slices.Equal(y.Value().Values(), batch.Value().Values()) {
		t.Errorf("1-D %v, batch of one %v", y.Value().Values(), batch.Value().Values())
	}
	ag.Backward(ag.Sum(y))
	if x.Grad() == nil || !slices.Equal(x.Grad().Shape(), []int{3}) {
		t.Fatalf("input gradient %v", x.Grad())
	}
	w := l.Weight.Value()
	for j := range 3 {
		if want := w.At(0, j) + w.At(1, j); math.Abs(x.Grad().At(j)-want) > 1e-15 {
			t.Errorf("dx[%d] = %v, want %v", j, x.Grad().At(j), want)
		}
	}
}

// TestLoadStateDictConvertsDType loads a float64 state dict into a float32
// model (a PyTorch F64 file into a default model).
func TestLoadStateDictConvertsDType(t *testing.T) {
	net, _ := nn.NewMLP(nn.MLPConfig{In: 3, Hidden: []int{4}, Out: 2, DType: tensor.Float32}, tensor.NewRand(1))
	sd := map[string]*tensor.Tensor{}
	for k, v := range nn.StateDict(net) {
		sd[k] = tensor.Full(tensor.Float64, 0.25, v.Shape()...)
	}
	if err := nn.LoadStateDict(net, sd); err != nil {
		t.Fatal(err)
	}
	got := nn.StateDict(net)["2.bias"]
	if got.DType() != tensor.Float32 || got.At(0) != 0.25 {
		t.Errorf("2.bias after loading: %v %v", got.DType(), got.Values())
	}
}

func TestLoadStateDictErrors(t *testing.T) {
	cfg := nn.MLPConfig{In: 3, Hidden: []int{4}, Out: 2, DType: tensor.Float32}
	net, _ := nn.NewMLP(cfg, tensor.NewRand(1))
	good := func() map[string]*tensor.Tensor {
		sd := map[string]*tensor.Tensor{}
		for k, v := range nn.StateDict(net) {
			sd[k] = tensor.Full(tensor.Float32, 5, v.Shape()...)
		}
		return sd
	}
	cases := []struct {
		name, key, word string
		edit            func(map[string]*tensor.Tensor)
	}{
		{"missing", "2.bias", "missing", func(sd map[string]*tensor.Tensor) { delete(sd, "2.bias") }},
		{"unexpected", "1.weight", "unexpected", func(sd map[string]*tensor.Tensor) { sd["1.weight"] = tensor.Zeros(tensor.Float32, 1) }},
		{"shape", "0.weight", "shape", func(sd map[string]*tensor.Tensor) { sd["0.weight"] = tensor.Zeros(tensor.Float32, 3, 4) }},
	}
	before := nn.StateDict(net)["2.weight"].Clone()
	for _, tc := range cases {
		sd := good()
		tc.edit(sd)
		err := nn.LoadStateDict(net, sd)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), `"`+tc.key+`"`) || !strings.Contains(err.Error(), tc.word) {
			t.Errorf("%s: error %q does not name key %q and say %q", tc.name, err, tc.key, tc.word)
		}
		if !tensor.AllClose(nn.StateDict(net)["2.weight"], before, 0, 0) {
			t.Errorf("%s: a failed load changed the parameters", tc.name)
		}
	}
}

func TestNewMLPLayout(t *testing.T) {
	cfg := nn.MLPConfig{In: 4, Hidden: []int{8, 6}, Out: 3, Activation: "gelu", Dropout: 0.2}
	net, err := nn.NewMLP(cfg, tensor.NewRand(1))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, m := range net.Layers {
		switch m := m.(type) {
		case *nn.Linear:
			kinds = append(kinds, m.String())
		case *nn.Activation:
			kinds = append(kinds, m.String())
		case *nn.Dropout:
			kinds = append(kinds, m.String())
		}
	}
	want := []string{"Linear(4, 8)", "GELU()", "Dropout(p=0.2)", "Linear(8, 6)", "GELU()", "Dropout(p=0.2)", "Linear(6, 3)"}
	if !slices.Equal(kinds, want) {
		t.Errorf("layers %v, want %v", kinds, want)
	}
	names := slices.Collect(func(yield func(string) bool) {
		for _, p := range net.Params() {
			if !yield(p.Name) {
				return
			}
		}
	})
	if wantN := []string{"0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias"}; !slices.Equal(names, wantN) {
		t.Errorf("names %v, want %v", names, wantN)
	}
	// The weights do not depend on the dropout setting.
	cfg.Dropout = 0
	plain, _ := nn.NewMLP(cfg, tensor.NewRand(1))
	for i, p := range plain.Params() {
		if !tensor.AllClose(p.Node.Value(), net.Params()[i].Node.Value(), 0, 0) {
			t.Errorf("%s differs with and without dropout", p.Name)
		}
	}
	// Defaults: relu, default init, float32.
	def, err := nn.NewMLP(nn.MLPConfig{In: 2, Out: 2, Hidden: []int{3}}, tensor.NewRand(1))
	if err != nil || def.Layers[1].(*nn.Activation).Name() != "relu" || def.Params()[0].Node.DType() != tensor.Float32 {
		t.Errorf("zero-value config: %v %v", def, err)
	}
}

func TestNewMLPErrors(t *testing.T) {
	base := nn.MLPConfig{In: 4, Hidden: []int{8}, Out: 3}
	cases := []struct {
		name, want string
		edit       func(*nn.MLPConfig)
	}{
		{"activation", "unknown activation", func(c *nn.MLPConfig) { c.Activation = "swish" }},
		{"init", "unknown init scheme", func(c *nn.MLPConfig) { c.Init = "kaiming" }},
		{"dropout", "dropout", func(c *nn.MLPConfig) { c.Dropout = 1 }},
		{"hidden", "hidden layer 0", func(c *nn.MLPConfig) { c.Hidden = []int{0} }},
		{"in", "at least 1", func(c *nn.MLPConfig) { c.In = 0 }},
	}
	for _, tc := range cases {
		cfg := base
		tc.edit(&cfg)
		rng := tensor.NewRand(1)
		_, err := nn.NewMLP(cfg, rng)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
		if rng.Uint64() != tensor.NewRand(1).Uint64() {
			t.Errorf("%s: a failed NewMLP drew from the generator", tc.name)
		}
	}
}
