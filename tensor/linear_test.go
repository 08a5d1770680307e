package tensor

import (
	"slices"
	"testing"
)

// Linear equals MatMul(x, wᵀ) + b, for both dtypes, with and without a
// bias, on batched inputs and on a transposed (non-contiguous) x.
func TestLinearMatchesMatMulPlusBias(t *testing.T) {
	rng := NewRand(5)
	for _, dt := range []DType{Float32, Float64} {
		w := Normal(rng, dt, 0, 1, 7, 5)
		b := Normal(rng, dt, 0, 1, 7)
		for _, x := range []*Tensor{
			Normal(rng, dt, 0, 1, 4, 5),
			Normal(rng, dt, 0, 1, 2, 3, 5),
			Normal(rng, dt, 0, 1, 5, 6).T(),
			New(dt, 0, 5),
		} {
			want := Add(MatMul(x, w.T()), b)
			if got := Linear(x, w, b); !AllClose(got, want, 1e-5, 1e-5) {
				t.Errorf("%v x%v: Linear = %v, want %v", dt, x.Shape(), got, want)
			}
			if got := Linear(x, w, nil); !AllClose(got, MatMul(x, w.T()), 1e-5, 1e-5) {
				t.Errorf("%v x%v: Linear without bias differs from MatMul", dt, x.Shape())
			}
		}
	}
	err := Try(func() { Linear(New(Float32, 4, 3), New(Float32, 7, 5), nil) })
	if err == nil {
		t.Fatal("Linear with mismatched widths did not fail")
	}
	err = Try(func() { Linear(New(Float32, 4, 5), New(Float32, 7, 5), New(Float32, 6)) })
	if err == nil {
		t.Fatal("Linear with a wrong bias did not fail")
	}
}

// A linear layer with no input features gives its bias on every row
// (and zeros without one), as x·wᵀ + b does for an empty product.
func TestLinearWithoutInputs(t *testing.T) {
	for _, dt := range []DType{Float32, Float64} {
		b := FromFloat64([]float64{1, -2, 3}, 3).AsType(dt)
		y := Linear(New(dt, 2, 0), New(dt, 3, 0), b)
		if got := y.Values(); !slices.Equal(got, []float64{1, -2, 3, 1, -2, 3}) {
			t.Errorf("%v: with a bias %v", dt, got)
		}
		y = LinearReLU(New(dt, 2, 0), New(dt, 3, 0), nil)
		if got := y.Values(); !slices.Equal(got, []float64{0, 0, 0, 0, 0, 0}) {
			t.Errorf("%v: without %v", dt, got)
		}
	}
}
