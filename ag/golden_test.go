package ag_test

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/internal/oplist"
	"github.com/nabla-go/nabla/internal/reftest"
	"github.com/nabla-go/nabla/tensor"
)

// The golden test compares every op's value and gradients with PyTorch's.
// The reference numbers are in ../testdata/golden/ops.json, written by
// ../testdata/golden/gen_golden.py (run it with /usr/bin/python3 from the
// repository root; the file's header records the torch version). Each case
// gives an op's inputs, its parameters, a random upstream gradient g, and
// torch's output y and gradients gᵀ·∂y/∂xᵢ, in float64 and in float32.
//
// Error measure, per compared tensor (the output, and each input's
// gradient):
//
//	err = max_i |got_i − want_i| / max(max_i |want_i|, 1e-30)
//
// that is, the worst absolute error relative to the tensor's largest
// reference entry (a relative error that does not blow up at entries near
// zero). It must be at most 1e-10 in float64 and 1e-5 in float32.
//
// No case sits at a kink (ReLU at 0, ties in Max, Clamp's bounds…) and
// Softplus inputs stay below torch's threshold, so no case depends on a
// convention that could legitimately differ from torch's.

const goldenPath = "../testdata/golden/ops.json"

var goldenTol = map[string]float64{"float64": 1e-10, "float32": 1e-5}

type goldenFile struct {
	Torch string       `json:"torch_version"`
	Seed  int64        `json:"seed"`
	Cases []goldenCase `json:"cases"`
}

type goldenCase struct {
	Name     string            `json:"name"`
	Op       string            `json:"op"`
	DType    string            `json:"dtype"`
	Attrs    goldenAttrs       `json:"attrs"`
	Inputs   []reftest.Tensor  `json:"inputs"`
	Upstream reftest.Tensor    `json:"upstream"`
	Output   reftest.Tensor    `json:"output"`
	Grads    []*reftest.Tensor `json:"grads"`
	KnownBug string            `json:"known_bug"` // a bug in nabla, reported until fixed
}

// goldenAttrs holds an op's parameters; a missing or malformed one panics
// (caught by runGolden and reported as the case's failure).
type goldenAttrs map[string]json.RawMessage

func (a goldenAttrs) get(key string, v any) {
	raw, ok := a[key]
	if !ok {
		panic(fmt.Sprintf("attrs: no %q", key))
	}
	if err := json.Unmarshal(raw, v); err != nil {
		panic(fmt.Sprintf("attrs: %q: %v", key, err))
	}
}

func (a goldenAttrs) int(key string) int       { var v int; a.get(key, &v); return v }
func (a goldenAttrs) ints(key string) []int    { var v []int; a.get(key, &v); return v }
func (a goldenAttrs) float(key string) float64 { var v float64; a.get(key, &v); return v }

// bound is a Clamp bound: null means open on that side (±Inf).
func (a goldenAttrs) bound(key string, open float64) float64 {
	var v *float64
	a.get(key, &v)
	if v == nil {
		return open
	}
	return *v
}

func (a goldenAttrs) tensor(key string, dt tensor.DType) *tensor.Tensor {
	var v reftest.Tensor
	a.get(key, &v)
	return v.Tensor(dt)
}

type goldenOp func(in []*ag.Node, a goldenAttrs, dt tensor.DType) *ag.Node

func unaryOp(f func(*ag.Node) *ag.Node) goldenOp {
	return func(in []*ag.Node, _ goldenAttrs, _ tensor.DType) *ag.Node { return f(in[0]) }
}

func binaryOp(f func(a, b *ag.Node) *ag.Node) goldenOp {
	return func(in []*ag.Node, _ goldenAttrs, _ tensor.DType) *ag.Node { return f(in[0], in[1]) }
}

func reduceOp(f func(*ag.Node, ...int) *ag.Node) goldenOp {
	return func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node { return f(in[0], a.ints("axes")...) }
}

// goldenOps builds each op named in ops.json from its inputs and attrs.
var goldenOps = map[string]goldenOp{
	"Add":     binaryOp(ag.Add),
	"Sub":     binaryOp(ag.Sub),
	"Mul":     binaryOp(ag.Mul),
	"Div":     binaryOp(ag.Div),
	"Pow":     binaryOp(ag.Pow),
	"Maximum": binaryOp(ag.Maximum),
	"Minimum": binaryOp(ag.Minimum),
	"MatMul":  binaryOp(ag.MatMul),
	"Linear": func(in []*ag.Node, _ goldenAttrs, _ tensor.DType) *ag.Node {
		if len(in) == 2 {
			return ag.Linear(in[0], in[1], nil)
		}
		return ag.Linear(in[0], in[1], in[2])
	},
	"LinearReLU": func(in []*ag.Node, _ goldenAttrs, _ tensor.DType) *ag.Node {
		if len(in) == 2 {
			return ag.LinearReLU(in[0], in[1], nil)
		}
		return ag.LinearReLU(in[0], in[1], in[2])
	},
	"Neg":      unaryOp(ag.Neg),
	"Exp":      unaryOp(ag.Exp),
	"Log":      unaryOp(ag.Log),
	"Sqrt":     unaryOp(ag.Sqrt),
	"Square":   unaryOp(ag.Square),
	"Abs":      unaryOp(ag.Abs),
	"ReLU":     unaryOp(ag.ReLU),
	"Sigmoid":  unaryOp(ag.Sigmoid),
	"Tanh":     unaryOp(ag.Tanh),
	"Erf":      unaryOp(ag.Erf),
	"GELU":     unaryOp(ag.GELU),
	"GELUTanh": unaryOp(ag.GELUTanh),
	"SiLU":     unaryOp(ag.SiLU),
	"Softplus": unaryOp(ag.Softplus),
	"T":        unaryOp(ag.T),
	"Sum":      reduceOp(ag.Sum),
	"SumKeep":  reduceOp(ag.SumKeep),
	"Mean":     reduceOp(ag.Mean),
	"MeanKeep": reduceOp(ag.MeanKeep),
	"Max":      reduceOp(ag.Max),
	"MaxKeep":  reduceOp(ag.MaxKeep),
	"Min":      reduceOp(ag.Min),
	"MinKeep":  reduceOp(ag.MinKeep),
	"Scale": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Scale(in[0], a.float("c"))
	},
	"AddScalar": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.AddScalar(in[0], a.float("c"))
	},
	"PowScalar": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.PowScalar(in[0], a.float("p"))
	},
	"LeakyReLU": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.LeakyReLU(in[0], a.float("slope"))
	},
	"ELU": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.ELU(in[0], a.float("alpha"))
	},
	"Clamp": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Clamp(in[0], a.bound("lo", math.Inf(-1)), a.bound("hi", math.Inf(1)))
	},
	"Where": func(in []*ag.Node, a goldenAttrs, dt tensor.DType) *ag.Node {
		return ag.Where(a.tensor("mask", dt), in[0], in[1])
	},
	"Reshape": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Reshape(in[0], a.ints("shape")...)
	},
	"Permute": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Permute(in[0], a.ints("perm")...)
	},
	"Transpose": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Transpose(in[0], a.int("a"), a.int("b"))
	},
	"BroadcastTo": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.BroadcastTo(in[0], a.ints("shape")...)
	},
	"SumTo": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.SumTo(in[0], a.ints("shape")...)
	},
	"Slice": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Slice(in[0], a.int("axis"), a.int("start"), a.int("end"))
	},
	"PadSlice": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.PadSlice(in[0], a.ints("shape"), a.int("axis"), a.int("start"))
	},
	"Concat": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Concat(a.int("axis"), in...)
	},
	"IndexSelect": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.IndexSelect(in[0], a.int("axis"), a.ints("idx"))
	},
	"IndexAdd": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.IndexAdd(in[0], a.ints("shape"), a.int("axis"), a.ints("idx"))
	},
	"Gather": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Gather(in[0], a.int("axis"), a.ints("idx"))
	},
	"Scatter": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Scatter(in[0], a.ints("shape"), a.int("axis"), a.ints("idx"))
	},
	"Softmax": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Softmax(in[0], a.int("axis"))
	},
	"LogSoftmax": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.LogSoftmax(in[0], a.int("axis"))
	},
	"SoftmaxCrossEntropy": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.SoftmaxCrossEntropy(in[0], a.ints("labels"))
	},
	"Log1p":      unaryOp(ag.Log1p),
	"Expm1":      unaryOp(ag.Expm1),
	"LogSigmoid": unaryOp(ag.LogSigmoid),
	"Sin":        unaryOp(ag.Sin),
	"Cos":        unaryOp(ag.Cos),
	"LogSumExp":  reduceOp(ag.LogSumExp),
	"Prod":       reduceOp(ag.Prod),
	"Variance": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Variance(in[0], a.int("correction"), a.ints("axes")...)
	},
	"Std": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Std(in[0], a.int("correction"), a.ints("axes")...)
	},
	"Norm": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Norm(in[0], a.bound("p", math.Inf(1)), a.ints("axes")...)
	},
	"Cumsum": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
		return ag.Cumsum(in[0], a.int("axis"))
	},
}

func loadGolden(t *testing.T) goldenFile {
	t.Helper()
	var f goldenFile
	reftest.Load(t, goldenPath, &f)
	if len(f.Cases) == 0 {
		t.Fatalf("%s: no cases", goldenPath)
	}
	return f
}

func TestGolden(t *testing.T) {
	f := loadGolden(t)
	t.Logf("%d cases from torch %s (seed %d)", len(f.Cases), f.Torch, f.Seed)
	worst := map[string]float64{}
	worstAt := map[string]string{}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			for what, e := range runGolden(t, c) {
				if e > worst[c.DType] {
					worst[c.DType], worstAt[c.DType] = e, c.Name+" "+what
				}
			}
			if c.KnownBug != "" {
				t.Errorf("%s (op %s): known bug: %s", c.Name, c.Op, c.KnownBug)
			}
		})
	}
	for _, dt := range []string{"float64", "float32"} {
		t.Logf("worst relative error in %s: %.3g (%s)", dt, worst[dt], worstAt[dt])
	}
}

// runGolden runs one case and reports every mismatch; it returns the error
// measure of each compared tensor.
func runGolden(t *testing.T, c goldenCase) (errs map[string]float64) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s (op %s): panic: %v", c.Name, c.Op, r)
		}
	}()
	build, ok := goldenOps[c.Op]
	if !ok {
		t.Fatalf("%s: op %q has no entry in goldenOps", c.Name, c.Op)
	}
	tol, ok := goldenTol[c.DType]
	if !ok {
		t.Fatalf("%s: unknown dtype %q", c.Name, c.DType)
	}
	dt := reftest.DType(c.DType)
	if len(c.Grads) != len(c.Inputs) {
		t.Fatalf("%s: %d grads for %d inputs", c.Name, len(c.Grads), len(c.Inputs))
	}
	in := make([]*ag.Node, len(c.Inputs))
	for i, x := range c.Inputs {
		in[i] = x.Node(dt)
	}
	y := build(in, c.Attrs, dt)
	errs = map[string]float64{}
	errs["output"] = compareGolden(t, c, "output", y.Value(), c.Output, tol)
	ag.Backward(y, ag.WithUpstream(c.Upstream.Tensor(dt)))
	for i, x := range in {
		want := c.Grads[i]
		what := fmt.Sprintf("grad of input %d", i)
		switch {
		case want == nil && c.Inputs[i].Grad:
			t.Errorf("%s: input %d needs a gradient but the file has none", c.Name, i)
		case want == nil:
			if x.Grad() != nil {
				t.Errorf("%s (op %s): constant input %d got a gradient", c.Name, c.Op, i)
			}
		case x.Grad() == nil:
			t.Errorf("%s (op %s): %s: none computed", c.Name, c.Op, what)
		default:
			errs[what] = compareGolden(t, c, what, x.Grad(), *want, tol)
		}
	}
	return errs
}

// compareGolden checks got against want (see the error measure at the top
// of the file) and returns the measure.
func compareGolden(t *testing.T, c goldenCase, what string, got *tensor.Tensor, want reftest.Tensor, tol float64) float64 {
	t.Helper()
	if !tensor.EqualShape(got.Shape(), want.Shape) {
		t.Errorf("%s (op %s): %s: shape %v, want %v", c.Name, c.Op, what, got.Shape(), want.Shape)
		return math.Inf(1)
	}
	g := got.Values()
	scale, worst, at := 0.0, 0.0, 0
	for i, w := range want.Data {
		scale = max(scale, math.Abs(w))
		if d := math.Abs(g[i] - w); d > worst || math.IsNaN(d) {
			worst, at = d, i
			if math.IsNaN(d) {
				worst = math.Inf(1)
			}
		}
	}
	e := worst / max(scale, 1e-30)
	if e > tol {
		t.Errorf("%s (op %s): %s: relative error %.3g > %.0g; worst at %v: got %.17g, want %.17g (max|want| %.3g)",
			c.Name, c.Op, what, e, tol, unravel(at, want.Shape), g[at], want.Data[at], scale)
	}
	return e
}

func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = i % shape[d]
		i /= shape[d]
	}
	return idx
}

// TestGoldenCoversEveryOp fails when a differentiable op of package ag
// (oplist.Ops) has no golden case in either dtype, when the file has cases
// for a name that is not one, when an exported function of ag returning a
// *Node is neither an op nor in oplist.NotOps, or when oplist.NotOps names
// a function that no longer exists.
func TestGoldenCoversEveryOp(t *testing.T) {
	f := loadGolden(t)
	have := map[string]map[string]bool{}
	for _, c := range f.Cases {
		if have[c.Op] == nil {
			have[c.Op] = map[string]bool{}
		}
		have[c.Op][c.DType] = true
	}
	ops, err := oplist.Ops(".")
	if err != nil {
		t.Fatal(err)
	}
	all, err := oplist.NodeFuncs(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) == 0 {
		t.Fatal("found no op in package ag")
	}
	notOps := oplist.NotOps()
	for _, name := range ops {
		for _, dt := range []string{"float64", "float32"} {
			if !have[name][dt] {
				t.Errorf("ag.%s has no %s case in %s (add one to gen_golden.py)", name, dt, goldenPath)
			}
		}
	}
	for _, name := range all {
		if !slices.Contains(ops, name) && !slices.Contains(notOps, name) {
			t.Errorf("ag.%s returns a *Node but takes none, so oplist.Ops skips it: if it is not an op, add it to oplist's notOps", name)
		}
	}
	for _, name := range notOps {
		if !slices.Contains(all, name) {
			t.Errorf("oplist.NotOps lists %s, which is not an exported function of ag returning *Node", name)
		}
	}
	for op := range have {
		if !slices.Contains(ops, op) {
			t.Errorf("%s has cases for %s, which is not an exported op of ag", goldenPath, op)
		}
	}
}
