package train_test

import (
	"fmt"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/kernels"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// The MLP workloads of the speed issue; bench/mlp_compare.py runs the same
// ones in PyTorch.
var mlpBenches = []struct {
	arch   string
	hidden []int
	batch  int // training batch; inference runs at 1000
}{
	{"784-512-256-10", []int{512, 256}, 128},
	{"784-100-10", []int{100}, 64},
}

func benchMLP(b *testing.B, hidden []int) (*nn.Sequential, []*ag.Node) {
	m, err := nn.NewMLP(nn.MLPConfig{In: 784, Hidden: hidden, Out: 10, Activation: "relu"}, tensor.NewRand(1))
	if err != nil {
		b.Fatal(err)
	}
	var params []*ag.Node
	for _, p := range m.Params() {
		params = append(params, p.Node)
	}
	return m, params
}

func benchBatch(n int) (*tensor.Tensor, []int) {
	rng := tensor.NewRand(2)
	x := tensor.Uniform(rng, tensor.Float32, 0, 1, n, 784)
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(10)
	}
	return x, y
}

func withThreads(b testing.TB, n int) {
	old := kernels.Threads()
	kernels.SetThreads(n)
	b.Cleanup(func() { kernels.SetThreads(old) })
}

// BenchmarkMLPTrainStep is one SGD-with-momentum step: forward, softmax
// cross-entropy, backward, update, and the release of the step's graph
// (its activations recycled for the next step, as Trainer.Step does). The learning rate is 0 (the update is
// still computed in full): trained on one repeated batch, the network
// would memorise it within a thousand steps, its softmax saturate and
// subnormal gradients slow every later step down twofold, so a long run
// would time a different computation from a short one.
func BenchmarkMLPTrainStep(b *testing.B) {
	for _, c := range mlpBenches {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/batch=%d/threads=%d", c.arch, c.batch, threads), func(b *testing.B) {
				withThreads(b, threads)
				m, params := benchMLP(b, c.hidden)
				opt := optim.NewSGD(params, optim.SGDConfig{LR: 0, Momentum: 0.9})
				x, y := benchBatch(c.batch)
				b.ReportAllocs()
				for b.Loop() {
					l := loss.CrossEntropy(m.Forward(ag.Const(x)), y, 0)
					opt.ZeroGrad()
					ag.Backward(l)
					opt.Step()
					ag.Release(l) // as Trainer.Step does
				}
				b.ReportMetric(float64(c.batch)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}

// BenchmarkMLPInference is a prediction at batch 1000 (nn.Predictor: no
// graph, no allocation).
func BenchmarkMLPInference(b *testing.B) {
	for _, c := range mlpBenches {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/batch=1000/threads=%d", c.arch, threads), func(b *testing.B) {
				withThreads(b, threads)
				m, _ := benchMLP(b, c.hidden)
				x, _ := benchBatch(1000)
				p := nn.NewPredictor(m)
				p.Predict(x)
				b.ReportAllocs()
				for b.Loop() {
					p.Predict(x)
				}
				b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}

// BenchmarkMLPForward is inference through the model's Forward under
// ag.NoGrad instead of a Predictor (the same values and products, with a
// graph's nodes and fresh output tensors), at batch 1000 and 1.
func BenchmarkMLPForward(b *testing.B) {
	for _, c := range mlpBenches {
		for _, batch := range []int{1000, 1} {
			b.Run(fmt.Sprintf("%s/batch=%d", c.arch, batch), func(b *testing.B) {
				m, _ := benchMLP(b, c.hidden)
				x, _ := benchBatch(batch)
				ag.NoGrad(func() { m.Forward(ag.Const(x)) })
				b.ReportAllocs()
				for b.Loop() {
					ag.NoGrad(func() { m.Forward(ag.Const(x)) })
				}
				b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}
