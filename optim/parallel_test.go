package optim_test

import (
	"math"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/kernels"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// Large parameters are updated in parallel chunks; the result must be the
// same bits as a one-thread update.
func TestParallelUpdatesMatchSerial(t *testing.T) {
	run := func(threads int, name string) []float32 {
		old := kernels.Threads()
		kernels.SetThreads(threads)
		defer kernels.SetThreads(old)
		rng := tensor.NewRand(9)
		p := ag.Var(tensor.Normal(rng, tensor.Float32, 0, 1, 300, 700)) // 210 000 elements
		opt, err := optim.ByName(name, []*ag.Node{p}, 0.01, 0.9, 0.01)
		if err != nil {
			t.Fatal(err)
		}
		for s := 0; s < 3; s++ {
			p.SetGrad(tensor.Normal(rng, tensor.Float32, 0, 1, 300, 700))
			opt.Step()
		}
		return append([]float32{}, p.Value().Float32s()...)
	}
	for _, name := range []string{"momentum", "nesterov", "sgd", "adam", "adamw"} {
		a, b := run(1, name), run(2, name)
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%s: element %d differs between 1 and 2 threads: %v vs %v", name, i, a[i], b[i])
			}
		}
	}
}
