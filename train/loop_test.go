package train_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

// imageSets returns n random 1×4×4 images in 10 classes held as bytes
// (scaled by 1/255, as LoadMNIST holds MNIST), and the same set held as a
// float32 X, as LoadMNIST built it before it kept bytes.
func imageSets(n int, seed uint64) (bytes, floats *data.InMemory) {
	rng := rand.New(rand.NewPCG(seed, 1))
	pix := make([]byte, n*16)
	for i := range pix {
		pix[i] = byte(rng.IntN(256))
	}
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(10)
	}
	x := make([]float32, len(pix))
	for i, p := range pix {
		x[i] = float32(p) / 255
	}
	shape := []int{1, 4, 4}
	bytes = &data.InMemory{Bytes: pix, ByteValues: data.ScaledBytes, Y: y, NumClasses: 10, Name: "img", ExampleShape: shape}
	floats = &data.InMemory{X: tensor.FromFloat32(x, n, 16), Y: slices.Clone(y), NumClasses: 10, Name: "img", ExampleShape: shape}
	return bytes, floats
}

func imageTrainer(t *testing.T, tr, test data.Dataset, dt tensor.DType) *train.Trainer {
	t.Helper()
	modelRNG := rand.NewPCG(5, 5)
	mlp, err := nn.NewMLP(nn.MLPConfig{In: 16, Hidden: []int{24, 12}, Out: 10, Activation: "relu", Dropout: 0.1, DType: dt}, rand.New(modelRNG))
	if err != nil {
		t.Fatal(err)
	}
	m := nn.NewSequential(nn.NewFlatten(1, -1), mlp)
	var params []*ag.Node
	for _, p := range m.Params() {
		params = append(params, p.Node)
	}
	return &train.Trainer{
		Model: m, Loss: func(l *ag.Node, y []int) *ag.Node { return loss.CrossEntropy(l, y, 0) },
		Opt:   optim.NewSGD(params, optim.SGDConfig{LR: 0.05, Momentum: 0.9}),
		Train: tr, Test: test,
		RNG:    map[string]*rand.PCG{"shuffle": rand.NewPCG(6, 6), "model": modelRNG},
		Config: train.Config{Epochs: 3, Batch: 32},
	}
}

// Run, reading images held as bytes through the loader's reused buffers,
// gives the same weights, bit for bit, as the loop it replaced: a new
// float32 batch from a float32 set for every Step (converted by AsType for
// a float64 model), the epoch's order drawn by rng.Perm. Evaluate gives the
// same score both ways.
func TestRunBytesSameAsFloatBatches(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		bytesSet, floatSet := imageSets(300, 1) // 300 = 9 batches of 32 and one of 12
		bytesTest, floatTest := imageSets(70, 2)

		run := imageTrainer(t, bytesSet, bytesTest, dt)
		if _, err := run.Run(context.Background()); err != nil {
			t.Fatal(err)
		}

		ref := imageTrainer(t, floatSet, floatTest, dt)
		if err := ref.Start(); err != nil {
			t.Fatal(err)
		}
		order := rand.New(rand.NewPCG(6, 6))
		for range ref.Config.Epochs {
			perm := order.Perm(floatSet.Len())
			for s := 0; s < len(perm); s += 32 {
				x, y := floatSet.Batch(perm[s:min(s+32, len(perm))])
				if _, err := ref.Step(x.AsType(dt), y); err != nil {
					t.Fatal(err)
				}
			}
			// Run scores the test set after every epoch, in evaluation
			// mode: no dropout draws, so nothing to replay here.
		}
		if got, want := paramBits(run.Model), paramBits(ref.Model); !slices.Equal(got, want) {
			t.Fatalf("%v: weights trained on bytes through reused buffers differ from those of fresh float32 batches", dt)
		}

		a := train.Evaluate(run.Model, run.Loss, bytesTest, 16)
		b := train.Evaluate(ref.Model, ref.Loss, floatTest, 16)
		if a.Loss != b.Loss || a.Accuracy != b.Accuracy || a.N != 70 || !slices.EqualFunc(a.Confusion, b.Confusion, slices.Equal) {
			t.Fatalf("%v: Evaluate on bytes %+v, on floats %+v", dt, a, b)
		}
		// And against the score computed from scratch with tensor.ArgMax.
		nn.SetTraining(ref.Model, false)
		x, y := floatTest.Batch(seq(70))
		logits := ref.Model.Forward(ag.Untracked(x.AsType(dt)))
		correct := 0
		for i, p := range tensor.ArgMax(logits.Value(), 1) {
			if p == y[i] {
				correct++
			}
		}
		if a.Accuracy != float64(correct)/70 {
			t.Fatalf("%v: accuracy %v, want %v", dt, a.Accuracy, float64(correct)/70)
		}
	}
}

// paramBits is every parameter's values as float64 bits, in order.
func paramBits(m nn.Module) []uint64 {
	var bits []uint64
	for _, p := range m.Params() {
		for _, v := range p.Node.Value().Values() {
			bits = append(bits, math.Float64bits(v))
		}
	}
	return bits
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
