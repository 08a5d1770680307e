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
	benchSquare(b, benchSizes, gemm)
}

func benchSquare[T float32 | float64](b *testing.B, sizes []int, gemm gemmFunc[T]) {
	defer SetThreads(0)
	for _, n := range sizes {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		x := randSlice[T](rng, n*n)
		y := randSlice[T](rng, n*n)
		z := make([]T, n*n)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/threads=%d", n, threads), func(b *testing.B) {
				SetThreads(threads)
				// One untimed call first, as bench/gemm_compare.py does for
				// numpy and torch: at n=2048 b.Loop times only two or three
				// calls, and the first would pay for faulting in z (16 MiB)
				// and growing the pack buffers.
				gemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
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

// mlpShapes are the products of a training step of the 784-512-256-10
// and 784-100-10 networks of package train (forward x·Wᵀ, backward g·W
// and gᵀ·x) and of their inference at batch 1000.
var mlpShapes = []struct {
	name           string
	transA, transB bool
	m, n, k        int
}{
	{"fwd/128x512x784/NT", false, true, 128, 512, 784},
	{"fwd/128x256x512/NT", false, true, 128, 256, 512},
	{"fwd/128x10x256/NT", false, true, 128, 10, 256},
	{"gx/128x512x256/NN", false, false, 128, 512, 256},
	{"gx/128x256x10/NN", false, false, 128, 256, 10},
	{"gw/512x784x128/TN", true, false, 512, 784, 128},
	{"gw/256x512x128/TN", true, false, 256, 512, 128},
	{"gw/10x256x128/TN", true, false, 10, 256, 128},
	{"fwd/64x100x784/NT", false, true, 64, 100, 784},
	{"gw/100x784x64/TN", true, false, 100, 784, 64},
	{"infer/1000x512x784/NT", false, true, 1000, 512, 784},
	{"infer/1000x256x512/NT", false, true, 1000, 256, 512},
	{"infer/1000x100x784/NT", false, true, 1000, 100, 784},
}

func BenchmarkSgemmMLP(b *testing.B) { benchMLP(b, Sgemm) }

// BenchmarkDgemmMLP times the same shapes in float64, the type of the
// gradient checks.
func BenchmarkDgemmMLP(b *testing.B) { benchMLP(b, Dgemm) }

func benchMLP[T float32 | float64](b *testing.B, gemm gemmFunc[T]) {
	defer SetThreads(0)
	for _, s := range mlpShapes {
		rng := rand.New(rand.NewPCG(1, uint64(s.m*s.n*s.k)))
		x := randSlice[T](rng, s.m*s.k)
		y := randSlice[T](rng, s.k*s.n)
		z := make([]T, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", s.name, threads), func(b *testing.B) {
				SetThreads(threads)
				b.ReportAllocs()
				for b.Loop() {
					gemm(s.transA, s.transB, s.m, s.n, s.k, 1, x, lda, y, ldb, 0, z, s.n)
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
