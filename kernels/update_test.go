package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// SGDMomentum agrees with the rule computed in float64 to float32
// rounding, for every length (vector body and tail), both momentum kinds,
// and the first-step form (mom 0, damp 1).
func TestSGDMomentum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 1000} {
		for _, nesterov := range []bool{false, true} {
			for _, c := range []struct{ lr, mom, damp, wd float32 }{{0.1, 0.9, 1, 0}, {0.01, 0.5, 0.7, 1e-2}, {0.3, 0, 1, 0}} {
				w, g, b := make([]float32, n), make([]float32, n), make([]float32, n)
				for i := range w {
					w[i], g[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
				}
				want := make([]float64, n)
				wantB := make([]float64, n)
				for i := range w {
					d := float64(g[i]) + float64(c.wd)*float64(w[i])
					wantB[i] = float64(c.mom)*float64(b[i]) + float64(c.damp)*d
					u := wantB[i]
					if nesterov {
						u = d + float64(c.mom)*wantB[i]
					}
					want[i] = float64(w[i]) - float64(c.lr)*u
				}
				SGDMomentum(w, g, b, c.lr, c.mom, c.damp, c.wd, nesterov)
				for i := range w {
					if math.Abs(float64(w[i])-want[i]) > 1e-6*(1+math.Abs(want[i])) || math.Abs(float64(b[i])-wantB[i]) > 1e-6*(1+math.Abs(wantB[i])) {
						t.Fatalf("n=%d nesterov=%v %+v: element %d: w %v b %v, want %v %v", n, nesterov, c, i, w[i], b[i], want[i], wantB[i])
					}
				}
			}
		}
	}
}

// The vector loop and the portable loop agree to within one rounding.
func TestSGDMomentumVectorMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 1003
	mk := func() []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	w, g, b := mk(), mk(), mk()
	w2, b2 := append([]float32{}, w...), append([]float32{}, b...)
	SGDMomentum(w, g, b, 0.05, 0.9, 1, 1e-3, true)
	sgdMomentumGo(w2, g, b2, 0.05, 0.9, 1, 1e-3, true)
	for i := range w {
		if math.Abs(float64(w[i]-w2[i])) > 1e-6 || math.Abs(float64(b[i]-b2[i])) > 1e-6 {
			t.Fatalf("element %d: vector %v %v, Go %v %v", i, w[i], b[i], w2[i], b2[i])
		}
	}
}

func BenchmarkSGDMomentum(b *testing.B) {
	for _, n := range []int{79510, 535818} {
		w, g, buf := make([]float32, n), make([]float32, n), make([]float32, n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				SGDMomentum(w, g, buf, 0.01, 0.9, 1, 0, false)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gparams/s")
		})
	}
}

// BenchmarkSGDMomentumGo is the portable loop, for comparison.
func BenchmarkSGDMomentumGo(b *testing.B) {
	for _, n := range []int{79510, 535818} {
		w, g, buf := make([]float32, n), make([]float32, n), make([]float32, n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				sgdMomentumGo(w, g, buf, 0.01, 0.9, 1, 0, false)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gparams/s")
		})
	}
}

// Adam agrees with the rule computed in float64 to float32 rounding, for
// lengths that exercise the vector body and the tail, with coupled and
// decoupled weight decay.
func TestAdam(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 3, 8, 17, 1000} {
		for _, c := range []struct{ decay, l2 float32 }{{1, 0}, {1, 0.01}, {0.999, 0}} {
			w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range w {
				w[i], g[i], m[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
				v[i] = float32(rng.Float64())
			}
			const b1, b2, eps, bc2sqrt, negStep = 0.9, 0.999, 1e-8, 0.0447, -0.0123
			want, wantM, wantV := make([]float64, n), make([]float64, n), make([]float64, n)
			for i := range w {
				d := float64(g[i]) + float64(c.l2)*float64(w[i])
				wantM[i] = b1*float64(m[i]) + (1-b1)*d
				wantV[i] = b2*float64(v[i]) + (1-b2)*d*d
				want[i] = float64(c.decay)*float64(w[i]) + negStep*wantM[i]/(math.Sqrt(wantV[i])/bc2sqrt+eps)
			}
			Adam(w, g, m, v, c.decay, c.l2, b1, b2, eps, bc2sqrt, negStep)
			for i := range w {
				if math.Abs(float64(w[i])-want[i]) > 2e-6*(1+math.Abs(want[i])) ||
					math.Abs(float64(m[i])-wantM[i]) > 2e-6*(1+math.Abs(wantM[i])) ||
					math.Abs(float64(v[i])-wantV[i]) > 2e-6*(1+math.Abs(wantV[i])) {
					t.Fatalf("n=%d %+v: element %d: w %v m %v v %v, want %v %v %v", n, c, i, w[i], m[i], v[i], want[i], wantM[i], wantV[i])
				}
			}
		}
	}
}
