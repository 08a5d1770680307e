package nn_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// Predict gives the bits of Forward with no graph, for MLPs with every
// activation, Flatten and Dropout, the CNN presets (run through
// Sequential.Forward, fused, in evaluation mode), both dtypes, a batch, a
// single example, a 1-D input, and a change of input shape between calls
// (and back).
func TestPredictMatchesForward(t *testing.T) {
	presetText := func(name string) string {
		text, _, ok := nn.Preset(name)
		if !ok {
			t.Fatalf("no preset %s", name)
		}
		return text
	}
	cases := []struct {
		text   string
		in     []int
		shapes [][]int
	}{
		{"linear(64)-relu-linear(32)-relu-linear(10)", []int{20}, [][]int{{5, 20}, {1, 20}, {20}, {5, 20}}},
		{"flatten-linear(32)-tanh-dropout(0.3)-linear(16)-gelu-linear(10)", []int{1, 6, 6}, [][]int{{4, 1, 6, 6}, {1, 1, 6, 6}}},
		{"linear(16)-sigmoid-linear(16)-elu-linear(16)-leakyrelu(0.2)-linear(16)-silu-linear(16)-softplus-linear(16)-gelu(approximate=tanh)-linear(3)", []int{7}, [][]int{{9, 7}}},
		{"relu-linear(8)-relu-relu-linear(4)", []int{5}, [][]int{{3, 5}}},
		{presetText("lenet5"), []int{1, 28, 28}, [][]int{{3, 1, 28, 28}, {1, 1, 28, 28}}},
		{presetText("bncnn"), []int{1, 28, 28}, [][]int{{2, 1, 28, 28}}},
	}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, c := range cases {
			m := buildTextAs(t, c.text, c.in, dt)
			nn.SetTraining(m, false)
			p := nn.NewPredictor(m)
			rng := tensor.NewRand(7)
			for _, sh := range c.shapes {
				for range 2 { // set up, then warm, each with a new input tensor
					x := tensor.Normal(rng, dt, 0, 1, sh...)
					want := m.Forward(ag.Untracked(x)).Value()
					got := p.Predict(x)
					if !tensor.EqualShape(got.Shape(), want.Shape()) || !slices.Equal(got.Values(), want.Values()) {
						t.Fatalf("%v %s x%v: Predict differs from Forward", dt, c.text, sh)
					}
				}
			}
		}
	}
}

// Layers fuse within their own Sequential only, as in Forward: a
// convolution in a nested Sequential is not folded with the BatchNorm after
// it (a fold that is equal only up to rounding), and Dropout in training
// mode draws as Forward does.
func TestPredictNestedAndTraining(t *testing.T) {
	rng := tensor.NewRand(3)
	conv := nn.NewConv2d(3, 8, 3, 1, 1, tensor.Float32, rng)
	bn := nn.NewBatchNorm2d(8, tensor.Float32)
	bn.RunningMean = tensor.Normal(rng, tensor.Float32, 0, 1, 8)
	bn.RunningVar = tensor.Uniform(rng, tensor.Float32, 0.5, 2, 8)
	x := tensor.Normal(rng, tensor.Float32, 0, 1, 4, 3, 10, 10)
	for _, m := range []*nn.Sequential{
		nn.NewSequential(nn.NewSequential(conv), bn, nn.ReLU()),
		nn.NewSequential(conv, nn.NewSequential(bn, nn.ReLU()), nn.NewFlatten(1, -1), nn.NewSequential(nn.NewLinear(800, 5, tensor.Float32, rng), nn.ReLU())),
		nn.NewSequential(conv, bn, nn.ReLU()),
	} {
		nn.SetTraining(m, false)
		want := m.Forward(ag.Untracked(x)).Value()
		if got := nn.NewPredictor(m).Predict(x); !slices.Equal(got.Values(), want.Values()) {
			t.Errorf("%v: Predict differs from Forward", m.Layers)
		}
	}
	d1, d2 := nn.NewDropout(0.5, tensor.NewRand(9)), nn.NewDropout(0.5, tensor.NewRand(9))
	a := nn.NewSequential(nn.NewLinear(6, 6, tensor.Float32, tensor.NewRand(1)), d1)
	b := nn.NewSequential(nn.NewLinear(6, 6, tensor.Float32, tensor.NewRand(1)), d2)
	in := tensor.Ones(tensor.Float32, 3, 6)
	if got, want := nn.NewPredictor(a).Predict(in), b.Forward(ag.Untracked(in)).Value(); !slices.Equal(got.Values(), want.Values()) {
		t.Error("Dropout in training mode: Predict differs from Forward with the same generator")
	}
}

// A prediction fed back in (h = p.Predict(h), an iterated map) gives what
// Forward gives, although the input is the Predictor's own output buffer.
func TestPredictFeedBack(t *testing.T) {
	// 3×300 values: large enough for their buffers to be recycled.
	for _, text := range []string{"linear(300)", "linear(300)-tanh", "tanh-linear(300)-relu", "linear(300)-batchnorm1d", "batchnorm1d-tanh"} {
		m := buildTextAs(t, text, []int{300}, tensor.Float32)
		nn.SetTraining(m, false)
		p := nn.NewPredictor(m)
		h := tensor.Normal(tensor.NewRand(2), tensor.Float32, 0, 1, 3, 300)
		want := h
		for range 4 {
			want = m.Forward(ag.Untracked(want)).Value()
			h = p.Predict(h)
		}
		if !slices.Equal(h.Values(), want.Values()) {
			t.Errorf("%s: fed back four times, Predict differs from Forward", text)
		}
	}
}

// Once warm, predicting with an MLP allocates nothing, at batch 1 and at
// a batch, with the ReLU fused and with other activations in place, and
// a Flatten in front.
func TestPredictDoesNotAllocate(t *testing.T) {
	for _, c := range []struct {
		text string
		in   []int
		x    []int
	}{
		{"linear(64)-relu-linear(32)-relu-linear(10)", []int{20}, []int{1, 20}},
		{"linear(64)-relu-linear(32)-relu-linear(10)", []int{20}, []int{256, 20}},
		{"linear(256)-relu-linear(10)", []int{100}, []int{512, 100}}, // a product split over the threads
		{"linear(512)-relu-linear(10)", []int{784}, []int{1, 784}},   // a matrix–vector product split over the threads
		{"flatten-linear(32)-tanh-dropout(0.5)-linear(10)", []int{1, 6, 6}, []int{8, 1, 6, 6}},
		{"linear(16)-gelu-linear(16)-elu-linear(4)", []int{7}, []int{1, 7}},
	} {
		m := buildTextAs(t, c.text, c.in, tensor.Float32)
		nn.SetTraining(m, false)
		p := nn.NewPredictor(m)
		x := tensor.Normal(tensor.NewRand(1), tensor.Float32, 0, 1, c.x...)
		p.Predict(x)
		if n := testing.AllocsPerRun(20, func() { p.Predict(x) }); n != 0 {
			t.Errorf("%s x%v: %v allocations a prediction", c.text, c.x, n)
		}
	}
}

// Bad input panics as Forward does, naming the layer, and the Predictor
// works again afterwards.
func TestPredictBadInput(t *testing.T) {
	m := buildTextAs(t, "linear(8)-relu-linear(2)", []int{5}, tensor.Float32)
	p := nn.NewPredictor(m)
	err := tensor.Try(func() { p.Predict(tensor.New(tensor.Float32, 3, 6)) })
	var se *tensor.ShapeError
	if !errors.As(err, &se) || se.Op != "Linear" {
		t.Fatalf("a wrong width: %v, want a *tensor.ShapeError from Linear", err)
	}
	err = tensor.Try(func() { p.Predict(tensor.New(tensor.Float64, 3, 5)) })
	want := tensor.Try(func() { m.Forward(ag.Untracked(tensor.New(tensor.Float64, 3, 5))) })
	var de *tensor.DTypeError
	if !errors.As(err, &de) || want == nil || err.Error() != want.Error() {
		t.Fatalf("a wrong dtype: %v, want Forward's %v", err, want)
	}
	if got := p.Predict(tensor.New(tensor.Float32, 3, 5)); fmt.Sprint(got.Shape()) != "[3 2]" {
		t.Fatalf("after the errors: shape %v", got.Shape())
	}
}
