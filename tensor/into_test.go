package tensor

import (
	"slices"
	"testing"
)

// Each Into form gives the bits of its allocating form, in place too, and
// allocates nothing for a batch-1-sized input.
func TestIntoFormsMatch(t *testing.T) {
	rng := NewRand(3)
	for _, dt := range []DType{Float32, Float64} {
		x := Normal(rng, dt, 0, 2, 7, 13)
		for _, c := range []struct {
			name  string
			alloc func(*Tensor) *Tensor
			into  func(dst, x *Tensor) *Tensor
		}{
			{"ReLU", ReLU, ReLUInto},
			{"LeakyReLU", func(x *Tensor) *Tensor { return LeakyReLU(x, 0.1) }, func(d, x *Tensor) *Tensor { return LeakyReLUInto(d, x, 0.1) }},
			{"ELU", func(x *Tensor) *Tensor { return ELU(x, 0.5) }, func(d, x *Tensor) *Tensor { return ELUInto(d, x, 0.5) }},
			{"Sigmoid", Sigmoid, SigmoidInto},
			{"Tanh", Tanh, TanhInto},
			{"GELU", GELU, GELUInto},
			{"GELUTanh", GELUTanh, GELUTanhInto},
			{"SiLU", SiLU, SiLUInto},
			{"Softplus", Softplus, SoftplusInto},
		} {
			want := c.alloc(x).Values()
			dst := New(dt, 7, 13)
			if got := c.into(dst, x); got != dst || !slices.Equal(dst.Values(), want) {
				t.Errorf("%v %s: Into differs from the allocating form", dt, c.name)
			}
			in := x.Clone()
			if c.into(in, in); !slices.Equal(in.Values(), want) {
				t.Errorf("%v %s: in place differs", dt, c.name)
			}
			if n := testing.AllocsPerRun(20, func() { c.into(dst, x) }); n != 0 {
				t.Errorf("%v %s: %v allocations", dt, c.name, n)
			}
			if Try(func() { c.into(New(dt, 13, 7), x) }) == nil {
				t.Errorf("%v %s: a dst of the wrong shape did not fail", dt, c.name)
			}
		}
		// LinearInto: the bits of Linear and LinearReLU, with and without a
		// bias, on batch 1 (the matrix–vector path) and a batch, and 3-D x.
		w, b := Normal(rng, dt, 0, 1, 9, 13), Normal(rng, dt, 0, 1, 9)
		for _, xs := range [][]int{{1, 13}, {40, 13}, {2, 3, 13}, {13}} {
			x := Normal(rng, dt, 0, 1, xs...)
			for _, bias := range []*Tensor{b, nil} {
				for _, relu := range []bool{false, true} {
					want := linear(x, w, bias, relu)
					dst := New(dt, want.Shape()...)
					if LinearInto(dst, x, w, bias, relu); !slices.Equal(dst.Values(), want.Values()) {
						t.Errorf("%v x%v relu %v: LinearInto differs from Linear", dt, xs, relu)
					}
					if n := testing.AllocsPerRun(20, func() { LinearInto(dst, x, w, bias, relu) }); n != 0 {
						t.Errorf("%v x%v: LinearInto made %v allocations", dt, xs, n)
					}
				}
			}
		}
		if Try(func() { LinearInto(New(dt, 4, 8), New(dt, 4, 13), w, b, false) }) == nil {
			t.Errorf("%v: LinearInto with a dst of the wrong width did not fail", dt)
		}
		sq := New(dt, 4, 13)
		if Try(func() { LinearInto(sq, sq, New(dt, 13, 13), nil, false) }) == nil {
			t.Errorf("%v: LinearInto with dst = x did not fail", dt)
		}
		if Try(func() { LinearInto(New(dt, 9, 4).T(), New(dt, 4, 13), w, b, false) }) == nil {
			t.Errorf("%v: LinearInto into a transposed view did not fail", dt)
		}
	}
}

// A dst that is a contiguous window of a larger buffer (a slice of rows)
// is written there only: not from the buffer's start, not past its end.
func TestIntoWindow(t *testing.T) {
	for _, dt := range []DType{Float32, Float64} {
		buf := Full(dt, 7, 4, 3)
		ReLUInto(Slice(buf, 0, 2, 4), Full(dt, -1, 2, 3))
		if got := buf.Values(); !slices.Equal(got, []float64{7, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0, 0}) {
			t.Errorf("%v: the last two rows: %v", dt, got)
		}
		buf = Full(dt, 7, 4, 3)
		TanhInto(Slice(buf, 0, 0, 2), Slice(Full(dt, 0, 4, 3), 0, 0, 2))
		if got := buf.Values(); !slices.Equal(got, []float64{0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 7, 7}) {
			t.Errorf("%v: the first two rows: %v", dt, got)
		}
		buf = Full(dt, 7, 4, 3)
		LinearInto(Slice(buf, 0, 1, 3), Ones(dt, 2, 5), Ones(dt, 3, 5), nil, false)
		if got := buf.Values(); !slices.Equal(got, []float64{7, 7, 7, 5, 5, 5, 5, 5, 5, 7, 7, 7}) {
			t.Errorf("%v: LinearInto into the middle rows: %v", dt, got)
		}
	}
}

func TestReshapeInto(t *testing.T) {
	x := Arange(Float32, 0, 1, 12)
	dst := New(Float32, 3, 4)
	if n := testing.AllocsPerRun(20, func() { ReshapeInto(dst, x) }); n != 0 {
		t.Fatalf("ReshapeInto: %v allocations", n)
	}
	if !slices.Equal(dst.Values(), x.Values()) || dst.At(2, 3) != 11 {
		t.Fatalf("ReshapeInto: %v", dst)
	}
	x.Float32s()[5] = 100
	if dst.At(1, 1) != 100 {
		t.Fatal("ReshapeInto copied instead of viewing")
	}
	for name, f := range map[string]func(){
		"size":       func() { ReshapeInto(New(Float32, 5), x) },
		"dtype":      func() { ReshapeInto(New(Float64, 12), x) },
		"contiguous": func() { ReshapeInto(New(Float32, 12), New(Float32, 3, 4).T()) },
	} {
		if Try(f) == nil {
			t.Errorf("ReshapeInto with a bad %s did not fail", name)
		}
	}
}
