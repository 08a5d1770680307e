package oplist

import (
	"slices"
	"testing"
)

func TestOpsFindsAgOps(t *testing.T) {
	ops, err := Ops("../../ag")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Add", "MatMul", "ReLU", "SoftmaxCrossEntropy", "Concat", "SumKeep"} {
		if !slices.Contains(ops, want) {
			t.Errorf("Ops missed %s; got %v", want, ops)
		}
	}
	for _, not := range []string{"Var", "Const", "Apply", "Grad", "Backward", "Jacobian"} {
		if slices.Contains(ops, not) {
			t.Errorf("Ops listed %s, which is not an op", not)
		}
	}
}
