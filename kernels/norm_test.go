package kernels

import (
	"fmt"
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

// levelName names a vector level for test messages.
func levelName(lvl int) string {
	return [...]string{"go", "avx2", "avx512"}[lvl]
}

// neumaier is Σ t in float64 with Neumaier's compensation: a reference
// far more exact than the kernels' sums, whatever their order.
func neumaier(ts []float64) (sum, abs float64) {
	var c float64
	for _, t := range ts {
		u := sum + t
		if math.Abs(sum) >= math.Abs(t) {
			c += (sum - u) + t
		} else {
			c += (t - u) + sum
		}
		sum = u
		abs += math.Abs(t)
	}
	return sum + c, abs
}

// bnShapes are channel layouts (rows runs of cols elements, stride apart):
// single elements, every tail length of the 4-, 8-, 16- and 32-wide
// loops, the CNN's 14×14 and 28×28 planes, and long runs.
var bnShapes = [][3]int{
	{1, 1, 1}, {1, 3, 3}, {2, 7, 9}, {3, 13, 20}, {2, 15, 15}, {1, 17, 17}, {4, 31, 33},
	{3, 33, 40}, {2, 47, 50}, {5, 63, 70}, {2, 64, 64}, {8, 196, 3 * 196}, {4, 784, 2 * 784},
	{1, 4099, 4099}, {40, 9, 27},
}

// The float32 channel loops of every level: the sums against a
// compensated float64 reference (they differ only in summation order, so
// to within float64 rounding), the elementwise passes bit for bit against
// the portable loops, and nothing written between the runs.
func TestBatchNormChannelLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-45, -1e-45}
	for _, sh := range bnShapes {
		rows, cols, stride := sh[0], sh[1], sh[2]
		size := (rows-1)*stride + cols
		x, g := make([]float32, size), make([]float32, size)
		for i := range x {
			x[i] = float32(3 + 2*rng.NormFloat64()) // an offset mean, so x − m matters
			g[i] = float32(rng.NormFloat64())
		}
		m := 3 + rng.Float64()
		var xs, sq, gs, gd []float64
		for r := range rows {
			for _, k := range x[r*stride:][:cols] {
				xs = append(xs, float64(k))
				sq = append(sq, (float64(k)-m)*(float64(k)-m))
			}
			for j, k := range g[r*stride:][:cols] {
				gs = append(gs, float64(k))
				gd = append(gd, float64(k)*(float64(x[r*stride+j])-m))
			}
		}
		wantSum, absSum := neumaier(xs)
		wantSq, absSq := neumaier(sq)
		wantG, absG := neumaier(gs)
		wantGD, absGD := neumaier(gd)
		// Special values for the elementwise passes, every position mod 16.
		xe := append([]float32(nil), x...)
		for i := range xe {
			if i%5 == 0 {
				xe[i] = specials[(i/5)%len(specials)]
			}
		}
		for _, lvl := range vecLevels() {
			name := levelName(lvl)
			near := func(what string, got, want, abs float64) {
				t.Helper()
				if math.Abs(got-want) > 1e-12*abs {
					t.Errorf("%s %v %s = %v, want %v (Σ|terms| %v)", name, sh, what, got, want, abs)
				}
			}
			near("Σx", bnSum32(lvl, x, rows, cols, stride), wantSum, absSum)
			near("Σ(x−m)²", bnSqDev32(lvl, x, rows, cols, stride, m), wantSq, absSq)
			sg, sgx := bnDots32(lvl, g, x, rows, cols, stride, m)
			near("Σg", sg, wantG, absG)
			near("Σg(x−m)", sgx, wantGD, absGD)

			const sc, shift = float32(-0.7), float32(0.25)
			for _, relu := range []bool{false, true} {
				got, want := sentinels(size), sentinels(size)
				bnAffine32(lvl, got, xe, rows, cols, stride, sc, shift, relu)
				chanAffine(want, xe, rows, cols, stride, sc, shift, relu)
				sameBits(t, name+" affine", sh, got, want)
			}
			got, want := sentinels(size), sentinels(size)
			bnBackward32(lvl, got, g, xe, rows, cols, stride, 0.3, -1.7, 0.01)
			chanBackward(want, g, xe, rows, cols, stride, 0.3, -1.7, 0.01)
			sameBits(t, name+" backward", sh, got, want)
		}
	}
}

// sentinels is a slice of n copies of a value no kernel writes, to see
// that the gaps between runs stay untouched.
func sentinels(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 12345
	}
	return s
}

func sameBits(t *testing.T, what string, sh [3]int, got, want []float32) {
	t.Helper()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s %v: element %d = %v (%08x), want %v (%08x)", what, sh, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// BatchNorm and BatchNormBackward in float32 at every level against the
// formulas in float64: to float32 rounding.
func TestBatchNormFloat32Levels(t *testing.T) {
	defer SetThreads(0)
	for _, sz := range [][3]int{{2, 3, 5}, {3, 2, 33}, {4, 3, 196}, {1, 2, 1000}, {64, 2, 1}} {
		n, c, hw := sz[0], sz[1], sz[2]
		rng := rand.New(rand.NewPCG(uint64(n), uint64(hw)))
		x := randSliceConv[float32](rng, n*c*hw)
		for i := range x {
			x[i] += 5 // a mean far from 0
		}
		g := randSliceConv[float32](rng, n*c*hw)
		w := randSliceConv[float32](rng, c)
		b := randSliceConv[float32](rng, c)
		const eps = 1e-5
		// The float64 reference.
		N := float64(n * hw)
		ym, gxm := make([]float64, len(x)), make([]float64, len(x))
		mw, vw, gbw, gww := make([]float64, c), make([]float64, c), make([]float64, c), make([]float64, c)
		for ch := range c {
			var at []int
			for i := range n {
				for j := range hw {
					at = append(at, (i*c+ch)*hw+j)
				}
			}
			var m, v, sg, sgh float64
			for _, k := range at {
				m += float64(x[k]) / N
			}
			for _, k := range at {
				v += (float64(x[k]) - m) * (float64(x[k]) - m) / N
			}
			inv := 1 / math.Sqrt(v+eps)
			for _, k := range at {
				sg += float64(g[k])
				sgh += float64(g[k]) * (float64(x[k]) - m) * inv
			}
			mw[ch], vw[ch], gbw[ch], gww[ch] = m, v, sg, sgh
			for _, k := range at {
				xh := (float64(x[k]) - m) * inv
				ym[k] = xh*float64(w[ch]) + float64(b[ch])
				gxm[k] = float64(w[ch]) * inv * (float64(g[k]) - sg/N - xh*sgh/N)
			}
		}
		for _, lvl := range vecLevels() {
			for _, threads := range []int{1, 2} {
				SetThreads(threads)
				y, mean, variance := make([]float32, len(x)), make([]float32, c), make([]float32, c)
				batchNorm(lvl, n, c, hw, x, w, b, eps, false, y, mean, variance)
				yr := make([]float32, len(x))
				batchNorm(lvl, n, c, hw, x, w, b, eps, true, yr, make([]float32, c), make([]float32, c))
				gx, gw, gb := make([]float32, len(x)), make([]float32, c), make([]float32, c)
				batchNormBackward(lvl, n, c, hw, x, g, w, mean, variance, eps, gx, gw, gb)
				what := func(s string) string { return levelName(lvl) + " " + s }
				for i, v := range y {
					if yr[i] != max(v, 0) {
						t.Fatalf("%s %v: with ReLU %v, without %v", levelName(lvl), sz, yr[i], v)
					}
				}
				for _, c := range []struct {
					name string
					got  []float32
					want []float64
				}{{"mean", mean, mw}, {"var", variance, vw}, {"y", y, ym}, {"gx", gx, gxm}, {"gb", gb, gbw}, {"gw", gw, gww}} {
					if e := relErrAgainst(c.got, c.want); e > 2e-6 {
						t.Errorf("%v threads=%d %s: relative error %g", sz, threads, what(c.name), e)
					}
				}
			}
		}
	}
}

// BenchmarkBatchNorm times the float32 forward (with ReLU) and backward
// passes on the BatchNorm CNN's two layers at batch 64, one thread, at
// every vector level (go is the portable loops).
func BenchmarkBatchNorm(b *testing.B) {
	defer SetThreads(0)
	SetThreads(1)
	for _, sz := range [][3]int{{64, 32, 28 * 28}, {64, 64, 14 * 14}} {
		n, c, hw := sz[0], sz[1], sz[2]
		rng := rand.New(rand.NewPCG(1, 2))
		x, g := randSliceConv[float32](rng, n*c*hw), randSliceConv[float32](rng, n*c*hw)
		w, bias := randSliceConv[float32](rng, c), randSliceConv[float32](rng, c)
		y, gx := make([]float32, len(x)), make([]float32, len(x))
		mean, variance, gw, gb := make([]float32, c), make([]float32, c), make([]float32, c), make([]float32, c)
		for _, lvl := range vecLevels() {
			shape := fmt.Sprintf("%dx%dx%d/%s", n, c, hw, levelName(lvl))
			b.Run("forward/"+shape, func(b *testing.B) {
				for b.Loop() {
					batchNorm(lvl, n, c, hw, x, w, bias, 1e-5, true, y, mean, variance)
				}
				b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
			})
			b.Run("backward/"+shape, func(b *testing.B) {
				for b.Loop() {
					batchNormBackward(lvl, n, c, hw, x, g, w, mean, variance, 1e-5, gx, gw, gb)
				}
				b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
			})
		}
	}
}
