package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refMaxPool is MaxPool2D's definition, one window at a time with bounds
// tests: the maximum, ties to the first element in row-major window
// order, a NaN replacing the best so far.
func refMaxPool(g PoolGeom, planes int, x []float64) ([]float64, []int) {
	var y []float64
	var idx []int
	for pl := range planes {
		for oh := range g.OH {
			for ow := range g.OW {
				best, at, found := math.Inf(-1), -1, false
				for i := range g.KH {
					for j := range g.KW {
						ih, iw := oh*g.SH-g.PH+i*g.DH, ow*g.SW-g.PW+j*g.DW
						if ih < 0 || ih >= g.H || iw < 0 || iw >= g.W {
							continue
						}
						k := (pl*g.H+ih)*g.W + iw
						if !found {
							at, found = k, true
						}
						if v := x[k]; v > best || math.IsNaN(v) {
							best, at = v, k
						}
					}
				}
				y, idx = append(y, best), append(idx, at)
			}
		}
	}
	return y, idx
}

// MaxPool2D's fast paths (windows inside the plane, 2×2 unrolled) and
// its general loop agree with the definition, ties, NaNs and −∞ included.
func TestMaxPool2D(t *testing.T) {
	for _, g := range []PoolGeom{
		{H: 6, W: 8, OH: 3, OW: 4, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1},
		{H: 7, W: 7, OH: 3, OW: 3, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1},
		{H: 5, W: 6, OH: 4, OW: 5, KH: 2, KW: 2, SH: 1, SW: 1, DH: 1, DW: 1},
		{H: 7, W: 6, OH: 4, OW: 3, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1, DH: 1, DW: 1},
		{H: 7, W: 7, OH: 3, OW: 3, KH: 3, KW: 2, SH: 1, SW: 2, DH: 2, DW: 2},
		{H: 5, W: 7, OH: 3, OW: 4, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1}, // ceil mode: last windows run off
	} {
		for _, vals := range []string{"distinct", "ties", "specials"} {
			rng := rand.New(rand.NewPCG(1, 2))
			planes := 3
			x := make([]float64, planes*g.H*g.W)
			for i := range x {
				switch vals {
				case "distinct":
					x[i] = rng.NormFloat64()
				case "ties":
					x[i] = float64(rng.IntN(3))
				default:
					x[i] = []float64{math.NaN(), math.Inf(-1), 1, 1, 0, math.Inf(-1)}[rng.IntN(6)]
				}
			}
			wy, widx := refMaxPool(g, planes, x)
			y, idx := make([]float64, len(wy)), make([]int, len(wy))
			MaxPool2D(g, planes, x, y, idx)
			yNoIdx := make([]float64, len(wy))
			MaxPool2D(g, planes, x, yNoIdx, nil)
			for i := range wy {
				if a, b := yNoIdx[i], y[i]; a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
					t.Fatalf("%+v %s: without indices output %d = %v, with %v", g, vals, i, a, b)
				}
				same := y[i] == wy[i] || (math.IsNaN(y[i]) && math.IsNaN(wy[i]))
				if !same || idx[i] != widx[i] {
					t.Fatalf("%+v %s: output %d = %v at %d, want %v at %d", g, vals, i, y[i], idx[i], wy[i], widx[i])
				}
			}
		}
	}
}

func BenchmarkMaxPool2D(b *testing.B) {
	g := PoolGeom{H: 28, W: 28, OH: 14, OW: 14, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1}
	planes := 64 * 32
	x := randSliceConv[float32](rand.New(rand.NewPCG(1, 2)), planes*g.H*g.W)
	y, idx := make([]float32, planes*g.OH*g.OW), make([]int, planes*g.OH*g.OW)
	b.Run("64x32x28x28/2x2", func(b *testing.B) {
		for b.Loop() {
			MaxPool2D(g, planes, x, y, idx)
		}
		b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
	})
}

// ScatterPlanes and GatherPlanes, spread over the pool by planes, match
// the plain loops, and are adjoint: ⟨scatter(s), d⟩ = ⟨s, gather(d)⟩.
func TestScatterGatherPlanes(t *testing.T) {
	defer SetThreads(0)
	const planes, per, size = 37, 20, 50
	rng := rand.New(rand.NewPCG(3, 4))
	idx := make([]int, planes*per)
	for i := range idx {
		idx[i] = (i/per)*size + rng.IntN(size) // repeats within a plane
	}
	src := randSliceConv[float64](rng, planes*per)
	d := randSliceConv[float64](rng, planes*size)
	want := make([]float64, planes*size)
	for i, j := range idx {
		want[j] += src[i]
	}
	for _, threads := range []int{1, 2} {
		SetThreads(threads)
		got := make([]float64, planes*size)
		ScatterPlanes(planes, src, idx, got)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Fatalf("threads=%d: scatter element %d = %v, want %v", threads, i, got[i], want[i])
			}
		}
		g := make([]float64, planes*per)
		GatherPlanes(planes, d, idx, g)
		var lhs, rhs float64
		for i := range got {
			lhs += got[i] * d[i]
		}
		for i := range g {
			if g[i] != d[idx[i]] {
				t.Fatalf("threads=%d: gather element %d", threads, i)
			}
			rhs += src[i] * g[i]
		}
		if math.Abs(lhs-rhs) > 1e-9*math.Abs(lhs) {
			t.Fatalf("not adjoint: %v vs %v", lhs, rhs)
		}
	}
}
