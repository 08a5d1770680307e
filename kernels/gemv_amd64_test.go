//go:build !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemvQuartersBits checks that the quarter-stream kernel
// (sgemvQ4AVX512, taken for one row of A and at least eight columns)
// gives the same bits as the four-row kernel it replaces, for every
// epilogue, column counts around the groups of four and inner sizes
// around the vector width, and leaves C outside the window alone.
func TestGemvQuartersBits(t *testing.T) {
	if cpuLevel < 2 {
		t.Skip("no AVX-512")
	}
	table := gemvTable(sgemvTAVX512[:])
	rows4, quarters := asmGemv(table, nil), asmGemv(table, sgemvQ4AVX512)
	rng := rand.New(rand.NewPCG(17, 18))
	type ep struct {
		alpha, beta float32
		bias, relu  bool
	}
	eps := []ep{{1, 0, true, true}, {1, 0, true, false}, {0.5, 0, false, true}, {-2, 0.75, false, false}, {1, float32(math.NaN()), false, false}}
	for _, m := range []int{1, 5} {
		for _, n := range []int{8, 9, 11, 12, 15, 16, 17, 100, 257} {
			for _, k := range []int{1, 15, 16, 17, 33, 100, 784} {
				lda, ldb, ldc := k+1, k+3, n+2
				a := randSlice[float32](rng, (m-1)*lda+k)
				b := randSlice[float32](rng, (n-1)*ldb+k)
				bias := randSlice[float32](rng, n)
				bias[0] = float32(math.NaN())
				bias[1] = float32(math.Copysign(0, -1))
				bias[n/2] = -1e6
				c0 := randSlice[float32](rng, m*ldc)
				for _, e := range eps {
					var bs []float32
					if e.bias {
						bs = bias
					}
					want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
					rows4(m, n, k, e.alpha, a, lda, b, ldb, e.beta, want, ldc, newEpilogue(n, bs, e.relu))
					quarters(m, n, k, e.alpha, a, lda, b, ldb, e.beta, got, ldc, newEpilogue(n, bs, e.relu))
					for i := range got {
						if bits(got[i]) != bits(want[i]) {
							t.Fatalf("%dx%dx%d %+v: C[%d,%d] = %v, the four-row kernel gives %v",
								m, n, k, e, i/ldc, i%ldc, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
