package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// biasCases are the m, n, k of TestGemmBias: every small m and n (edge
// tiles of every height and width) with short k, and a few across the
// cache blocks with k over one and several kc slices.
func biasCases(short bool) [][3]int {
	dims := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 33, 100}
	var cs [][3]int
	for _, m := range dims {
		for _, n := range dims {
			for _, k := range []int{0, 1, 7} {
				cs = append(cs, [3]int{m, n, k})
			}
		}
	}
	big := []int{1, 13, 17, 100}
	ks := []int{300, 1000}
	if short {
		big, ks = []int{13, 100}, []int{300}
	}
	for _, m := range big {
		for _, n := range big {
			for _, k := range ks {
				cs = append(cs, [3]int{m, n, k})
			}
		}
	}
	return cs
}

// TestGemmBias checks the fused epilogue of every implementation this CPU
// runs, packed and in place, on one and two threads: C = op(A)·op(B) +
// bias within rounding of gemmRef, ReLU'd as ReLU32 (NaN kept, −0 and
// negatives to +0), and bit for bit what the unfused sequence (C filled
// with the bias, beta = 1, then ReLU) gives, which Linear used before.
func TestGemmBias(t *testing.T) {
	defer SetThreads(0)
	simpls, dimpls := candidateImpls()
	for _, threads := range []int{1, 2} {
		SetThreads(threads)
		for _, direct := range []int{0, math.MaxInt} {
			for _, s := range simpls {
				s.directMax = direct
				testBias(t, s, 1e-6, threads)
			}
			for _, d := range dimpls {
				d.directMax = direct
				testBias(t, d, 1e-14, threads)
			}
		}
	}
}

func testBias[T float32 | float64](t *testing.T, g *gemmImpl[T], eps float64, threads int) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, mnk := range biasCases(testing.Short()) {
		m, n, k := mnk[0], mnk[1], mnk[2]
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			transA, transB := tr[0], tr[1]
			lda, ldb := k+1, n+2
			if transA {
				lda = m + 1
			}
			if transB {
				ldb = k + 2
			}
			a := randSlice[T](rng, max(m, k)*lda)
			b := randSlice[T](rng, max(n, k)*ldb)
			bias := randSlice[T](rng, n)
			// Special values: a NaN column, a −0 column (with k = 0 the
			// result is exactly −0), a column far below zero.
			bias[0] = T(math.NaN())
			if n > 1 {
				bias[1] = T(math.Copysign(0, -1))
			}
			if n > 2 {
				bias[2] = -1e6
			}
			ldc := n + 3
			want := make([]T, m*ldc)
			gemmRef(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, want, ldc)
			scale := make([]T, m*ldc)
			gemmRef(transA, transB, m, n, k, 1, absSlice(a), lda, absSlice(b), ldb, 0, scale, ldc)
			for _, withReLU := range []bool{false, true} {
				name := fmt.Sprintf("%s/threads=%d/direct=%v/%dx%dx%d/tA=%v,tB=%v/relu=%v",
					g.name, threads, g.directMax > 0, m, n, k, transA, transB, withReLU)
				// The unfused sequence, on this implementation.
				unfused := make([]T, m*ldc)
				for i := range m {
					copy(unfused[i*ldc:i*ldc+n], bias)
				}
				g.gemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 1, unfused, ldc)
				got := make([]T, m*ldc)
				sentinel := T(777)
				for i := range got {
					got[i] = T(math.NaN()) // C must not be read
					if i%ldc >= n {
						got[i] = sentinel
					}
				}
				g.gemmEp(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, got, ldc, newEpilogue(n, bias, withReLU))
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
						u := unfused[idx]
						w := want[idx] + bias[j]
						if withReLU {
							u, w = relu(u), relu(w)
						}
						if bits(v) != bits(u) {
							t.Fatalf("%s: C[%d,%d] = %v, unfused gives %v", name, i, j, v, u)
						}
						if math.IsNaN(float64(w)) != math.IsNaN(float64(v)) ||
							math.Abs(float64(v-w)) > eps*float64(k+2)*float64(scale[idx]+T(math.Abs(float64(bias[j])))) {
							t.Fatalf("%s: C[%d,%d] = %v, want %v", name, i, j, v, w)
						}
						if withReLU && !math.IsNaN(float64(v)) && math.Signbit(float64(v)) {
							t.Fatalf("%s: C[%d,%d] = %v after ReLU", name, i, j, v)
						}
						if j == 1 && k == 0 && !withReLU && !math.Signbit(float64(v)) {
							t.Fatalf("%s: C[%d,1] = %v, want −0 (the bias)", name, i, v)
						}
					}
				}
			}
		}
	}
}

func bits[T float32 | float64](x T) uint64 {
	if f, ok := any(x).(float32); ok {
		return uint64(math.Float32bits(f))
	}
	return math.Float64bits(float64(x))
}

// TestGemmBiasThreadsSameBits checks that the fused epilogue, like the
// product, gives the same bits whatever the thread count.
func TestGemmBiasThreadsSameBits(t *testing.T) {
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(8, 9))
	for _, tc := range []gemmCase{{131, 97, 300, 0}, {37, 300, 200, 0}, {1000, 256, 512, 0}} {
		a := randSlice[float32](rng, tc.m*tc.k)
		w := randSlice[float32](rng, tc.n*tc.k)
		bias := randSlice[float32](rng, tc.n)
		for _, relu := range []bool{false, true} {
			var first []float32
			for _, threads := range []int{1, 2, 3, 5} {
				SetThreads(threads)
				c := make([]float32, tc.m*tc.n)
				SgemmBias(false, true, tc.m, tc.n, tc.k, a, tc.k, w, tc.k, bias, relu, c, tc.n)
				if first == nil {
					first = c
					continue
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
						t.Fatalf("%v relu=%v threads=%d: C[%d] = %v, threads=1 gave %v", tc, relu, threads, i, c[i], first[i])
					}
				}
			}
		}
	}
}

func TestGemmBiasPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a short bias did not panic")
		}
	}()
	c := make([]float32, 4)
	SgemmBias(false, false, 2, 2, 1, []float32{1, 2}, 1, []float32{1, 2}, 2, []float32{1}, false, c, 2)
}
