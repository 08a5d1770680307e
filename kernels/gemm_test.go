package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// gemmCase is one product shape; pad widens every leading dimension so
// strides and widths differ.
type gemmCase struct{ m, n, k, pad int }

func gemmCases(short bool) []gemmCase {
	cases := []gemmCase{
		{1, 1, 1, 0}, {2, 2, 2, 0}, {1, 7, 3, 0}, {7, 1, 5, 2}, {7, 7, 7, 0},
		{6, 16, 4, 0}, {6, 8, 1, 0}, {12, 32, 9, 3},
		{17, 17, 17, 1}, {33, 33, 33, 0}, {65, 65, 65, 5},
		{100, 100, 100, 0}, {1000, 3, 5, 0}, {3, 1000, 7, 1},
		{5, 3, 1000, 0}, {97, 200, 3, 0},
	}
	// Every edge tile: the last column panel 1…17, 31 or 33 wide (n = 100
	// leaves 4 columns), the last row panel 1…13 tall (m = 64 leaves 4
	// rows), alone and under full tiles.
	for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 33, 100} {
		cases = append(cases, gemmCase{12, n, 19, 0}, gemmCase{25, n, 6, 1})
	}
	for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 64} {
		cases = append(cases, gemmCase{m, 32, 19, 0}, gemmCase{m, 48, 5, 2}, gemmCase{m, 16, 7, 0})
	}
	cases = append(cases, gemmCase{64, 100, 50, 0})
	// Wide enough that every implementation packs a row-major A (its
	// transposing pack, with a k that is not a multiple of its block).
	cases = append(cases, gemmCase{13, 600, 37, 1}, gemmCase{7, 600, 8, 0}, gemmCase{6, 600, 9, 0})
	if !short {
		// Larger than one cache block in each of m, n and k.
		cases = append(cases, gemmCase{257, 129, 300, 3}, gemmCase{250, 4200, 20, 0}, gemmCase{130, 70, 530, 1})
		// Past directMax with a narrow B: A is read in place, not packed.
		cases = append(cases, gemmCase{1000, 100, 300, 2}, gemmCase{700, 500, 64, 0})
	}
	return cases
}

// randSlice fills n elements with values in [-1, 1).
func randSlice[T float32 | float64](rng *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(2*rng.Float64() - 1)
	}
	return s
}

func absSlice[T float32 | float64](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[i] = T(math.Abs(float64(v)))
	}
	return out
}

type gemmFunc[T float32 | float64] func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// checkGEMMAgainstRef runs gemm and gemmRef on the same seeded inputs and
// compares each element within eps·(k+2) of the magnitude
// |alpha|·|A|·|B| + |beta|·|C|, the scale of the rounding error of a
// length-k dot product. Entries of C outside the m×n window must be left
// untouched.
func checkGEMMAgainstRef[T float32 | float64](t *testing.T, gemm gemmFunc[T], eps float64, tc gemmCase, transA, transB bool, alpha, beta T, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, uint64(tc.m*1000000+tc.n*1000+tc.k)))
	m, n, k := tc.m, tc.n, tc.k
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	lda, ldb, ldc := colsA+tc.pad, colsB+tc.pad, n+tc.pad
	a := randSlice[T](rng, rowsA*lda)
	b := randSlice[T](rng, rowsB*ldb)
	c0 := randSlice[T](rng, m*ldc)
	got := append([]T(nil), c0...)
	if beta == 0 {
		nan := T(math.NaN())
		for i := range got {
			got[i] = nan // beta == 0 must not read C
		}
	}
	want := append([]T(nil), c0...)
	scale := absSlice(c0)
	gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
	gemmRef(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
	absAlpha, absBeta := T(math.Abs(float64(alpha))), T(math.Abs(float64(beta)))
	gemmRef(transA, transB, m, n, k, absAlpha, absSlice(a), lda, absSlice(b), ldb, absBeta, scale, ldc)
	for i := range m {
		for j := range ldc {
			idx := i*ldc + j
			g, w := float64(got[idx]), float64(want[idx])
			if j >= n {
				if beta != 0 && got[idx] != c0[idx] || beta == 0 && !math.IsNaN(g) {
					t.Fatalf("C[%d,%d] outside the %d×%d window changed to %v", i, j, m, n, g)
				}
				continue
			}
			tol := eps * float64(k+2) * float64(scale[idx])
			if math.IsNaN(g) || math.Abs(g-w) > tol {
				t.Fatalf("C[%d,%d] = %v, want %v (tolerance %g)", i, j, g, w, tol)
			}
		}
	}
}

var alphaBetas = []struct{ alpha, beta float64 }{
	{1, 0}, {1, 1}, {-0.5, 2}, {2.5, -1}, {0, 0.5}, {0, 0},
}

func testGEMM[T float32 | float64](t *testing.T, gemm gemmFunc[T], eps float64) {
	for _, threads := range []int{1, 2, 3} {
		SetThreads(threads)
		for _, tc := range gemmCases(testing.Short()) {
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				for ai, ab := range alphaBetas {
					if tc.m*tc.n*tc.k > 1e6 && (threads == 3 || ai > 2) {
						continue // the reference loop is slow; fewer variants at size
					}
					name := fmt.Sprintf("threads=%d/%dx%dx%d+%d/tA=%v,tB=%v/%d", threads, tc.m, tc.n, tc.k, tc.pad, tr[0], tr[1], ai)
					t.Run(name, func(t *testing.T) {
						checkGEMMAgainstRef(t, gemm, eps, tc, tr[0], tr[1], T(ab.alpha), T(ab.beta), 1)
					})
				}
			}
		}
	}
	SetThreads(0)
}

func TestSgemm(t *testing.T) { testGEMM[float32](t, Sgemm, 1e-6) }
func TestDgemm(t *testing.T) { testGEMM[float64](t, Dgemm, 1e-14) }

// TestKernels runs every kernel this CPU supports (not only the one the
// dispatch picks) through the driver, both on packed operands and on
// operands read in place.
func TestKernels(t *testing.T) {
	defer SetThreads(0)
	simpls, dimpls := candidateImpls()
	threadCounts := []int{1, 2}
	if testing.Short() {
		threadCounts = threadCounts[:1] // -race: TestConcurrentCallers covers the pool
	}
	for _, threads := range threadCounts {
		SetThreads(threads)
		for _, direct := range []int{0, math.MaxInt} {
			for _, s := range simpls {
				s.directMax = direct
				testImpl(t, s, 1e-6, threads)
			}
			for _, d := range dimpls {
				d.directMax = direct
				testImpl(t, d, 1e-14, threads)
			}
		}
	}
}

func testImpl[T float32 | float64](t *testing.T, g *gemmImpl[T], eps float64, threads int) {
	for _, tc := range gemmCases(true) {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, ab := range alphaBetas[:4] {
				name := fmt.Sprintf("%s/threads=%d/direct=%v/%dx%dx%d+%d/tA=%v,tB=%v/alpha=%v,beta=%v",
					g.name, threads, g.directMax > 0, tc.m, tc.n, tc.k, tc.pad, tr[0], tr[1], ab.alpha, ab.beta)
				t.Run(name, func(t *testing.T) {
					checkGEMMAgainstRef(t, g.gemm, eps, tc, tr[0], tr[1], T(ab.alpha), T(ab.beta), 2)
				})
			}
		}
	}
}

// TestPackT checks every implementation's transposing packs against the
// definition d[p·w+j] = x[j·ldx+p], for k below, at and past the vector
// blocks, and that they write nothing past the panel.
func TestPackT(t *testing.T) {
	simpls, dimpls := candidateImpls()
	for _, g := range simpls {
		testPackT(t, g.name+"/packT", g.packT, g.nr)
		testPackT(t, g.name+"/packTA", g.packTA, g.mr)
	}
	for _, g := range dimpls {
		testPackT(t, g.name+"/packT", g.packT, g.nr)
		testPackT(t, g.name+"/packTA", g.packTA, g.mr)
	}
}

func testPackT[T float32 | float64](t *testing.T, name string, pack transPanel[T], w int) {
	if pack == nil {
		return
	}
	rng := rand.New(rand.NewPCG(7, uint64(w)))
	for _, k := range []int{1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 100} {
		for _, pad := range []int{0, 3} {
			ldx := k + pad
			x := randSlice[T](rng, (w-1)*ldx+k)
			d := make([]T, k*w+8)
			sentinel := T(12345)
			for i := range d {
				d[i] = sentinel
			}
			pack(k, x, ldx, d[:k*w:k*w])
			for p := range k {
				for j := range w {
					if got, want := d[p*w+j], x[j*ldx+p]; got != want {
						t.Fatalf("%s k=%d ldx=%d: d[%d·%d+%d] = %v, want %v", name, k, ldx, p, w, j, got, want)
					}
				}
			}
			for i := k * w; i < len(d); i++ {
				if d[i] != sentinel {
					t.Fatalf("%s k=%d ldx=%d: wrote d[%d] past the panel", name, k, ldx, i)
				}
			}
		}
	}
}

// TestGEMMThreadsSameBits checks that splitting the work changes no bit of
// the result: the split follows register tiles, so each element sees the
// same operations.
func TestGEMMThreadsSameBits(t *testing.T) {
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []gemmCase{{131, 97, 300, 0}, {37, 300, 200, 0}} {
		a := randSlice[float32](rng, tc.m*tc.k)
		b := randSlice[float32](rng, tc.k*tc.n)
		var first []float32
		for _, threads := range []int{1, 2, 3, 5} {
			SetThreads(threads)
			c := make([]float32, tc.m*tc.n)
			Sgemm(false, false, tc.m, tc.n, tc.k, 1, a, tc.k, b, tc.n, 0, c, tc.n)
			if first == nil {
				first = c
				continue
			}
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
					t.Fatalf("%v threads=%d: C[%d] = %v, threads=1 gave %v", tc, threads, i, c[i], first[i])
				}
			}
		}
	}
}

func TestGEMMPanics(t *testing.T) {
	s := make([]float32, 100)
	for _, tc := range []struct {
		name string
		call func()
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, s, 2, s, 2, 0, s, 2) }},
		{"small lda", func() { Sgemm(false, false, 2, 2, 3, 1, s, 2, s, 2, 0, s, 2) }},
		{"small ldb transposed", func() { Sgemm(false, true, 2, 2, 3, 1, s, 3, s, 2, 0, s, 2) }},
		{"short C", func() { Sgemm(false, false, 10, 11, 1, 1, s, 1, s, 11, 0, s, 11) }},
		{"short A", func() { Sgemm(true, false, 10, 2, 11, 1, s, 10, s, 2, 0, s, 2) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.call()
		}()
	}
}

func TestParallelForCoverage(t *testing.T) {
	defer SetThreads(0)
	for _, threads := range []int{1, 2, 4} {
		SetThreads(threads)
		for _, tc := range []struct{ n, grain int }{{0, 1}, {1, 1}, {5, 10}, {10, 1}, {1000, 7}, {1001, 100}, {64, 0}} {
			hits := make([]atomic.Int32, tc.n)
			ParallelFor(tc.n, tc.grain, func(lo, hi int) {
				if lo >= hi {
					t.Errorf("n=%d grain=%d: empty range [%d,%d)", tc.n, tc.grain, lo, hi)
				}
				for i := lo; i < hi; i++ {
					hits[i].Add(1)
				}
			})
			for i := range hits {
				if h := hits[i].Load(); h != 1 {
					t.Fatalf("threads=%d n=%d grain=%d: index %d run %d times", threads, tc.n, tc.grain, i, h)
				}
			}
		}
	}
}

// TestConcurrentCallers runs GEMMs from several goroutines at once, some
// of them from inside ParallelFor, so the pool is used while busy and
// nested. Sizes stay small enough for -race.
func TestConcurrentCallers(t *testing.T) {
	defer SetThreads(0)
	SetThreads(3)
	const m, n, k = 100, 100, 100 // above parallelMin
	rng := rand.New(rand.NewPCG(5, 6))
	a := randSlice[float32](rng, m*k)
	b := randSlice[float32](rng, k*n)
	want := make([]float32, m*n)
	gemmRef(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
	check := func(c []float32) {
		for i := range c {
			if math.Abs(float64(c[i]-want[i])) > 1e-3 {
				t.Errorf("C[%d] = %v, want %v", i, c[i], want[i])
				return
			}
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 3 {
				c := make([]float32, m*n)
				Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
				check(c)
			}
		})
	}
	wg.Go(func() {
		ParallelFor(6, 1, func(lo, hi int) {
			for range hi - lo {
				c := make([]float32, m*n)
				Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
				check(c)
			}
		})
	})
	wg.Wait()
}
