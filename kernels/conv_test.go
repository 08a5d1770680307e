package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refConv is the definition of ConvGeom, summed in float64: the forward
// value y and the two adjoints, dx = Σ dy·w and dw = Σ dy·x over the same
// index triples.
func refConv[T float32 | float64](g ConvGeom, x, w, dy []T) (y, dx, dw []float64) {
	y = make([]float64, g.N*g.K*g.OH*g.OW)
	dx = make([]float64, len(x))
	dw = make([]float64, len(w))
	cg, kg := g.C/g.Groups, g.K/g.Groups
	for n := range g.N {
		for k := range g.K {
			gr := k / kg
			for oh := range g.OH {
				for ow := range g.OW {
					yi := ((n*g.K+k)*g.OH+oh)*g.OW + ow
					for c := range cg {
						for i := range g.KH {
							for j := range g.KW {
								ih, iw := oh*g.SH-g.PT+i*g.DH, ow*g.SW-g.PL+j*g.DW
								if ih < 0 || ih >= g.H || iw < 0 || iw >= g.W {
									continue
								}
								xi := ((n*g.C+gr*cg+c)*g.H+ih)*g.W + iw
								wi := ((k*cg+c)*g.KH+i)*g.KW + j
								y[yi] += float64(x[xi]) * float64(w[wi])
								dx[xi] += float64(dy[yi]) * float64(w[wi])
								dw[wi] += float64(dy[yi]) * float64(x[xi])
							}
						}
					}
				}
			}
		}
	}
	return y, dx, dw
}

func geom(n, c, h, w, k, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups int) ConvGeom {
	g := ConvGeom{N: n, C: c, H: h, W: w, K: k, KH: kh, KW: kw, SH: sh, SW: sw, PT: pt, PL: pl, DH: dh, DW: dw, Groups: groups}
	g.OH = (h+pt+pb-dh*(kh-1)-1)/sh + 1
	g.OW = (w+pl+pr-dw*(kw-1)-1)/sw + 1
	return g
}

var convGeoms = []struct {
	name string
	g    ConvGeom
}{
	{"3x3", geom(2, 3, 5, 6, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1)},
	{"stride2-pad1", geom(2, 2, 7, 5, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1)},
	{"asym-pad-stride(1,2)", geom(1, 2, 5, 6, 3, 2, 3, 1, 2, 1, 0, 2, 1, 1, 1, 1)},
	{"dilation2", geom(1, 2, 7, 7, 2, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1)},
	{"groups2", geom(3, 4, 5, 5, 6, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 2)},
	{"depthwise", geom(2, 3, 6, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3)},
	{"pointwise", geom(2, 4, 3, 3, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1)},
	{"pointwise-groups", geom(2, 4, 3, 5, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2)},
	// Unfolded input 72×1024 > tileElems: tiles of 910 pixels, split
	// inside an output row.
	{"tiled", geom(2, 8, 32, 32, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
	{"tiled-stride2", geom(1, 16, 47, 45, 4, 5, 5, 2, 1, 2, 2, 2, 2, 1, 1, 1)},
	{"mnist-conv2", geom(3, 32, 14, 14, 64, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1)},
	{"stride3-dilation2-wide-pad", geom(2, 3, 9, 11, 2, 3, 4, 2, 3, 1, 2, 2, 3, 1, 2, 1)},
	{"tiled-stride2-dilation", geom(1, 20, 40, 50, 3, 3, 3, 2, 2, 3, 1, 2, 4, 2, 2, 1)},
	{"kernel-wider-than-padded-run", geom(1, 1, 3, 2, 2, 3, 5, 1, 1, 1, 1, 4, 4, 1, 1, 1)},
	{"same-width-even-kernel", geom(2, 3, 5, 7, 2, 4, 2, 1, 1, 1, 2, 0, 1, 1, 1, 1)},
	{"same-width-valid-height", geom(1, 2, 6, 5, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1, 1, 1)},
	{"same-width-dilation3-tiled", geom(1, 30, 25, 31, 2, 3, 3, 1, 1, 2, 4, 3, 3, 3, 3, 1)},
	// Input gradients by the transposed convolution (stride 1, 8 or more
	// channels per group): asymmetric padding, groups, dilation.
	{"transposed-asym-pad", geom(2, 8, 6, 7, 3, 3, 2, 1, 1, 2, 0, 1, 0, 1, 1, 1)},
	{"transposed-groups", geom(1, 16, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2)},
	{"transposed-dilation-valid", geom(2, 9, 9, 8, 5, 3, 2, 1, 1, 0, 0, 0, 0, 2, 3, 1)},
	{"batch-over-weight-chunks", geom(19, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
}

func randSliceConv[T float32 | float64](rng *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(rng.NormFloat64())
	}
	return s
}

func relErrAgainst[T float32 | float64](got []T, want []float64) float64 {
	scale, worst := 0.0, 0.0
	for i, w := range want {
		scale = max(scale, math.Abs(w))
		worst = max(worst, math.Abs(float64(got[i])-w))
		if math.IsNaN(float64(got[i])) {
			return math.Inf(1)
		}
	}
	return worst / max(scale, 1e-300)
}

// testConv checks the three convolution kernels against the definition
// for every geometry, with each GEMM implementation this CPU runs (the
// pure-Go fallback included) and one and two threads.
func testConv[T float32 | float64](t *testing.T, impls []*gemmImpl[T], set func(*gemmImpl[T]), tol float64) {
	defer SetThreads(0)
	for _, impl := range impls {
		set(impl)
		for _, threads := range []int{1, 2} {
			SetThreads(threads)
			for _, tc := range convGeoms {
				g := tc.g
				rng := rand.New(rand.NewPCG(7, uint64(g.N*g.C*g.H)))
				x := randSliceConv[T](rng, g.N*g.C*g.H*g.W)
				w := randSliceConv[T](rng, g.K*g.cols())
				bias := randSliceConv[T](rng, g.K)
				dy := randSliceConv[T](rng, g.N*g.K*g.OH*g.OW)
				ry, rdx, rdw := refConv(g, x, w, dy)
				name := fmt.Sprintf("%s/threads=%d/%s", impl.name, threads, tc.name)
				y := make([]T, len(ry))
				Conv2D(g, x, w, nil, y, false)
				if e := relErrAgainst(y, ry); e > tol {
					t.Errorf("%s: Conv2D error %.3g", name, e)
				}
				// Bias and ReLU: the same sums, then b, then max(0, ·).
				Conv2D(g, x, w, bias, y, true)
				want := make([]float64, len(ry))
				for i, v := range ry {
					want[i] = max(0, v+float64(bias[(i/(g.OH*g.OW))%g.K]))
				}
				if e := relErrAgainst(y, want); e > tol {
					t.Errorf("%s: Conv2D with bias and ReLU error %.3g", name, e)
				}
				dx := randSliceConv[T](rng, len(x)) // overwritten
				Conv2DBackwardData(g, dy, w, dx)
				if e := relErrAgainst(dx, rdx); e > tol {
					t.Errorf("%s: Conv2DBackwardData error %.3g", name, e)
				}
				dw := randSliceConv[T](rng, len(w)) // overwritten
				Conv2DBackwardWeight(g, x, dy, dw)
				if e := relErrAgainst(dw, rdw); e > tol {
					t.Errorf("%s: Conv2DBackwardWeight error %.3g", name, e)
				}
			}
		}
	}
}

func TestConvKernels(t *testing.T) {
	simpls, dimpls := candidateImpls()
	s0, d0 := sImpl, dImpl
	defer func() { sImpl, dImpl = s0, d0 }()
	testConv(t, simpls, func(g *gemmImpl[float32]) { sImpl = g }, 2e-6)
	testConv(t, dimpls, func(g *gemmImpl[float64]) { dImpl = g }, 1e-13)
}

// Conv2DMaxPool gives the bits of Conv2D followed by MaxPool2D (and the
// ReLU after), with the pooling's indices into the convolution's output,
// for every geometry, two pooling windows, each GEMM implementation and
// one and two threads.
func TestConv2DMaxPool(t *testing.T) {
	defer SetThreads(0)
	simpls, _ := candidateImpls()
	s0 := sImpl
	defer func() { sImpl = s0 }()
	pools := func(g ConvGeom) []PoolGeom {
		var ps []PoolGeom
		if g.OH >= 2 && g.OW >= 2 {
			ps = append(ps, PoolGeom{H: g.OH, W: g.OW, OH: g.OH / 2, OW: g.OW / 2, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1})
		}
		// 3×3, stride 2, padding 1: windows running off the plane.
		return append(ps, PoolGeom{H: g.OH, W: g.OW, OH: (g.OH-1)/2 + 1, OW: (g.OW-1)/2 + 1, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1, DH: 1, DW: 1})
	}
	for _, impl := range simpls {
		sImpl = impl
		for _, threads := range []int{1, 2} {
			SetThreads(threads)
			for _, tc := range convGeoms {
				g := tc.g
				rng := rand.New(rand.NewPCG(9, uint64(g.N*g.C*g.W)))
				x := randSliceConv[float32](rng, g.N*g.C*g.H*g.W)
				w := randSliceConv[float32](rng, g.K*g.cols())
				bias := randSliceConv[float32](rng, g.K)
				conv := make([]float32, g.N*g.K*g.OH*g.OW)
				Conv2D(g, x, w, bias, conv, false)
				for _, pg := range pools(g) {
					planes := g.N * g.K
					want := make([]float32, planes*pg.OH*pg.OW)
					wantIdx := make([]int, len(want))
					MaxPool2D(pg, planes, conv, want, wantIdx)
					for _, relu := range []bool{false, true} {
						name := fmt.Sprintf("%s/threads=%d/%s/pool%dx%d/relu=%v", impl.name, threads, tc.name, pg.KH, pg.KW, relu)
						y, idx := make([]float32, len(want)), make([]int, len(want))
						Conv2DMaxPool(g, pg, x, w, bias, y, idx, relu)
						yNoIdx := make([]float32, len(want))
						Conv2DMaxPool(g, pg, x, w, bias, yNoIdx, nil, relu)
						for i, v := range want {
							if relu {
								v = max(v, 0)
							}
							if math.Float32bits(y[i]) != math.Float32bits(v) || math.Float32bits(yNoIdx[i]) != math.Float32bits(v) {
								t.Fatalf("%s: output %d = %v (%v without indices), want %v", name, i, y[i], yNoIdx[i], v)
							}
							if (!relu || v > 0) && idx[i] != wantIdx[i] {
								t.Fatalf("%s: output %d taken at %d, want %d", name, i, idx[i], wantIdx[i])
							}
						}
					}
				}
			}
		}
	}
}

// The weight gradient sums the batch in fixed parts: the same bits on one
// thread and on two.
func TestConvWeightGradThreadsSameBits(t *testing.T) {
	defer SetThreads(0)
	// 13 images: parts of the batch on both threads. 1 image with 6
	// output channels: one part, whose products run in parallel on two
	// threads and serially on one (a product of few rows goes to the
	// matrix–vector kernel either way).
	for _, g := range []ConvGeom{geom(13, 6, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), geom(1, 3, 28, 28, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1)} {
		rng := rand.New(rand.NewPCG(3, 4))
		x := randSliceConv[float32](rng, g.N*g.C*g.H*g.W)
		dy := randSliceConv[float32](rng, g.N*g.K*g.OH*g.OW)
		var out [2][]float32
		for i, threads := range []int{1, 2} {
			SetThreads(threads)
			out[i] = make([]float32, g.K*g.cols())
			Conv2DBackwardWeight(g, x, dy, out[i])
		}
		for i := range out[0] {
			if math.Float32bits(out[0][i]) != math.Float32bits(out[1][i]) {
				t.Fatalf("N=%d K=%d: element %d: %v on one thread, %v on two", g.N, g.K, i, out[0][i], out[1][i])
			}
		}
	}
}

// Once warm, the convolution kernels allocate only a few small closures
// and headers (the parallel calls'), however large the convolution: the
// unfolded tiles, flipped kernels and partial sums come from pools.
func TestConvAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers at random")
	}
	defer SetThreads(0)
	SetThreads(1)
	g := geom(4, 8, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1)
	rng := rand.New(rand.NewPCG(5, 6))
	x := randSliceConv[float32](rng, g.N*g.C*g.H*g.W)
	w := randSliceConv[float32](rng, g.K*g.cols())
	y := make([]float32, g.N*g.K*g.OH*g.OW)
	dw := make([]float32, len(w))
	pool := PoolGeom{H: g.OH, W: g.OW, OH: g.OH / 2, OW: g.OW / 2, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1}
	pooled := make([]float32, g.N*g.K*pool.OH*pool.OW)
	for name, f := range map[string]func(){
		"Conv2D":               func() { Conv2D(g, x, w, nil, y, true) },
		"Conv2DBackwardData":   func() { Conv2DBackwardData(g, y, w, x) },
		"Conv2DBackwardWeight": func() { Conv2DBackwardWeight(g, x, y, dw) },
		"Conv2DMaxPool":        func() { Conv2DMaxPool(g, pool, x, w, nil, pooled, nil, true) },
		"MaxPool2D":            func() { MaxPool2D(pool, g.N*g.K, y, pooled, nil) },
	} {
		f()
		if n := testing.AllocsPerRun(20, f); n > 4 {
			t.Errorf("%s: %v allocations per call once warm", name, n)
		}
	}
}

func TestConvPanics(t *testing.T) {
	g := geom(1, 2, 4, 4, 2, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1)
	for name, f := range map[string]func(){
		"short x": func() { Conv2D(g, make([]float32, 5), make([]float32, 36), nil, make([]float32, 8), false) },
		"bad groups": func() {
			g := g
			g.Groups = 3
			Conv2D(g, make([]float32, 32), make([]float32, 36), nil, make([]float32, 8), false)
		},
		"short bias": func() {
			Conv2D(g, make([]float32, 32), make([]float32, 36), make([]float32, 1), make([]float32, 8), false)
		},
		"short dw": func() { Conv2DBackwardWeight(g, make([]float32, 32), make([]float32, 8), make([]float32, 3)) },
		"short dx": func() { Conv2DBackwardData(g, make([]float32, 8), make([]float32, 36), make([]float32, 3)) },
		"zero stride": func() {
			g := g
			g.SH = 0
			Conv2D(g, make([]float32, 32), make([]float32, 36), nil, make([]float32, 8), false)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// convBenchLayers are the convolutions of the MNIST CNN
// (conv(32,5,pad=2)-relu-maxpool(2)-conv(64,5,pad=2)-…) at batch 64, and
// the second at inference batch 1000.
var convBenchLayers = []struct {
	name string
	g    ConvGeom
}{
	{"conv1/N=64/1x28x28->32", geom(64, 1, 28, 28, 32, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1)},
	{"conv2/N=64/32x14x14->64", geom(64, 32, 14, 14, 64, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1)},
	{"conv2/N=1000/32x14x14->64", geom(1000, 32, 14, 14, 64, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1)},
}

func benchConv(b *testing.B, pass string) {
	defer SetThreads(0)
	for _, l := range convBenchLayers {
		g := l.g
		if pass != "forward" && g.N > 64 {
			continue
		}
		rng := rand.New(rand.NewPCG(1, 2))
		x := randSliceConv[float32](rng, g.N*g.C*g.H*g.W)
		w := randSliceConv[float32](rng, g.K*g.cols())
		bias := randSliceConv[float32](rng, g.K)
		y := make([]float32, g.N*g.K*g.OH*g.OW)
		dw := make([]float32, len(w))
		run := map[string]func(){
			"forward":     func() { Conv2D(g, x, w, bias, y, true) },
			"grad-input":  func() { Conv2DBackwardData(g, y, w, x) },
			"grad-weight": func() { Conv2DBackwardWeight(g, x, y, dw) },
		}[pass]
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", l.name, threads), func(b *testing.B) {
				SetThreads(threads)
				run()
				b.ReportAllocs()
				for b.Loop() {
					run()
				}
				flops := 2 * float64(g.N*g.K*g.OH*g.OW*g.cols()) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(float64(g.N)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}

func BenchmarkConv2D(b *testing.B)               { benchConv(b, "forward") }
func BenchmarkConv2DBackwardData(b *testing.B)   { benchConv(b, "grad-input") }
func BenchmarkConv2DBackwardWeight(b *testing.B) { benchConv(b, "grad-weight") }
