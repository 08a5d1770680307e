package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gemvDims are the sizes TestGemv runs: every row count up to past two
// passes of the widest kernel (4 rows of A), every column count around
// the groups of four, and inner sizes around the vector widths (4, 8, 16)
// so that every masked tail length occurs.
var (
	gemvMs = []int{1, 2, 3, 4, 5, 6, 7, 8, 9}
	gemvNs = []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 17, 100}
	gemvKs = []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 100, 300}
)

// TestGemv checks the matrix–vector path of every implementation this
// CPU runs (AVX-512, AVX2, pure Go; the purego build runs the last
// alone) against gemmRef: C = alpha·A·Bᵀ plus the bias or beta·C, then
// the ReLU, on strided operands, within rounding; C outside the m×n
// window untouched; C not read when beta is 0 or a bias is given; NaN
// kept and negatives and −0 turned to +0 by the ReLU.
func TestGemv(t *testing.T) {
	simpls, dimpls := candidateImpls()
	for _, s := range simpls {
		testGemv(t, s, 1e-6)
	}
	for _, d := range dimpls {
		testGemv(t, d, 1e-14)
	}
}

func testGemv[T float32 | float64](t *testing.T, g *gemmImpl[T], eps float64) {
	if g.gemv == nil {
		t.Fatalf("%s: no matrix–vector path", g.name)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	ms, ns, ks := gemvMs, gemvNs, gemvKs
	if testing.Short() {
		ns, ks = []int{1, 4, 9, 17}, []int{1, 7, 16, 33, 100}
	}
	type ep struct {
		alpha, beta T
		bias, relu  bool
	}
	eps2 := []ep{{1, 0, true, false}, {1, 0, true, true}, {1, 0, false, false}, {0.5, 0, false, true}, {-2, 0.75, false, false}, {1, 1, false, true}}
	for _, m := range ms {
		for _, n := range ns {
			for _, k := range ks {
				lda, ldb, ldc := k+1, k+3, n+2
				a := randSlice[T](rng, (m-1)*lda+k)
				b := randSlice[T](rng, (n-1)*ldb+k)
				bias := randSlice[T](rng, n)
				bias[0] = T(math.NaN())
				if n > 1 {
					bias[1] = T(math.Copysign(0, -1))
				}
				if n > 2 {
					bias[2] = -1e6
				}
				c0 := randSlice[T](rng, m*ldc)
				sum := make([]T, m*ldc)
				gemmRef(false, true, m, n, k, 1, a, lda, b, ldb, 0, sum, ldc)
				scale := make([]T, m*ldc)
				gemmRef(false, true, m, n, k, 1, absSlice(a), lda, absSlice(b), ldb, 0, scale, ldc)
				for _, e := range eps2 {
					var bs []T
					if e.bias {
						bs = bias
					}
					got := make([]T, m*ldc)
					const sentinel = 777
					for i := range got {
						switch {
						case i%ldc >= n:
							got[i] = sentinel
						case e.beta == 0:
							got[i] = T(math.NaN()) // must not be read
						default:
							got[i] = c0[i]
						}
					}
					name := fmt.Sprintf("%s/%dx%dx%d/alpha=%v,beta=%v,bias=%v,relu=%v", g.name, m, n, k, e.alpha, e.beta, e.bias, e.relu)
					g.gemv(m, n, k, e.alpha, a, lda, b, ldb, e.beta, got, ldc, newEpilogue(n, bs, e.relu))
					for i := range m {
						for j := range ldc {
							idx := i*ldc + j
							v := got[idx]
							if j >= n {
								if v != sentinel {
									t.Fatalf("%s: C[%d,%d] outside the window changed to %v", name, i, j, v)
								}
								continue
							}
							w := e.alpha * sum[idx]
							tol := float64(scale[idx]) * math.Abs(float64(e.alpha))
							switch {
							case e.bias:
								w += bias[j]
								tol += math.Abs(float64(bias[j]))
							case e.beta != 0:
								w += e.beta * c0[idx]
								tol += math.Abs(float64(e.beta * c0[idx]))
							}
							if e.relu {
								w = relu(w)
							}
							if math.IsNaN(float64(w)) != math.IsNaN(float64(v)) ||
								math.Abs(float64(v-w)) > eps*float64(k+2)*tol {
								t.Fatalf("%s: C[%d,%d] = %v, want %v", name, i, j, v, w)
							}
							if e.relu && !math.IsNaN(float64(v)) && math.Signbit(float64(v)) {
								t.Fatalf("%s: C[%d,%d] = %v after ReLU", name, i, j, v)
							}
						}
					}
				}
			}
		}
	}
}

// TestGemvDispatch checks that gemmEp takes the matrix–vector path where
// it should (a transposed B, at most gemvMaxM rows of A that are
// contiguous) and that the results through Sgemm, SgemmBias and their
// float64 twins match the blocked path's within rounding, on one and two
// threads (the two-thread runs are large enough to be split), and that
// the split gives the same bits as one thread.
func TestGemvDispatch(t *testing.T) {
	defer SetThreads(0)
	simpls, dimpls := candidateImpls()
	for _, s := range simpls {
		testGemvDispatch(t, s, 1e-6)
	}
	for _, d := range dimpls {
		testGemvDispatch(t, d, 1e-14)
	}
}

func testGemvDispatch[T float32 | float64](t *testing.T, g *gemmImpl[T], eps float64) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, c := range [][3]int{{1, 512, 784}, {1, 10, 256}, {3, 100, 784}, {g.gemvMaxM, 37, 300}, {g.gemvMaxM + 1, 37, 300}, {g.gemvMaxM + 1, 4 * g.nr, 300}, {100, 10, 256}, {1000, 100, 784}, {1, 1, 1}} {
		m, n, k := c[0], c[1], c[2]
		for _, transA := range []bool{false, true} {
			lda := k
			if transA {
				lda = m
			}
			a := randSlice[T](rng, m*k)
			b := randSlice[T](rng, n*k)
			bias := randSlice[T](rng, n)
			gemv := g.gemv
			g.gemv = nil
			want := make([]T, m*n)
			g.gemmEp(transA, true, m, n, k, 1, a, lda, b, k, 0, want, n, newEpilogue(n, bias, true))
			scale := make([]T, m*n)
			gemmRef(transA, true, m, n, k, 1, absSlice(a), lda, absSlice(b), k, 0, scale, n)
			var first []T
			for _, threads := range []int{1, 2} {
				SetThreads(threads)
				name := fmt.Sprintf("%s/%dx%dx%d/transA=%v/threads=%d", g.name, m, n, k, transA, threads)
				// Count the calls of the matrix–vector path.
				calls := 0
				g.gemv = func(m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, ep epilogue[T]) {
					calls++
					gemv(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
				}
				if threads > 1 {
					g.gemv = gemv // the counter is not safe across goroutines
				}
				got := make([]T, m*n)
				g.gemmEp(transA, true, m, n, k, 1, a, lda, b, k, 0, got, n, newEpilogue(n, bias, true))
				g.gemv = gemv
				// Few rows take it for all of C; more rows for the
				// columns past the last whole register tile.
				wantGemv := (m <= g.gemvMaxM || n%g.nr != 0) && (!transA || m == 1)
				if threads == 1 && (calls > 0) != wantGemv {
					t.Fatalf("%s: matrix–vector path taken %d times, want it %v", name, calls, wantGemv)
				}
				for i := range got {
					if math.Abs(float64(got[i]-want[i])) > eps*float64(k+2)*float64(scale[i]+T(math.Abs(float64(bias[i%n])))) {
						t.Fatalf("%s: C[%d] = %v, the blocked path gives %v", name, i, got[i], want[i])
					}
				}
				if first == nil {
					first = got
				} else {
					for i := range got {
						if bits(got[i]) != bits(first[i]) {
							t.Fatalf("%s: C[%d] = %v, one thread gave %v", name, i, got[i], first[i])
						}
					}
				}
			}
		}
	}
}

// TestGemvOffBlockedTransB keeps the blocked path's coverage for few rows
// of A and a transposed B, which the matrix–vector path now takes in
// Sgemm and the tests of the GEMM: with it switched off, the packed and
// edge kernels must still match gemmRef.
func TestGemvOffBlockedTransB(t *testing.T) {
	simpls, dimpls := candidateImpls()
	for _, s := range simpls {
		s.gemv = nil
		testGemvOff(t, s, 1e-6)
	}
	for _, d := range dimpls {
		d.gemv = nil
		testGemvOff(t, d, 1e-14)
	}
}

func testGemvOff[T float32 | float64](t *testing.T, g *gemmImpl[T], eps float64) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, m := range []int{1, 2, 3, 5, 8} {
		for _, n := range []int{1, 10, 17, 100} {
			for _, k := range []int{1, 9, 300} {
				a := randSlice[T](rng, m*k)
				b := randSlice[T](rng, n*k)
				bias := randSlice[T](rng, n)
				want := make([]T, m*n)
				gemmRef(false, true, m, n, k, 1, a, k, b, k, 0, want, n)
				scale := make([]T, m*n)
				gemmRef(false, true, m, n, k, 1, absSlice(a), k, absSlice(b), k, 0, scale, n)
				got := make([]T, m*n)
				g.gemmEp(false, true, m, n, k, 1, a, k, b, k, 0, got, n, newEpilogue(n, bias, false))
				for i := range got {
					w := want[i] + bias[i%n]
					if math.Abs(float64(got[i]-w)) > eps*float64(k+2)*float64(scale[i]+T(math.Abs(float64(bias[i%n])))) {
						t.Fatalf("%s/%dx%dx%d: C[%d] = %v, want %v", g.name, m, n, k, i, got[i], w)
					}
				}
			}
		}
	}
}
