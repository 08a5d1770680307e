package tensor

import (
	"fmt"
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

// LinearGrads gives the same bits as the products and sum it stands for,
// for both dtypes, on batched, transposed and empty inputs, one row (the
// matrix–vector path) and a transposed weight; only the gradients asked
// for are made; mismatched shapes fail.
func TestLinearGradsMatchExpressions(t *testing.T) {
	rng := NewRand(9)
	same := func(name string, got, want *Tensor) {
		t.Helper()
		if !equalShape(got.Shape(), want.Shape()) || !slices.Equal(got.Values(), want.Values()) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	for _, dt := range []DType{Float32, Float64} {
		for _, c := range []struct {
			x, g, w *Tensor
		}{
			{Normal(rng, dt, 0, 1, 64, 37), Normal(rng, dt, 0, 1, 64, 21), Normal(rng, dt, 0, 1, 21, 37)},
			{Normal(rng, dt, 0, 1, 1, 300), Normal(rng, dt, 0, 1, 1, 40), Normal(rng, dt, 0, 1, 40, 300)},
			{Normal(rng, dt, 0, 1, 3, 5, 8), Normal(rng, dt, 0, 1, 3, 5, 2), Normal(rng, dt, 0, 1, 2, 8)},
			{Normal(rng, dt, 0, 1, 8, 6).T(), Normal(rng, dt, 0, 1, 9, 6).T(), Normal(rng, dt, 0, 1, 8, 9).T()},
			{New(dt, 0, 4), New(dt, 0, 3), Normal(rng, dt, 0, 1, 3, 4)},
		} {
			out, in := c.w.Dim(0), c.w.Dim(1)
			g2 := Reshape(c.g, -1, out)
			gx, gw, gb := LinearGrads(c.g, c.x, c.w, true, true, true)
			name := dt.String() + " x" + fmtShape(c.x.Shape())
			same(name+" gx", gx, Reshape(MatMul(g2, c.w), c.x.Shape()...))
			same(name+" gw", gw, MatMul(g2.T(), Reshape(c.x, -1, in)))
			same(name+" gb", gb, Sum(g2, 0))
			if gx, gw, gb := LinearGrads(c.g, c.x, c.w, false, true, false); gx != nil || gb != nil || gw == nil {
				t.Errorf("%s: asked for gw only, got gx %v, gw %v, gb %v", name, gx != nil, gw != nil, gb != nil)
			}
		}
	}
	if Try(func() { LinearGrads(New(Float32, 4, 3), New(Float32, 4, 5), New(Float32, 2, 5), true, true, true) }) == nil {
		t.Error("LinearGrads with g wider than w's rows did not fail")
	}
	if Try(func() { LinearGrads(Scalar(Float32, 1), New(Float32, 5), New(Float32, 1, 5), true, true, true) }) == nil {
		t.Error("LinearGrads with a 0-d g did not fail")
	}
	if Try(func() { LinearGrads(New(Float32, 3, 2), New(Float32, 4, 5), New(Float32, 2, 5), true, true, true) }) == nil {
		t.Error("LinearGrads with fewer rows of g than of x did not fail")
	}
}

func fmtShape(s []int) string { return fmt.Sprint(s) }
