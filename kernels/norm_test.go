package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// BatchNorm and BatchNormBackward against the formulas, summed naively,
// for sizes that are and are not multiples of the four running sums, on
// one and two threads.
func TestBatchNormKernels(t *testing.T) {
	defer SetThreads(0)
	for _, sz := range [][3]int{{4, 3, 10}, {3, 5, 7}, {7, 2, 1}, {2, 4, 13}} {
		n, c, hw := sz[0], sz[1], sz[2]
		rng := rand.New(rand.NewPCG(uint64(n), uint64(hw)))
		x := randSliceConv[float64](rng, n*c*hw)
		g := randSliceConv[float64](rng, n*c*hw)
		w := randSliceConv[float64](rng, c)
		b := randSliceConv[float64](rng, c)
		const eps = 1e-5
		for _, threads := range []int{1, 2} {
			SetThreads(threads)
			y, mean, variance := make([]float64, len(x)), make([]float64, c), make([]float64, c)
			BatchNorm(n, c, hw, x, w, b, eps, false, y, mean, variance)
			yr := make([]float64, len(x))
			BatchNorm(n, c, hw, x, w, b, eps, true, yr, make([]float64, c), make([]float64, c))
			for i, v := range y {
				if yr[i] != max(v, 0) {
					t.Fatalf("%v: with ReLU %v, without %v", sz, yr[i], v)
				}
			}
			gx, gw, gb := make([]float64, len(x)), make([]float64, c), make([]float64, c)
			BatchNormBackward(n, c, hw, x, g, w, mean, variance, eps, gx, gw, gb)
			for ch := range c {
				var at []int
				for i := range n {
					for j := range hw {
						at = append(at, (i*c+ch)*hw+j)
					}
				}
				N := float64(len(at))
				var m, v, sg, sgh float64
				for _, k := range at {
					m += x[k] / N
				}
				for _, k := range at {
					v += (x[k] - m) * (x[k] - m) / N
				}
				inv := 1 / math.Sqrt(v+eps)
				for _, k := range at {
					sg += g[k]
					sgh += g[k] * (x[k] - m) * inv
				}
				near := func(what string, got, want float64) {
					if math.Abs(got-want) > 1e-12*max(1, math.Abs(want)) {
						t.Fatalf("%v threads=%d channel %d %s: %v, want %v", sz, threads, ch, what, got, want)
					}
				}
				near("mean", mean[ch], m)
				near("var", variance[ch], v)
				near("gb", gb[ch], sg)
				near("gw", gw[ch], sgh)
				for _, k := range at {
					xh := (x[k] - m) * inv
					near("y", y[k], xh*w[ch]+b[ch])
					near("gx", gx[k], w[ch]*inv*(g[k]-sg/N-xh*sgh/N))
				}
			}
		}
	}
}
