package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Both kernels against their definitions, on lengths that reach the
// vector body and the tail, with the special values placed at every
// position mod 8.
func TestReLU32AndMaskPositive32(t *testing.T) {
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-45, -1e-45}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 7, 8, 9, 16, 23, 100} {
		x, g := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
			g[i] = float32(rng.NormFloat64())
			if i%3 == 0 {
				x[i] = specials[(i/3)%len(specials)]
			}
		}
		r, m := make([]float32, n), make([]float32, n)
		ReLU32(r, x)
		MaskPositive32(m, g, x)
		for i, v := range x {
			wantR := float32(0)
			if v > 0 || v != v {
				wantR = v
			}
			wantM := float32(0)
			if v > 0 {
				wantM = g[i]
			}
			if math.Float32bits(r[i]) != math.Float32bits(wantR) && !(r[i] != r[i] && wantR != wantR) {
				t.Errorf("n=%d ReLU32(%v) = %v (bits %08x), want %v", n, v, r[i], math.Float32bits(r[i]), wantR)
			}
			if math.Float32bits(m[i]) != math.Float32bits(wantM) {
				t.Errorf("n=%d MaskPositive32(g=%v, x=%v) = %v, want %v", n, g[i], v, m[i], wantM)
			}
		}
		// In place.
		ReLU32(x, x)
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(r[i]) && !(x[i] != x[i] && r[i] != r[i]) {
				t.Fatalf("in-place ReLU32 differs at %d", i)
			}
		}
	}
}
