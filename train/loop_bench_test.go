package train_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/train"
)

// mnistLike is n random 28×28 byte images in 10 classes, held as LoadMNIST
// holds MNIST (bytes, scaled by 1/255 per batch).
func mnistLike(n int) *data.InMemory {
	rng := rand.New(rand.NewPCG(uint64(n), 9))
	pix := make([]byte, n*784)
	for i := range pix {
		pix[i] = byte(rng.IntN(256))
	}
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(10)
	}
	return &data.InMemory{Bytes: pix, ByteValues: data.ScaledBytes, Y: y, NumClasses: 10, Name: "mnist-like", ExampleShape: []int{1, 28, 28}}
}

// mnistMLP is the network of `nabla train --data mnist`: Flatten, then
// 784-512-256-10 with ReLU.
func mnistMLP(b testing.TB) *nn.Sequential {
	mlp, err := nn.NewMLP(nn.MLPConfig{In: 784, Hidden: []int{512, 256}, Out: 10, Activation: "relu"}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	return nn.NewSequential(nn.NewFlatten(1, -1), mlp)
}

// BenchmarkTrainerStep is the training loop's step as Run takes it: a
// batch gathered from bytes by the loader into its reused buffer, then
// Trainer.Step (forward, loss, accuracy, backward, SGD with momentum). The
// learning rate is 0 for the reason BenchmarkMLPTrainStep gives. B/op is
// what a step allocates once warm.
func BenchmarkTrainerStep(b *testing.B) {
	ds := mnistLike(6400)
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("784-512-256-10/batch=128/threads=%d", threads), func(b *testing.B) {
			withThreads(b, threads)
			next := trainerSteps(b, ds)
			for range 30 {
				next()
			}
			b.ReportAllocs()
			for b.Loop() {
				next()
			}
			b.ReportMetric(128*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// trainerSteps returns a function that runs one step of the MNIST MLP at
// batch 128 as the training loop does (loader with reused buffers, then
// Trainer.Step with SGD and momentum, learning rate 0).
func trainerSteps(tb testing.TB, ds *data.InMemory) func() {
	m := mnistMLP(tb)
	var params []*ag.Node
	for _, p := range m.Params() {
		params = append(params, p.Node)
	}
	tr := &train.Trainer{
		Model: m, Loss: func(l *ag.Node, y []int) *ag.Node { return loss.CrossEntropy(l, y, 0) },
		Opt:   optim.NewSGD(params, optim.SGDConfig{LR: 0, Momentum: 0.9}),
		Train: ds, RNG: map[string]*rand.PCG{"shuffle": rand.NewPCG(2, 2)},
		Config: train.Config{Epochs: 1, Batch: 128},
	}
	if err := tr.Start(); err != nil {
		tb.Fatal(err)
	}
	loader := data.NewLoader(ds, 128, true, true, rand.New(rand.NewPCG(3, 3))).ReuseBuffers()
	return func() {
		x, y, ok := loader.Next()
		if !ok {
			x, y, _ = loader.Next()
		}
		if _, err := tr.Step(x, y); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkEvaluate is train.Evaluate of the MNIST network on 10 000
// images held as bytes, at the batch the command line's end-of-run
// evaluation uses (1024).
func BenchmarkEvaluate(b *testing.B) {
	ds := mnistLike(10000)
	lossFn := func(l *ag.Node, y []int) *ag.Node { return loss.CrossEntropy(l, y, 0) }
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("784-512-256-10/batch=1024/threads=%d", threads), func(b *testing.B) {
			withThreads(b, threads)
			m := mnistMLP(b)
			train.Evaluate(m, lossFn, ds, 1024)
			b.ReportAllocs()
			for b.Loop() {
				train.Evaluate(m, lossFn, ds, 1024)
			}
			b.ReportMetric(float64(ds.Len())*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// BenchmarkMLPLatency is the prediction of one example, the serving case
// (nn.Predictor: no graph, no allocation), timed per call (µs/op beside
// ns/op, for bench/mlp_compare.sh).
func BenchmarkMLPLatency(b *testing.B) {
	for _, c := range mlpBenches {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/batch=1/threads=%d", c.arch, threads), func(b *testing.B) {
				withThreads(b, threads)
				m, _ := benchMLP(b, c.hidden)
				x, _ := benchBatch(1)
				p := nn.NewPredictor(m)
				p.Predict(x)
				b.ReportAllocs()
				for b.Loop() {
					p.Predict(x)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
				b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "µs/op")
			})
		}
	}
}

// Once warm, a training step of the MNIST MLP allocates a few hundred
// bytes of graph per op and nothing in proportion to the batch: every
// activation, gradient and scratch buffer is recycled. (It was ~500 kB a
// step before buffers were recycled, 22 kB and 263 allocations before the
// backward pass's bookkeeping, the pool and Linear's gradient stopped
// allocating.) Counts, not times: the same on every machine, give or take
// a garbage collection emptying the pools.

func TestTrainerStepAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 50 steps of an MNIST-sized MLP")
	}
	// Bounds a little above what the step allocates (1 thread: 5.6 kB in
	// 63 allocations; 2 threads: 5.9 kB in 69, the optimiser's parallel
	// closures among them).
	for _, c := range []struct{ threads, bytes, allocs int }{{1, 6500, 70}, {2, 7 << 10, 76}} {
		t.Run(fmt.Sprintf("threads=%d", c.threads), func(t *testing.T) {
			withThreads(t, c.threads)
			next := trainerSteps(t, mnistLike(1280))
			for range 30 {
				next()
			}
			// Collect the set-up's garbage now, so that no collection
			// empties the pools during the steps measured (one would, in a
			// long run, every thousand steps or so).
			runtime.GC()
			for range 5 {
				next()
			}
			const steps = 20
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range steps {
				next()
			}
			runtime.ReadMemStats(&after)
			bytes := (after.TotalAlloc - before.TotalAlloc) / steps
			allocs := (after.Mallocs - before.Mallocs) / steps
			t.Logf("a step allocates %d bytes in %d allocations", bytes, allocs)
			if bytes > uint64(c.bytes) || allocs > uint64(c.allocs) {
				t.Errorf("a step allocates %d bytes in %d allocations; want at most %d bytes in %d", bytes, allocs, c.bytes, c.allocs)
			}
		})
	}
}
