package nn_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// everyKind is a spec that uses every built-in layer kind, for an input
// example of shape everyKindInput ([C, H, W]).
const everyKind = "conv(4, 3, pad=1)-relu-batchnorm2d-conv(4, 3, same=true, groups=2, bias=false)-groupnorm(2)-" +
	"maxpool(2, ceil_mode=true)-convt(3, 2, stride=2)-avgpool(3, stride=1, pad=1)-dropout2d(0.1)-adaptiveavgpool(3)-" +
	"layernorm(dims=2)-flatten-linear(8)-batchnorm1d-" +
	"linear(8, init=he-uniform)-relu-linear(8, bias=false)-leakyrelu(0.2)-" +
	"dropout(0.1)-linear(8)-sigmoid-linear(8)-tanh-linear(8)-elu(0.5)-linear(8)-gelu-" +
	"linear(8)-gelu(tanh)-linear(8)-silu-linear(8)-softplus-seq(linear(4)-relu)-linear(3)"

var everyKindInput = []int{2, 6, 6}

func TestSpecCoversEveryKind(t *testing.T) {
	s, err := nn.ParseText(everyKind)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	var visit func(nn.Spec)
	visit = func(s nn.Spec) {
		used[s.Type] = true
		for _, l := range s.Layers {
			visit(l)
		}
	}
	visit(s)
	for _, k := range nn.Kinds() {
		if !used[k.Name] && !strings.HasPrefix(k.Name, "Test") {
			t.Errorf("kind %s is not in everyKind", k.Name)
		}
	}
}

// TestSpecRoundTrips resolves a spec of every kind, then checks that its
// JSON and text forms, and the spec of the built model, all give it back,
// and that the model built from each gives the same outputs.
func TestSpecRoundTrips(t *testing.T) {
	parsed, err := nn.ParseText(everyKind)
	if err != nil {
		t.Fatal(err)
	}
	s, out, err := nn.Resolve(parsed, everyKindInput)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out, []int{3}) {
		t.Errorf("output shape %v, want [3]", out)
	}
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back nn.Spec
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if !nn.Equal(s, back) {
		t.Errorf("JSON round trip:\n%s\n%s", js, mustJSON(back))
	}
	text := s.Text()
	reparsed, err := nn.ParseText(text)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	reresolved, _, err := nn.Resolve(reparsed, everyKindInput)
	if err != nil {
		t.Fatal(err)
	}
	if !nn.Equal(s, reresolved) {
		t.Errorf("text round trip %q:\n%s\n%s", text, js, mustJSON(reresolved))
	}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		m, err := nn.Build(s, dt, tensor.NewRand(3))
		if err != nil {
			t.Fatal(err)
		}
		of, err := nn.SpecOf(m)
		if err != nil {
			t.Fatal(err)
		}
		if !nn.Equal(s, of) {
			t.Errorf("SpecOf(Build(s)):\n%s\n%s", js, mustJSON(of))
		}
		m2, err := nn.Build(of, dt, tensor.NewRand(3))
		if err != nil {
			t.Fatal(err)
		}
		nn.SetTraining(m, false)
		nn.SetTraining(m2, false)
		x := ag.Const(tensor.Normal(tensor.NewRand(4), dt, 0, 1, append([]int{5}, everyKindInput...)...))
		a, b := m.Forward(x).Value(), m2.Forward(x).Value()
		if !slices.Equal(a.Shape(), []int{5, 3}) || !slices.Equal(a.Values(), b.Values()) {
			t.Errorf("%v: outputs differ or have shape %v", dt, a.Shape())
		}
		held := nn.NumParams(m)
		for _, b := range nn.Buffers(m) {
			held += b.Value.Len()
		}
		if want, _ := nn.Size(s); int64(held) != want {
			t.Errorf("Size %d, built model holds %d in parameters and buffers", want, held)
		}
	}
}

func mustJSON(s nn.Spec) string {
	b, err := json.Marshal(s)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestMLPSpecMatchesHandBuilt(t *testing.T) {
	cfg := nn.MLPConfig{In: 4, Hidden: []int{5, 6}, Out: 3, Activation: "tanh", Dropout: 0.25, Init: "xavier-normal", DType: tensor.Float64}
	net, err := nn.NewMLP(cfg, tensor.NewRand(9))
	if err != nil {
		t.Fatal(err)
	}
	want := `linear(5, init=xavier-normal)-tanh-dropout(0.25)-linear(6, init=xavier-normal)-tanh-dropout(0.25)-linear(3, init=xavier-normal)`
	s, _ := nn.SpecOf(net)
	if got := s.Text(); got != want {
		t.Errorf("text form\n got %s\nwant %s", got, want)
	}
	// The same seed through a parsed text spec gives the same weights.
	parsed, err := nn.ParseText(want)
	if err != nil {
		t.Fatal(err)
	}
	rs, _, err := nn.Resolve(parsed, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build(rs, tensor.Float64, tensor.NewRand(9))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range nn.StateDict(net) {
		if !slices.Equal(v.Values(), nn.StateDict(m)[k].Values()) {
			t.Errorf("%s differs", k)
		}
	}
}

// TestBadSpecs: each malformed spec is one error line naming the layer
// and, where one is at fault, the setting.
func TestBadSpecs(t *testing.T) {
	cases := []struct {
		spec  string
		in    []int
		words []string
	}{
		{`linear(4)-conv9(3)`, nil, []string{"unknown layer", "conv9"}},
		{`linear(0)`, nil, []string{"layer 0 (Linear)", `"out"`, "outside [1"}},
		{`linear(-3)`, nil, []string{"layer 0 (Linear)", `"out"`}},
		{`linear(2.5)`, nil, []string{`"out"`, "integer"}},
		{`relu-linear`, nil, []string{"layer 1 (Linear)", `"out"`, "missing"}},
		{`linear(4, wings=2)`, nil, []string{"layer 0 (Linear)", `"wings"`, "unknown setting"}},
		{`dropout(1)`, nil, []string{"layer 0 (Dropout)", `"p"`, "outside [0, 1)"}},
		{`dropout(nan)`, nil, []string{`"p"`}},
		{`linear(4, bias=maybe)`, nil, []string{`"bias"`, "true or false"}},
		{`linear(4, init=glorot)`, nil, []string{`"init"`, "glorot", "he-uniform"}},
		{`linear(4, 5, 6, 7)`, nil, []string{"layer 0 (Linear)", "too many"}},
		{`linear(4`, nil, []string{"column"}},
		{`linear(4)--relu`, nil, []string{"column"}},
		{`gelu(approximate=erf)`, nil, []string{`"approximate"`, "none, tanh"}},
		{`relu(1)`, nil, []string{"ReLU", "too many", "no settings"}},
		{`linear(4, out=5)`, nil, []string{`"out"`, "twice"}},
		{`{"type":"Sequential","layers":[{"type":"Linear","in":3,"out":4},{"type":"Linear","in":5,"out":2}]}`, []int{3}, []string{"layer 1 (Linear)", `"in"`, "5", "4 features"}},
		{`{"type":"Sequential","layers":[{"type":"Linear","in":"3","out":4}]}`, nil, []string{"layer 0 (Linear)", `"in"`, "integer"}},
		{`{"type":"Sequential","layers":[{"type":"Linear","in":3}]}`, nil, []string{"layer 0", `"out"`, "missing"}},
		{`{"type":"Sequential","layers":[{"type":"Linear","out":4}]}`, nil, []string{"layer 0", `"in"`, "inferred"}},
		{`{"type":"Sequential","layers":[{"out":4}]}`, nil, []string{"layer 0", `"type"`, "missing"}},
		{`{"type":"ReLU","layers":[{"type":"ReLU"}]}`, nil, []string{"the model (ReLU)", "no layers"}},
		{`{"type":"Sequential","layers":[{"type":"Linear","in":1e20,"out":4}]}`, nil, []string{`"in"`}},
		{`{"type":"Sequential","layers":[{"type":"Sequential","layers":[{"type":"Linear","in":3,"out":4},{"type":"Tanh"},{"type":"Dropout","p":-1}]}]}`, nil, []string{"layer 0.2 (Dropout)", `"p"`}},
		{`{"type":"Sequential","layers":{}}`, nil, []string{`"layers"`, "list"}},
		{`[1,2]`, nil, []string{"column"}},
		{`{"type":"Sequential","layers":[null]}`, nil, []string{"layer 0", "null"}},
		{`flatten(start_dim=3)-linear(2)`, []int{4}, []string{"layer 0 (Flatten)", "do not fit"}},
		{`linear(2)`, []int{0}, []string{"input shape"}},
		{strings.Repeat(`{"type":"Sequential","layers":[`, 70) + strings.Repeat("]}", 70), nil, []string{"deeper than"}},
	}
	for _, tc := range cases {
		s, err := nn.ParseSpec(tc.spec)
		if err == nil {
			_, _, err = nn.Resolve(s, tc.in)
		}
		if err == nil {
			t.Errorf("%s: no error", tc.spec)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: error has several lines: %q", tc.spec, msg)
		}
		for _, w := range tc.words {
			if !strings.Contains(msg, w) {
				t.Errorf("%.60s: error %q does not say %q", tc.spec, msg, w)
			}
		}
	}
}

// TestBuildRefusesIncomplete: Build needs every setting, counts before it
// allocates, and refuses a dtype that is not a float.
func TestBuildRefusesIncomplete(t *testing.T) {
	s := nn.Seq(nn.L("Linear", "out", 4))
	if _, err := nn.Build(s, tensor.Float32, tensor.NewRand(1)); err == nil || !strings.Contains(err.Error(), `"in"`) {
		t.Errorf("Build of a spec without its input size: %v", err)
	}
	huge := nn.Seq(nn.L("Linear", "in", int64(1)<<31, "out", int64(1)<<31))
	n, err := nn.Size(huge)
	if err != nil || n < 1<<62 {
		t.Errorf("Size of a 2³¹×2³¹ layer: %d, %v", n, err)
	}
	if _, err := nn.Build(nn.Seq(nn.L("Linear", "in", 3, "out", 4)), tensor.DType(99), tensor.NewRand(1)); err == nil {
		t.Error("Build with a non-float dtype: no error")
	}
}

// scale2 is a user-defined kind registered through the same call as the
// built-in ones.
type scale2 struct{ k float64 }

func (s *scale2) Forward(x *ag.Node) *ag.Node {
	return ag.Mul(x, ag.Const(tensor.Scalar(x.DType(), s.k)))
}
func (s *scale2) Params() []nn.Param { return nil }
func (s *scale2) Spec() nn.Spec      { return nn.L("TestScale", "k", s.k) }

func init() {
	if err := nn.Register(nn.Kind{
		Name: "TestScale", Text: "testscale",
		Settings: []nn.Setting{{Name: "k", Type: nn.Float, Default: 2.0}},
		Build:    func(s nn.Spec, _ *nn.Builder) (nn.Module, error) { return &scale2{s.Float("k")}, nil },
	}); err != nil {
		panic(err)
	}
}

func TestUserKind(t *testing.T) {
	s, err := nn.ParseText("linear(2)-testscale(3)")
	if err != nil {
		t.Fatal(err)
	}
	rs, _, err := nn.Resolve(s, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build(rs, tensor.Float64, tensor.NewRand(1))
	if err != nil {
		t.Fatal(err)
	}
	x := ag.Const(tensor.FromFloat64([]float64{1, 2}, 1, 2))
	lin := m.(*nn.Sequential).Layers[0].Forward(x).Value().Values()
	got := m.Forward(x).Value().Values()
	for i := range got {
		if got[i] != 3*lin[i] {
			t.Errorf("user layer: %v, want 3×%v", got, lin)
		}
	}
	if err := nn.Register(nn.Kind{Name: "testscale", Build: func(nn.Spec, *nn.Builder) (nn.Module, error) { return nil, nil }}); err == nil {
		t.Error("registering a taken name: no error")
	}
	if err := nn.Register(nn.Kind{Name: "Bad-Name", Build: func(nn.Spec, *nn.Builder) (nn.Module, error) { return nil, nil }}); err == nil {
		t.Error("registering a name with '-': no error")
	}
}

// buildText parses, resolves for one example of shape in, and builds a
// float64 model from the seed 1.
func buildText(t *testing.T, text string, in ...int) nn.Module {
	t.Helper()
	return buildTextAs(t, text, in, tensor.Float64)
}

// buildTextAs is buildText in dtype dt.
func buildTextAs(t *testing.T, text string, in []int, dt tensor.DType) nn.Module {
	t.Helper()
	s, err := nn.ParseText(text)
	if err != nil {
		t.Fatal(err)
	}
	rs, _, err := nn.Resolve(s, in)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build(rs, dt, tensor.NewRand(1))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWalkAndFusion(t *testing.T) {
	m := buildText(t, "linear(4)-relu-seq(linear(3)-relu-dropout(0.5))-linear(2)", 3)
	var paths []string
	nn.Walk(m, func(path string, x nn.Module) error {
		paths = append(paths, fmt.Sprintf("%s:%T", path, x))
		return nil
	})
	want := []string{":*nn.Sequential", "0:*nn.Linear", "1:*nn.Activation", "2:*nn.Sequential",
		"2.0:*nn.Linear", "2.1:*nn.Activation", "2.2:*nn.Dropout", "3:*nn.Linear"}
	if !slices.Equal(paths, want) {
		t.Errorf("walk\n got %v\nwant %v", paths, want)
	}
	nn.SetTraining(m, false)
	if nn.IsTraining(m) {
		t.Error("nested dropout still in training mode")
	}
	nn.SetTraining(m, true)
	if !nn.IsTraining(m) {
		t.Error("not in training mode")
	}
	// The fused forward records LinearReLU, the trace the same graph.
	x := ag.Const(tensor.Normal(tensor.NewRand(2), tensor.Float64, 0, 1, 2, 3))
	y := m.Forward(x)
	var ops []string
	var visit func(n *ag.Node)
	visit = func(n *ag.Node) {
		ops = append(ops, n.Op())
		for _, in := range n.Inputs() {
			visit(in)
		}
	}
	visit(y)
	if c := strings.Count(strings.Join(ops, " "), "LinearReLU"); c != 2 {
		t.Errorf("forward graph has %d LinearReLU ops, want 2: %v", c, ops)
	}
}

// Every preset parses, resolves for 28×28 images to 10 scores, and has the
// parameter count its description gives.
func TestPresets(t *testing.T) {
	for _, name := range nn.PresetNames() {
		s, err := nn.ParseSpec(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rs, out, err := nn.Resolve(s, []int{1, 28, 28})
		if err != nil || !slices.Equal(out, []int{10}) {
			t.Fatalf("%s: output %v, %v", name, out, err)
		}
		m, err := nn.Build(rs, tensor.Float32, tensor.NewRand(1))
		if err != nil {
			t.Fatal(err)
		}
		n := nn.NumParams(m)
		_, doc, _ := nn.Preset(name)
		if want := fmt.Sprintf("%d %03d parameters", n/1000, n%1000); !strings.Contains(doc, want) {
			t.Errorf("%s: %d parameters, its description says %q", name, n, doc)
		}
	}
	if _, _, ok := nn.Preset("nope"); ok {
		t.Error("an unknown preset was found")
	}
}
