package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

var benchSizes = []int{64, 128, 256, 512, 1024, 2048}

// benchGEMM times square n×n×n products with fresh-looking but fixed
// inputs; GFLOP/s counts 2n³ operations per product.
func benchGEMM[T float32 | float64](b *testing.B, gemm gemmFunc[T]) {
	defer SetThreads(0)
	for _, n := range benchSizes {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		x := randSlice[T](rng, n*n)
		y := randSlice[T](rng, n*n)
		z := make([]T, n*n)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/threads=%d", n, threads), func(b *testing.B) {
				SetThreads(threads)
				b.ReportAllocs()
				for b.Loop() {
					gemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
				}
				flops := 2 * float64(n) * float64(n) * float64(n) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func BenchmarkSgemm(b *testing.B) { benchGEMM[float32](b, Sgemm) }
func BenchmarkDgemm(b *testing.B) { benchGEMM[float64](b, Dgemm) }
