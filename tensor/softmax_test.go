package tensor

import (
	"math"
	"testing"
)

// The fused cross-entropy and its derivative agree with the composed ops,
// stay finite for logits of ±1000, and reject bad labels by name.
func TestSoftmaxCrossEntropyFused(t *testing.T) {
	rng := NewRand(4)
	for _, dt := range []DType{Float32, Float64} {
		x := Normal(rng, dt, 0, 3, 5, 7)
		labels := []int{0, 6, 3, 3, 1}
		lsm := Sub(x, Log(SumKeep(Exp(Sub(x, MaxKeep(x, 1))), 1)))
		lsm = Sub(lsm, MaxKeep(x, 1))
		want := -Sum(Gather(lsm, 1, labels)).Item() / 5
		if got := SoftmaxCrossEntropy(x, labels).Item(); math.Abs(got-want) > 1e-5*math.Abs(want) {
			t.Errorf("%v: loss %v, composed %v", dt, got, want)
		}
		sm := Exp(Sub(x, Log(SumKeep(Exp(x), 1))))
		onehot := Scatter(Ones(dt, 5), []int{5, 7}, 1, labels)
		wantG := Scale(Sub(sm, onehot), 0.3)
		if got := SoftmaxMinusOneHot(x, labels, 0.3); !AllClose(got, wantG, 1e-5, 1e-6) {
			t.Errorf("%v: SoftmaxMinusOneHot = %v, want %v", dt, got, wantG)
		}
	}
	// Row 0: loss 1000 − (−1000); row 1: 1000 + log(1 + e⁻¹) − 999.
	big := FromFloat64([]float64{1000, -1000, 0, -1000, 1000, 999}, 2, 3)
	l := SoftmaxCrossEntropy(big, []int{1, 2}).Item()
	if math.IsNaN(l) || math.IsInf(l, 0) || math.Abs(l-(2000+1+math.Log1p(math.Exp(-1)))/2) > 1e-9 {
		t.Errorf("loss of large logits = %v", l)
	}
	for _, v := range SoftmaxMinusOneHot(big, []int{1, 2}, 1).Values() {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("gradient of large logits is not finite: %v", v)
		}
	}
	if err := Try(func() { SoftmaxCrossEntropy(big, []int{1, 3}) }); err == nil {
		t.Error("label 3 of 3 classes accepted")
	}
}
