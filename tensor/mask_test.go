package tensor

import (
	"math"
	"testing"
)

func TestMaskPositiveAndStepEdgeCases(t *testing.T) {
	xs := []float64{-2, -1e-45, math.Copysign(0, -1), 0, 1e-45, 1e-300, 3, math.Inf(1), math.Inf(-1), math.NaN(), -math.NaN()}
	for _, dt := range []DType{Float32, Float64} {
		x := FromValues(dt, xs)
		g := Full(dt, 7, len(xs))
		m, s := MaskPositive(g, x).Values(), Step(x).Values()
		for i, v := range xs {
			// The float32 value of v decides: 1e-300 rounds to 0 in float32.
			xv := x.At(i)
			want := 0.0
			if xv > 0 {
				want = 1
			}
			if s[i] != want || m[i] != 7*want {
				t.Errorf("%v x=%v (stored %v): Step %v MaskPositive %v, want %v and %v", dt, v, xv, s[i], m[i], want, 7*want)
			}
		}
	}
	relu := ReLU(FromValues(Float32, []float64{math.NaN(), -1, 2, math.Copysign(0, -1)})).Values()
	if !math.IsNaN(relu[0]) || relu[1] != 0 || relu[2] != 2 || relu[3] != 0 || math.Signbit(relu[3]) {
		t.Errorf("ReLU edge cases: %v", relu)
	}
}
