package nn_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/kernels"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// The CNN benchmarks time the issue-10 network (issueCNN) on MNIST-sized
// inputs [N, 1, 28, 28], float32, as bench/cnn_compare.py times PyTorch:
// a training step at batch 64 (forward, softmax cross-entropy, zero_grad,
// backward, SGD with momentum 0.9) and inference at batch 1000 with no
// graph.

func benchCNN(b *testing.B, text string) (*nn.Sequential, []*ag.Node) {
	b.Helper()
	parsed, err := nn.ParseText(text)
	if err != nil {
		b.Fatal(err)
	}
	s, _, err := nn.Resolve(parsed, []int{1, 28, 28})
	if err != nil {
		b.Fatal(err)
	}
	m, err := nn.Build(s, tensor.Float32, tensor.NewRand(1))
	if err != nil {
		b.Fatal(err)
	}
	var params []*ag.Node
	for _, p := range m.Params() {
		params = append(params, p.Node)
	}
	return m.(*nn.Sequential), params
}

func benchImages(n int) (*tensor.Tensor, []int) {
	rng := tensor.NewRand(2)
	x := tensor.Uniform(rng, tensor.Float32, 0, 1, n, 1, 28, 28)
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(10)
	}
	return x, y
}

// cpuTime is the CPU time (user and system, all threads) the process has
// used: on a shared machine, samples per CPU-second measure the work a
// step takes even while other processes hold the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports samples per CPU-second over the loop that started at
// cpu0.
func reportCPU(b *testing.B, samples float64, cpu0 time.Duration) {
	if d := cpuTime() - cpu0; d > 0 {
		b.ReportMetric(samples*float64(b.N)/d.Seconds(), "samples/CPU-s")
	}
}

func benchThreads(b *testing.B, n int) {
	old := kernels.Threads()
	kernels.SetThreads(n)
	b.Cleanup(func() { kernels.SetThreads(old) })
}

// bnCNN is a small CNN with batch normalisation (the CLI's bncnn preset).
const bnCNN = "conv(32, 3, pad=1)-batchnorm2d-relu-maxpool(2)-conv(64, 3, pad=1)-batchnorm2d-relu-maxpool(2)-flatten-linear(128)-relu-dropout(0.3)-linear(10)"

// BenchmarkBNCNNTrainStep is BenchmarkCNNTrainStep for bnCNN: the cost of
// BatchNorm in training (batch statistics, running statistics, and its
// composed backward pass).
func BenchmarkBNCNNTrainStep(b *testing.B) { benchTrainStep(b, bnCNN) }

// BenchmarkCNNTrainStep is one SGD-with-momentum step of the issue's CNN
// at batch 64. The learning rate is 0 (the update is still computed in
// full), so that every step times the same network.
func BenchmarkCNNTrainStep(b *testing.B) { benchTrainStep(b, issueCNN) }

func benchTrainStep(b *testing.B, arch string) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("batch=64/threads=%d", threads), func(b *testing.B) {
			benchThreads(b, threads)
			m, params := benchCNN(b, arch)
			opt := optim.NewSGD(params, optim.SGDConfig{LR: 0, Momentum: 0.9})
			x, y := benchImages(64)
			step := func() {
				l := ag.SoftmaxCrossEntropy(m.Forward(ag.Const(x)), y)
				opt.ZeroGrad()
				ag.Backward(l)
				opt.Step()
				ag.Release(l) // as Trainer.Step does
			}
			step()
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				step()
			}
			b.ReportMetric(64*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			reportCPU(b, 64, cpu0)
		})
	}
}

// BenchmarkCNNInference is a forward pass of the issue's CNN at batch
// 1000 with no graph.
func BenchmarkCNNInference(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("batch=1000/threads=%d", threads), func(b *testing.B) {
			benchThreads(b, threads)
			m, _ := benchCNN(b, issueCNN)
			x, _ := benchImages(1000)
			ag.NoGrad(func() { m.Forward(ag.Const(x)) })
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				ag.NoGrad(func() { m.Forward(ag.Const(x)) })
			}
			b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			reportCPU(b, 1000, cpu0)
		})
	}
}
