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

// Every name NotOps excludes must still be an exported function of ag
// returning a *Node, and Ops must leave it out.
func TestNotOpsAreAgNodeFuncs(t *testing.T) {
	ops, err := Ops("../../ag")
	if err != nil {
		t.Fatal(err)
	}
	all, err := NodeFuncs("../../ag")
	if err != nil {
		t.Fatal(err)
	}
	not := NotOps()
	if !slices.IsSorted(not) || !slices.Equal(not, []string{"Apply", "Const", "Detach", "Scalar", "Untracked", "Var"}) {
		t.Errorf("NotOps() = %v", not)
	}
	for _, name := range not {
		if !slices.Contains(all, name) {
			t.Errorf("NotOps lists %s, which is not an exported function of ag returning *Node", name)
		}
		if slices.Contains(ops, name) {
			t.Errorf("Ops listed %s, which NotOps excludes", name)
		}
	}
	for _, op := range ops {
		if !slices.Contains(all, op) {
			t.Errorf("Ops listed %s, which NodeFuncs did not", op)
		}
	}
}
