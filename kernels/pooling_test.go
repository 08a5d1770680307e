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

// The 2×2, column-stride-2 max pooling of float32 planes at every vector
// level agrees bit for bit with the portable loop and with the
// definition: values (always the element at the index, so −0 against +0
// and a NaN's payload too) and indices, for widths that leave every
// tail length of the 8- and 16-output steps, row strides 1 to 3, ties,
// ±0, ±Inf, NaNs scattered (some rows vectorised, some not) and dense.
func TestMaxPool2x2Levels(t *testing.T) {
	defer func(l int) { vecLevel = l }(vecLevel)
	negZero := float32(math.Copysign(0, -1))
	nan1 := math.Float32frombits(0x7fc00001)
	nan2 := math.Float32frombits(0xffc00002)
	kinds := map[string]func(rng *rand.Rand) float32{
		"distinct": func(rng *rand.Rand) float32 { return float32(rng.NormFloat64()) },
		"ties":     func(rng *rand.Rand) float32 { return []float32{-1, 0, negZero, 1, 1}[rng.IntN(5)] },
		"sparseNaN": func(rng *rand.Rand) float32 {
			if rng.IntN(200) == 0 {
				return []float32{nan1, nan2}[rng.IntN(2)]
			}
			return float32(rng.NormFloat64())
		},
		"specials": func(rng *rand.Rand) float32 {
			return []float32{nan1, nan2, float32(math.Inf(1)), float32(math.Inf(-1)), 0, negZero, 1, 1}[rng.IntN(8)]
		},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, w := range []int{2, 3, 4, 5, 9, 14, 16, 17, 18, 28, 31, 32, 33, 34, 47, 64, 70} {
		for _, sh := range []int{1, 2, 3} {
			h := 7
			g := PoolGeom{H: h, W: w, OH: (h-2)/sh + 1, OW: (w-2)/2 + 1, KH: 2, KW: 2, SH: sh, SW: 2, DH: 1, DW: 1}
			for name, gen := range kinds {
				const planes = 3
				x := make([]float32, planes*h*w)
				for i := range x {
					x[i] = gen(rng)
				}
				x64 := make([]float64, len(x))
				for i, v := range x {
					x64[i] = float64(v)
				}
				_, widx := refMaxPool(g, planes, x64)
				var y0 []float32
				var idx0 []int
				for _, lvl := range vecLevels() {
					vecLevel = lvl
					y, idx := make([]float32, len(widx)), make([]int, len(widx))
					MaxPool2D(g, planes, x, y, idx)
					for i := range widx {
						if idx[i] != widx[i] || math.Float32bits(y[i]) != math.Float32bits(x[idx[i]]) {
							t.Fatalf("%s W=%d SH=%d %s: output %d = %v at %d, want %v at %d",
								levelName(lvl), w, sh, name, i, y[i], idx[i], x[widx[i]], widx[i])
						}
					}
					if lvl == 0 {
						y0, idx0 = y, idx
						continue
					}
					for i := range y {
						if math.Float32bits(y[i]) != math.Float32bits(y0[i]) || idx[i] != idx0[i] {
							t.Fatalf("%s W=%d SH=%d %s: output %d differs from the portable loop", levelName(lvl), w, sh, name, i)
						}
					}
				}
			}
		}
	}
}

func BenchmarkMaxPool2D(b *testing.B) {
	defer func(l int) { vecLevel = l }(vecLevel)
	g := PoolGeom{H: 28, W: 28, OH: 14, OW: 14, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1}
	planes := 64 * 32
	x := randSliceConv[float32](rand.New(rand.NewPCG(1, 2)), planes*g.H*g.W)
	y, idx := make([]float32, planes*g.OH*g.OW), make([]int, planes*g.OH*g.OW)
	for _, lvl := range vecLevels() {
		b.Run("64x32x28x28/2x2/"+levelName(lvl), func(b *testing.B) {
			vecLevel = lvl
			for b.Loop() {
				MaxPool2D(g, planes, x, y, idx)
			}
			b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
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
