package reftest

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

func TestRelErr(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		name      string
		got, want []float64
		e         float64
	}{
		{"equal", []float64{1, -2}, []float64{1, -2}, 0},
		{"scaled by max|want|", []float64{1, -2.5}, []float64{1, -2}, 0.25},
		{"zero reference uses the floor", []float64{1e-31}, []float64{0}, 0.1},
		{"empty", nil, nil, 0},
		{"got shorter", []float64{1}, []float64{1, 2}, inf},
		{"got longer", []float64{1, 2}, []float64{1}, inf},
		{"NaN in got", []float64{nan, 1}, []float64{1, 1}, inf},
		{"NaN in want", []float64{1, 1}, []float64{1, nan}, inf},
	} {
		if e := RelErr(c.got, c.want); e != c.e && !(math.Abs(e-c.e) <= 1e-12*c.e) {
			t.Errorf("%s: RelErr(%v, %v) = %v, want %v", c.name, c.got, c.want, e, c.e)
		}
	}
}

func TestDType(t *testing.T) {
	if DType("float64") != tensor.Float64 || DType("float32") != tensor.Float32 {
		t.Error("DType maps the names wrongly")
	}
	defer func() {
		if recover() == nil {
			t.Error("DType accepted an unknown name")
		}
	}()
	DType("float16")
}

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestChecker(t *testing.T) {
	r := &recorder{TB: t}
	k := Checker{Tol: map[string]float64{"float64": 1e-10, "float32": 1e-5}}
	k.Check(r, "a", "float64", "output", []float64{1 + 1e-12}, []float64{1})
	k.Check(r, "a", "float32", "output", []float64{1 + 1e-6}, []float64{1})
	if len(r.errs) != 0 {
		t.Fatalf("errors within tolerance: %v", r.errs)
	}
	k.Check(r, "b", "float64", "grad of x", []float64{1 + 1e-9}, []float64{1})
	k.Check(r, "c", "float32", "loss", []float64{math.NaN()}, []float64{1})
	k.Check(r, "d", "float16", "loss", []float64{1}, []float64{1.5}) // no tolerance
	want := []string{
		"b float64: grad of x: relative error 1e-09 > 1e-10",
		"c float32: loss: relative error +Inf > 1e-05",
		"d float16: loss: relative error 0.333 > 0",
	}
	if !slices.Equal(r.errs, want) {
		t.Errorf("errors\n%q\nwant\n%q", r.errs, want)
	}
	if k.worst["float64"] != RelErr([]float64{1 + 1e-9}, []float64{1}) || !math.IsInf(k.worst["float32"], 1) {
		t.Errorf("worst %v", k.worst)
	}
}
