package tensor

import (
	"testing"

	"github.com/nabla-go/nabla/kernels"
)

// Large element-wise ops run in chunks on the worker pool; the result must
// be the same bits as on one thread.
func TestChunkedOpsMatchOneThread(t *testing.T) {
	ops := map[string]func(a, b *Tensor) *Tensor{
		"Exp":          func(a, _ *Tensor) *Tensor { return Exp(a) },
		"ReLU":         func(a, _ *Tensor) *Tensor { return ReLU(a) },
		"GELU":         func(a, _ *Tensor) *Tensor { return GELU(a) },
		"Add":          Add,
		"Mul":          Mul,
		"Pow":          func(a, b *Tensor) *Tensor { return Pow(Abs(a), b) },
		"MaskPositive": MaskPositive,
	}
	run := func(threads int, f func(a, b *Tensor) *Tensor, dt DType) []float64 {
		old := kernels.Threads()
		kernels.SetThreads(threads)
		defer kernels.SetThreads(old)
		rng := NewRand(3)
		a, b := Normal(rng, dt, 0, 1, 300, 400), Normal(rng, dt, 0, 1, 300, 400)
		return f(a, b).Values()
	}
	for name, f := range ops {
		for _, dt := range []DType{Float32, Float64} {
			one, two := run(1, f, dt), run(2, f, dt)
			for i := range one {
				if one[i] != two[i] && !(one[i] != one[i] && two[i] != two[i]) {
					t.Fatalf("%s %v: element %d: %v on one thread, %v on two", name, dt, i, one[i], two[i])
				}
			}
		}
	}
}
