package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// gemvLayers are the linear layers of the MLP benchmarks (784-512-256-10
// and 784-100-10) as n×k = out×in.
var gemvLayers = [][2]int{{512, 784}, {256, 512}, {10, 256}, {100, 784}, {10, 100}}

// BenchmarkLinearFewRows times SgemmBias as a linear layer (x [m, in],
// W [out, in], bias, ReLU) with few rows, through the matrix–vector path
// (path=gemv) and through the blocked GEMM (path=blocked), on the
// every implementation this CPU runs: the crossover sets gemvMaxM.
func BenchmarkLinearFewRows(b *testing.B) {
	defer SetThreads(0)
	simpls, _ := candidateImpls()
	for _, g := range simpls {
		b.Run(g.name, func(b *testing.B) { benchLinearFewRows(b, g) })
	}
}

func benchLinearFewRows(b *testing.B, g *gemmImpl[float32]) {
	gemv := g.gemv
	g.gemvMaxM = 1 << 30
	for _, layer := range gemvLayers {
		n, k := layer[0], layer[1]
		rng := rand.New(rand.NewPCG(1, uint64(n*k)))
		w := randSlice[float32](rng, n*k)
		bias := randSlice[float32](rng, n)
		for _, m := range []int{1, 4, 8, 12, 16, 24} {
			x := randSlice[float32](rng, m*k)
			c := make([]float32, m*n)
			for _, threads := range []int{1, 2} {
				for _, path := range []string{"gemv", "blocked"} {
					g.gemv = gemv
					if path == "blocked" {
						g.gemv = nil
					}
					b.Run(fmt.Sprintf("%dx%d/m=%d/threads=%d/%s", n, k, m, threads, path), func(b *testing.B) {
						SetThreads(threads)
						ep := newEpilogue(n, bias, true)
						g.gemmEp(false, true, m, n, k, 1, x, k, w, k, 0, c, n, ep)
						b.ReportAllocs()
						for b.Loop() {
							g.gemmEp(false, true, m, n, k, 1, x, k, w, k, 0, c, n, ep)
						}
						sec := b.Elapsed().Seconds() / float64(b.N)
						b.ReportMetric(2*float64(m*n*k)/sec/1e9, "GFLOP/s")
						b.ReportMetric(4*float64(n*k)/sec/1e9, "GB/s(W)")
					})
				}
			}
		}
	}
}
