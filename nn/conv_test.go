package nn_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// issueCNN is the CNN of issue 10, in the text form the CLI takes.
const issueCNN = "conv(32, 5, pad=2)-relu-maxpool(2)-conv(64, 5, pad=2)-relu-maxpool(2)-flatten-linear(128)-relu-linear(10)"

// The issue's CNN resolves on MNIST examples [1, 28, 28] to 10 scores,
// with PyTorch's parameter count and names.
func TestIssueCNNSpec(t *testing.T) {
	parsed, err := nn.ParseText(issueCNN)
	if err != nil {
		t.Fatal(err)
	}
	s, out, err := nn.Resolve(parsed, []int{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out, []int{10}) {
		t.Fatalf("output %v, want [10]", out)
	}
	shapes, err := nn.LayerShapes(s, []int{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shapes[2], []int{32, 14, 14}) || !slices.Equal(shapes[5], []int{64, 7, 7}) || !slices.Equal(shapes[6], []int{3136}) {
		t.Errorf("layer shapes %v", shapes)
	}
	// torch: sum(p.numel() for p in net.parameters()) for the same Sequential.
	const torchCount = 32*1*25 + 32 + 64*32*25 + 64 + 3136*128 + 128 + 128*10 + 10
	if n, _ := nn.Size(s); n != torchCount {
		t.Errorf("Size %d, want %d", n, torchCount)
	}
	m, err := nn.Build(s, tensor.Float32, tensor.NewRand(1))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name+fmt.Sprint(p.Node.Shape()))
	}
	want := []string{"0.weight[32 1 5 5]", "0.bias[32]", "3.weight[64 32 5 5]", "3.bias[64]", "7.weight[128 3136]", "7.bias[128]", "9.weight[10 128]", "9.bias[10]"}
	if !slices.Equal(names, want) {
		t.Errorf("parameters %v, want %v", names, want)
	}
	if txt := s.Text(); txt != issueCNN {
		t.Errorf("text form %q, want %q", txt, issueCNN)
	}
}

// PyTorch's default initialisation of Conv2d: U(−1/√fan_in, 1/√fan_in)
// for weight and bias, fan_in = in/groups·k².
func TestConvDefaultInitBounds(t *testing.T) {
	parsed, _ := nn.ParseText("conv(16, 3, groups=2)")
	s, _, err := nn.Resolve(parsed, []int{4, 8, 8})
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build(s, tensor.Float64, tensor.NewRand(2))
	if err != nil {
		t.Fatal(err)
	}
	bound := 1 / math.Sqrt(2*9)
	for _, p := range m.Params() {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range p.Node.Value().Values() {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo < -bound || hi > bound || hi-lo < bound {
			t.Errorf("%s: values in [%v, %v], want spread over ±%v", p.Name, lo, hi, bound)
		}
	}
	if sh := m.Params()[0].Node.Shape(); !slices.Equal(sh, []int{16, 2, 3, 3}) {
		t.Errorf("weight %v, want [16 2 3 3]", sh)
	}
}

// Sequential fuses Conv2d+ReLU+MaxPool2d into ag.Conv2DReLUMaxPool and
// Conv2d+ReLU into ag.Conv2DReLU; values and gradients equal, bit for bit,
// those of the layers run one by one.
func TestFusedConvReLUMatchesLayers(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		parsed, _ := nn.ParseText("conv(6, 3, pad=1)-relu-maxpool(2)-conv(5, 3, stride=2)-relu-flatten-linear(3)")
		s, _, err := nn.Resolve(parsed, []int{3, 9, 9})
		if err != nil {
			t.Fatal(err)
		}
		mod, err := nn.Build(s, dt, tensor.NewRand(4))
		if err != nil {
			t.Fatal(err)
		}
		m := mod.(*nn.Sequential)
		x := tensor.Normal(tensor.NewRand(5), dt, 0, 1, 4, 3, 9, 9)
		labels := []int{0, 1, 2, 0}
		grads := func(out *ag.Node) [][]float64 {
			for _, p := range m.Params() {
				p.Node.ZeroGrad()
			}
			ag.Backward(ag.SoftmaxCrossEntropy(out, labels))
			var g [][]float64
			for _, p := range m.Params() {
				g = append(g, p.Node.Grad().Values())
			}
			return append(g, out.Value().Values())
		}
		fused := m.Forward(ag.Const(x))
		n := fused
		ops := []string{}
		for n != nil && len(n.Inputs()) > 0 {
			ops = append(ops, n.Op())
			n = n.Inputs()[0]
		}
		if !slices.Equal(ops[len(ops)-2:], []string{"Conv2DReLU", "Conv2DReLUMaxPool"}) || slices.Contains(ops, "ReLU") {
			t.Fatalf("%v: the CNN did not fuse: ops %v", dt, ops)
		}
		unfused := ag.Const(x)
		for _, l := range m.Layers {
			unfused = l.Forward(unfused)
		}
		a, b := grads(fused), grads(unfused)
		for i := range a {
			for j := range a[i] {
				if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) {
					t.Fatalf("%v: tensor %d element %d: fused %v, layer by layer %v", dt, i, j, a[i][j], b[i][j])
				}
			}
		}
	}
}

// Dropout2d zeroes whole channels, scales the rest by 1/(1−p), and is the
// identity in evaluation.
func TestDropout2dZeroesChannels(t *testing.T) {
	d := nn.NewDropout2d(0.5, tensor.NewRand(7))
	x := ag.Const(tensor.Ones(tensor.Float64, 8, 6, 3, 2))
	y := d.Forward(x).Value()
	zeroed := 0
	for c := range 48 {
		vals := y.Values()[c*6 : (c+1)*6]
		for _, v := range vals[1:] {
			if v != vals[0] {
				t.Fatalf("channel %d is not uniform: %v", c, vals)
			}
		}
		switch vals[0] {
		case 0:
			zeroed++
		case 2:
		default:
			t.Fatalf("channel %d holds %v, want 0 or 2", c, vals[0])
		}
	}
	if zeroed < 12 || zeroed > 36 {
		t.Errorf("%d of 48 channels zeroed at p=0.5", zeroed)
	}
	d.SetTraining(false)
	if d.Forward(x) != x {
		t.Error("evaluation mode is not the identity")
	}
}

// In evaluation, a BatchNorm's output for one example does not depend on
// the rest of the batch; in training it does.
func TestBatchNormEvalIgnoresBatch(t *testing.T) {
	bn := nn.NewBatchNorm2d(2, tensor.Float64)
	rng := tensor.NewRand(8)
	a := tensor.Normal(rng, tensor.Float64, 0, 1, 3, 2, 2, 2)
	b := tensor.Concat(0, tensor.Slice(a, 0, 0, 1), tensor.Normal(rng, tensor.Float64, 5, 3, 2, 2, 2, 2))
	first := func() []float64 {
		ya := bn.Forward(ag.Const(a)).Value()
		yb := bn.Forward(ag.Const(b)).Value()
		return append(tensor.Slice(ya, 0, 0, 1).Contiguous().Values(), tensor.Slice(yb, 0, 0, 1).Contiguous().Values()...)
	}
	v := first()
	if slices.Equal(v[:8], v[8:]) {
		t.Error("training mode: the batch did not matter")
	}
	bn.SetTraining(false)
	v = first()
	if !slices.Equal(v[:8], v[8:]) {
		t.Error("evaluation mode: the batch changed an example's output")
	}
}

// In evaluation, Conv2d followed by BatchNorm2d runs as one convolution
// with folded weights (with the ReLU and max pooling after it fused too):
// the same outputs as the layers one by one (up to rounding), and the same
// gradients for the input and every parameter.
func TestConvBatchNormFoldedInEval(t *testing.T) {
	parsed, _ := nn.ParseText("conv(5, 3, pad=1)-batchnorm2d-relu-maxpool(2)-conv(4, 3, bias=false)-batchnorm2d-flatten-linear(3)")
	s, _, err := nn.Resolve(parsed, []int{2, 7, 7})
	if err != nil {
		t.Fatal(err)
	}
	mod, err := nn.Build(s, tensor.Float64, tensor.NewRand(9))
	if err != nil {
		t.Fatal(err)
	}
	m := mod.(*nn.Sequential)
	rng := tensor.NewRand(10)
	for _, p := range m.Params() { // norm weights start at ones
		v := p.Node.Value()
		v.CopyFrom(tensor.Add(v, tensor.Normal(rng, v.DType(), 0, 0.3, v.Shape()...)))
	}
	for range 3 { // running statistics away from 0 and 1
		m.Forward(ag.Const(tensor.Normal(rng, tensor.Float64, 1, 2, 6, 2, 7, 7)))
	}
	nn.SetTraining(m, false)
	x := ag.Var(tensor.Normal(rng, tensor.Float64, 0, 1, 3, 2, 7, 7))
	run := func(fused bool) [][]float64 {
		x.ZeroGrad()
		for _, p := range m.Params() {
			p.Node.ZeroGrad()
		}
		var y *ag.Node
		if fused {
			y = m.Forward(x)
		} else {
			y = x
			for _, l := range m.Layers {
				y = l.Forward(y)
			}
		}
		ag.Backward(ag.SoftmaxCrossEntropy(y, []int{0, 2, 1}))
		out := [][]float64{y.Value().Values(), x.Grad().Values()}
		for _, p := range m.Params() {
			out = append(out, p.Node.Grad().Values())
		}
		return out
	}
	fused, plain := run(true), run(false)
	for i := range fused {
		scale := 0.0
		for _, v := range plain[i] {
			scale = max(scale, math.Abs(v))
		}
		for j := range fused[i] {
			if math.Abs(fused[i][j]-plain[i][j]) > 1e-12*max(scale, 1) {
				t.Fatalf("tensor %d element %d: folded %v, layer by layer %v", i, j, fused[i][j], plain[i][j])
			}
		}
	}
	// The fused forward holds no BatchNorm op.
	var ops []string
	for n := m.Forward(x); n != nil && len(n.Inputs()) > 0; n = n.Inputs()[0] {
		ops = append(ops, n.Op())
	}
	if slices.Contains(ops, "Sub") || !slices.Equal(ops[len(ops)-2:], []string{"Conv2D", "Conv2DReLUMaxPool"}) {
		t.Errorf("not folded: ops %v", ops)
	}
}

// In training, BatchNorm followed by ReLU runs as one ag.BatchNormReLU:
// the same values, gradients and running statistics, bit for bit, as the
// two layers run one by one.
func TestFusedBatchNormReLUMatchesLayers(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		parsed, _ := nn.ParseText("conv(4, 3, pad=1)-batchnorm2d-relu-flatten-linear(6)-batchnorm1d-relu-linear(3)")
		s, _, err := nn.Resolve(parsed, []int{2, 5, 5})
		if err != nil {
			t.Fatal(err)
		}
		run := func(fused bool) [][]float64 {
			mod, err := nn.Build(s, dt, tensor.NewRand(11))
			if err != nil {
				t.Fatal(err)
			}
			m := mod.(*nn.Sequential)
			x := ag.Const(tensor.Normal(tensor.NewRand(12), dt, 0, 1, 5, 2, 5, 5))
			var y *ag.Node
			if fused {
				y = m.Forward(x)
				var ops []string
				for n := y; n != nil && len(n.Inputs()) > 0; n = n.Inputs()[0] {
					ops = append(ops, n.Op())
				}
				if !slices.Contains(ops, "BatchNormReLU") || slices.Contains(ops, "ReLU") {
					t.Fatalf("%v: not fused: ops %v", dt, ops)
				}
			} else {
				y = x
				for _, l := range m.Layers {
					y = l.Forward(y)
				}
			}
			ag.Backward(ag.SoftmaxCrossEntropy(y, []int{0, 1, 2, 0, 1}))
			out := [][]float64{y.Value().Values()}
			for _, p := range m.Params() {
				out = append(out, p.Node.Grad().Values())
			}
			for _, b := range nn.Buffers(m) {
				out = append(out, b.Value.Values())
			}
			return out
		}
		a, b := run(true), run(false)
		for i := range a {
			for j := range a[i] {
				if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) {
					t.Fatalf("%v: tensor %d element %d: fused %v, layer by layer %v", dt, i, j, a[i][j], b[i][j])
				}
			}
		}
	}
}

// A convolution too large to hold is refused by Size before anything is
// allocated, rather than overflowing the count.
func TestConvSizeOverflowIsAnError(t *testing.T) {
	parsed, err := nn.ParseText("conv(2000000000, 65536)")
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := nn.Resolve(parsed, []int{2000000000, 70000, 70000})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := nn.Size(s); err == nil {
		t.Fatalf("Size = %d, want an error", n)
	}
}
