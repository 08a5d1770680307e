package gradcheck

import (
	"slices"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/internal/oplist"
	"github.com/nabla-go/nabla/tensor"
)

func TestEveryOpFloat64(t *testing.T) {
	for _, r := range RunTable(tensor.Float64, 1) {
		if r.Err != nil || !r.Result.Pass {
			t.Errorf("%s (%s) float64: %v %v", r.Op, r.Name, r.Result, r.Err)
		}
	}
}

func TestEveryOpFloat32(t *testing.T) {
	for _, r := range RunTable(tensor.Float32, 2) {
		if r.Err != nil || !r.Result.Pass {
			t.Errorf("%s (%s) float32: %v %v", r.Op, r.Name, r.Result, r.Err)
		}
	}
}

// TestTableCoversEveryOp fails when ag gains an op without a case here.
func TestTableCoversEveryOp(t *testing.T) {
	ops, err := oplist.Ops("../ag")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, c := range Cases() {
		have[c.Op] = true
	}
	for _, op := range ops {
		if !have[op] {
			t.Errorf("ag.%s has no gradient-check case in Cases()", op)
		}
	}
	for op := range have {
		if !slices.Contains(ops, op) {
			t.Errorf("case names %q, which is not an exported ag op", op)
		}
	}
}

// A wrong gradient must be caught: an op whose VJP forgets a factor of 2.
func TestCheckCatchesWrongGradient(t *testing.T) {
	bad := func(x *ag.Node) *ag.Node {
		return ag.Apply("BadSquare", tensor.Square(x.Value()), func(g *ag.Node, in []*ag.Node, _ *ag.Node, _ []bool) []*ag.Node {
			return []*ag.Node{ag.Mul(g, in[0])} // should be 2·g·x
		}, x)
	}
	rng := tensor.NewRand(3)
	res, err := Check(func(in []*ag.Node) *ag.Node { return bad(in[0]) }, []*tensor.Tensor{tensor.Normal(rng, tensor.Float64, 0, 1, 5)}, rng, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pass || res.MaxRelErr < 0.4 {
		t.Fatalf("a gradient off by a factor of 2 passed: %v", res)
	}
}

// A transposition bug hides behind an all-ones upstream gradient on a
// square matrix; the random upstream must expose it.
func TestCheckCatchesTransposedGradient(t *testing.T) {
	wrong := func(x *ag.Node) *ag.Node {
		return ag.Apply("BadIdentity", x.Value(), func(g *ag.Node, _ []*ag.Node, _ *ag.Node, _ []bool) []*ag.Node {
			return []*ag.Node{ag.T(g)}
		}, x)
	}
	rng := tensor.NewRand(4)
	res, err := Check(func(in []*ag.Node) *ag.Node { return wrong(in[0]) }, []*tensor.Tensor{tensor.Normal(rng, tensor.Float64, 0, 1, 3, 3)}, rng, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pass {
		t.Fatalf("a transposed gradient passed: %v", res)
	}
}
