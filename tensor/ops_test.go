package tensor_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// bcastAt reads x at the index idx of a broadcast result: x's dimensions
// are aligned with idx's trailing ones and its size-1 dimensions read 0.
func bcastAt(x *tensor.Tensor, idx []int) float64 {
	s := x.Shape()
	sub := make([]int, len(s))
	k := len(idx) - len(s)
	for i := range s {
		if s[i] != 1 {
			sub[i] = idx[k+i]
		}
	}
	return x.At(sub...)
}

func TestBroadcastShapes(t *testing.T) {
	for _, tc := range []struct {
		in   [][]int
		want []int
	}{
		{[][]int{{}, {}}, []int{}},
		{[][]int{{}, {3, 4}}, []int{3, 4}},
		{[][]int{{4}, {3, 4}}, []int{3, 4}},
		{[][]int{{3, 1}, {1, 4}}, []int{3, 4}},
		{[][]int{{2, 1, 4}, {3, 1}}, []int{2, 3, 4}},
		{[][]int{{5, 1, 1}, {1, 6, 1}, {1, 7}}, []int{5, 6, 7}},
		{[][]int{{0, 1}, {1, 4}}, []int{0, 4}},
		{[][]int{{1}, {0}}, []int{0}},
		{[][]int{{2, 3}}, []int{2, 3}},
	} {
		if got := tensor.BroadcastShapes("Op", tc.in...); !slices.Equal(got, tc.want) {
			t.Errorf("BroadcastShapes(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, in := range [][][]int{{{3}, {4}}, {{2, 3}, {3, 2}}, {{0}, {2}}, {{2, 1}, {1, 3}, {3, 3}}} {
		mustShapeError(t, "MyOp", func() { tensor.BroadcastShapes("MyOp", in...) }, in...)
	}
}

type binCase struct {
	name string
	f    func(a, b *tensor.Tensor) *tensor.Tensor
	ref  func(x, y float64) float64
}

func b2f(c bool) float64 {
	if c {
		return 1
	}
	return 0
}

var binCases = []binCase{
	{"Add", tensor.Add, func(x, y float64) float64 { return x + y }},
	{"Sub", tensor.Sub, func(x, y float64) float64 { return x - y }},
	{"Mul", tensor.Mul, func(x, y float64) float64 { return x * y }},
	{"Div", tensor.Div, func(x, y float64) float64 { return x / y }},
	{"Pow", tensor.Pow, math.Pow},
	{"Maximum", tensor.Maximum, func(x, y float64) float64 {
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.NaN()
		}
		return math.Max(x, y)
	}},
	{"Minimum", tensor.Minimum, func(x, y float64) float64 {
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.NaN()
		}
		return math.Min(x, y)
	}},
	{"Greater", tensor.Greater, func(x, y float64) float64 { return b2f(x > y) }},
	{"GreaterEqual", tensor.GreaterEqual, func(x, y float64) float64 { return b2f(x >= y) }},
	{"Less", tensor.Less, func(x, y float64) float64 { return b2f(x < y) }},
	{"LessEqual", tensor.LessEqual, func(x, y float64) float64 { return b2f(x <= y) }},
	{"Equal", tensor.Equal, func(x, y float64) float64 { return b2f(x == y) }},
}

// refBinary computes f over the broadcast of a and b with At, rounding each
// result to the dtype. For + − × ÷ on float32 operands the float64 result
// rounded to float32 is exactly the float32 result, so comparisons can be
// exact.
func refBinary(f func(x, y float64) float64, a, b *tensor.Tensor) ([]int, []float64) {
	shape := tensor.BroadcastShapes("ref", a.Shape(), b.Shape())
	var out []float64
	eachIndex(shape, func(idx []int) {
		out = append(out, round(a.DType(), f(bcastAt(a, idx), bcastAt(b, idx))))
	})
	return shape, out
}

// smallInts fills a tensor with integers in [-3, 3] so that comparisons
// see ties and Pow sees integer exponents.
func smallInts(seed uint64, dt tensor.DType, shape ...int) *tensor.Tensor {
	x := tensor.Uniform(tensor.NewRand(seed), dt, -3, 4, shape...)
	y := tensor.New(dt, shape...)
	eachIndex(shape, func(idx []int) { y.Set(math.Floor(x.At(idx...)), idx...) })
	return y
}

func TestBinaryBroadcasting(t *testing.T) {
	patterns := []struct{ a, b []int }{
		{[]int{}, []int{3, 4}},           // scalar left
		{[]int{3, 4}, []int{}},           // scalar right
		{[]int{3, 4}, []int{4}},          // row
		{[]int{3, 1}, []int{3, 4}},       // column
		{[]int{3, 1}, []int{1, 4}},       // outer
		{[]int{2, 1, 4}, []int{3, 1}},    // 3-D with size-1 dims
		{[]int{2, 3, 4}, []int{2, 3, 4}}, // same shape
		{[]int{1}, []int{5}},
		{[]int{2, 1, 3, 1}, []int{4, 1, 5}},
		{[]int{0, 4}, []int{1, 4}}, // empty
		{[]int{3, 0}, []int{}},
		{[]int{}, []int{}},
	}
	for _, dt := range dtypes {
		for pi, p := range patterns {
			for _, vals := range []string{"uniform", "ints"} {
				var a, b *tensor.Tensor
				if vals == "uniform" {
					a, b = randT(uint64(10+pi), dt, p.a...), randT(uint64(50+pi), dt, p.b...)
				} else {
					a, b = smallInts(uint64(10+pi), dt, p.a...), smallInts(uint64(50+pi), dt, p.b...)
				}
				for _, la := range layouts(a) {
					for _, lb := range layouts(b) {
						for _, bc := range binCases {
							what := fmt.Sprintf("%s %v %v(%s)·%v(%s) %s", bc.name, dt, p.a, la.name, p.b, lb.name, vals)
							got := bc.f(la.t, lb.t)
							shape, want := refBinary(bc.ref, a, b)
							checkShape(t, what, got, shape)
							if got.DType() != dt || !got.IsContiguous() {
								t.Fatalf("%s: dtype %v, contiguous %v", what, got.DType(), got.IsContiguous())
							}
							checkExact(t, what, got, want)
						}
					}
				}
			}
		}
	}
}

// TestBinaryBroadcastViews uses operands that are themselves BroadcastTo
// views (stride 0) and transposed slices.
func TestBinaryBroadcastViews(t *testing.T) {
	for _, dt := range dtypes {
		row := randT(3, dt, 1, 5)
		col := randT(4, dt, 4, 1)
		big := randT(5, dt, 6, 7)
		rb := tensor.BroadcastTo(row, 4, 5)                         // stride 0 rows
		cb := tensor.BroadcastTo(col, 2, 4, 5)                      // stride 0 in two dims
		ts := tensor.Slice(tensor.Slice(big, 0, 1, 6), 1, 2, 6).T() // [4, 5] transposed slice
		for _, bc := range binCases {
			for _, pair := range [][2]*tensor.Tensor{{rb, cb}, {cb, rb}, {ts, rb}, {cb, ts}, {ts, ts}, {rb, col}} {
				got := bc.f(pair[0], pair[1])
				shape, want := refBinary(bc.ref, pair[0], pair[1])
				what := fmt.Sprintf("%s %v %v·%v", bc.name, dt, pair[0].Shape(), pair[1].Shape())
				checkShape(t, what, got, shape)
				checkExact(t, what, got, want)
			}
		}
	}
}

func TestBinaryErrors(t *testing.T) {
	for _, bc := range binCases {
		a, b := tensor.New(tensor.Float32, 2, 3), tensor.New(tensor.Float32, 2, 4)
		mustShapeError(t, bc.name, func() { bc.f(a, b) }, []int{2, 3}, []int{2, 4})
		mustDTypeError(t, bc.name, func() { bc.f(a, tensor.New(tensor.Float64, 2, 3)) })
	}
}

func TestNaNPropagation(t *testing.T) {
	nan := math.NaN()
	for _, dt := range dtypes {
		x := tensor.FromValues(dt, []float64{nan, 1, -1, nan, 0})
		y := tensor.FromValues(dt, []float64{1, nan, nan, nan, 0})
		checkExact(t, "Maximum", tensor.Maximum(x, y), []float64{nan, nan, nan, nan, 0})
		checkExact(t, "Minimum", tensor.Minimum(x, y), []float64{nan, nan, nan, nan, 0})
		checkExact(t, "ReLU", tensor.ReLU(x), []float64{nan, 1, 0, nan, 0})
		checkExact(t, "Greater", tensor.Greater(x, y), []float64{0, 0, 0, 0, 0})
		checkExact(t, "Equal", tensor.Equal(x, x), []float64{0, 1, 1, 0, 1})
		checkExact(t, "Sign", tensor.Sign(x), []float64{nan, 1, -1, nan, 0})
		checkExact(t, "Clamp", tensor.Clamp(x, -0.5, 0.5), []float64{nan, 0.5, -0.5, nan, 0})
		// Max and Min reductions: NaN anywhere in a row wins, whether it
		// comes first, last, or in the middle, along both kinds of axis.
		m := tensor.FromValues(dt, []float64{
			nan, 1, 2,
			3, nan, 4,
			5, 6, nan,
			7, 8, 9,
		}, 4, 3)
		checkExact(t, "Max axis 1", tensor.Max(m, 1), []float64{nan, nan, nan, 9})
		checkExact(t, "Min axis 1", tensor.Min(m, 1), []float64{nan, nan, nan, 7})
		checkExact(t, "Max axis 0", tensor.Max(m, 0), []float64{nan, nan, nan})
		checkExact(t, "Max all", tensor.Max(m), []float64{nan})
		ok := tensor.Slice(m, 0, 3, 4)
		checkExact(t, "Max clean row", tensor.Max(ok), []float64{9})
	}
}

func TestWhere(t *testing.T) {
	for _, dt := range dtypes {
		for _, p := range []struct{ c, a, b []int }{
			{[]int{3, 4}, []int{3, 4}, []int{3, 4}},
			{[]int{3, 1}, []int{1, 4}, []int{}},
			{[]int{4}, []int{2, 3, 1}, []int{3, 4}},
			{[]int{}, []int{2, 2}, []int{2}},
			{[]int{2, 1, 4}, []int{3, 1}, []int{1, 1, 1}},
			{[]int{0, 4}, []int{4}, []int{1}},
		} {
			cond := tensor.Greater(randT(1, dt, p.c...), tensor.Scalar(dt, 0))
			a, b := randT(2, dt, p.a...), randT(3, dt, p.b...)
			shape := tensor.BroadcastShapes("ref", p.c, p.a, p.b)
			var want []float64
			eachIndex(shape, func(idx []int) {
				if bcastAt(cond, idx) != 0 {
					want = append(want, bcastAt(a, idx))
				} else {
					want = append(want, bcastAt(b, idx))
				}
			})
			for _, lc := range layouts(cond) {
				for _, la := range layouts(a) {
					got := tensor.Where(lc.t, la.t, b)
					what := fmt.Sprintf("Where %v %v(%s) %v(%s) %v", dt, p.c, lc.name, p.a, la.name, p.b)
					checkShape(t, what, got, shape)
					checkExact(t, what, got, want)
				}
			}
		}
		mustShapeError(t, "Where", func() {
			tensor.Where(tensor.New(dt, 3), tensor.New(dt, 2, 3), tensor.New(dt, 4))
		}, []int{3}, []int{2, 3}, []int{4})
	}
	mustDTypeError(t, "Where", func() {
		tensor.Where(tensor.New(tensor.Float32, 2), tensor.New(tensor.Float32, 2), tensor.New(tensor.Float64, 2))
	})
	// The condition may have the other dtype.
	for _, dt := range dtypes {
		other := tensor.Float64
		if dt == tensor.Float64 {
			other = tensor.Float32
		}
		c := tensor.FromValues(other, []float64{1, 0, 0.5}, 3, 1)
		got := tensor.Where(c, tensor.Full(dt, 2, 1, 2), tensor.Full(dt, -2, 2))
		if got.DType() != dt {
			t.Errorf("Where with a %v condition: dtype %v, want %v", other, got.DType(), dt)
		}
		checkExact(t, "Where mixed-dtype condition", got, []float64{2, 2, -2, -2, 2, 2})
	}
	// Any non-zero condition counts as true, NaN included.
	c := tensor.FromValues(tensor.Float64, []float64{0, -2, math.NaN(), 0.5})
	got := tensor.Where(c, tensor.Ones(tensor.Float64, 4), tensor.Zeros(tensor.Float64, 4))
	checkExact(t, "Where non-zero", got, []float64{0, 1, 1, 1})
}

type unaryCase struct {
	name   string
	f      func(*tensor.Tensor) *tensor.Tensor
	ref    func(float64) float64
	lo, hi float64 // input range
}

// Reference formulas are the textbook definitions, written independently
// of unary.go's (which, for stability, use other forms).
var unaryCases = []unaryCase{
	{"Neg", tensor.Neg, func(x float64) float64 { return -x }, -3, 3},
	{"Exp", tensor.Exp, math.Exp, -10, 10},
	{"Log", tensor.Log, math.Log, 1e-3, 100},
	{"Sqrt", tensor.Sqrt, math.Sqrt, 0, 100},
	{"Abs", tensor.Abs, math.Abs, -3, 3},
	{"Sign", tensor.Sign, func(x float64) float64 { return b2f(x > 0) - b2f(x < 0) }, -3, 3},
	{"Square", tensor.Square, func(x float64) float64 { return x * x }, -30, 30},
	{"Reciprocal", tensor.Reciprocal, func(x float64) float64 { return 1 / x }, 0.01, 10},
	{"Tanh", tensor.Tanh, func(x float64) float64 { return (math.Exp(2*x) - 1) / (math.Exp(2*x) + 1) }, -5, 5},
	{"Sigmoid", tensor.Sigmoid, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, -30, 30},
	{"Erf", tensor.Erf, math.Erf, -3, 3},
	{"ReLU", tensor.ReLU, func(x float64) float64 { return math.Max(x, 0) }, -3, 3},
	{"Step", tensor.Step, func(x float64) float64 { return b2f(x > 0) }, -3, 3},
	{"Softplus", tensor.Softplus, func(x float64) float64 { return math.Log1p(math.Exp(x)) }, -30, 30},
	{"SiLU", tensor.SiLU, func(x float64) float64 { return x / (1 + math.Exp(-x)) }, -30, 30},
	{"GELU", tensor.GELU, func(x float64) float64 { return x * 0.5 * math.Erfc(-x/math.Sqrt(2)) }, -6, 6},
	{"GELUTanh", tensor.GELUTanh, func(x float64) float64 {
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}, -6, 6},
	{"LeakyReLU", func(x *tensor.Tensor) *tensor.Tensor { return tensor.LeakyReLU(x, 0.1) }, func(x float64) float64 {
		if x > 0 {
			return x
		}
		return 0.1 * x
	}, -3, 3},
	{"ELU", func(x *tensor.Tensor) *tensor.Tensor { return tensor.ELU(x, 1.5) }, func(x float64) float64 {
		if x > 0 {
			return x
		}
		return 1.5 * (math.Exp(x) - 1)
	}, -5, 3},
	{"Scale", func(x *tensor.Tensor) *tensor.Tensor { return tensor.Scale(x, -2.5) }, func(x float64) float64 { return -2.5 * x }, -3, 3},
	{"AddScalar", func(x *tensor.Tensor) *tensor.Tensor { return tensor.AddScalar(x, 0.75) }, func(x float64) float64 { return x + 0.75 }, -3, 3},
	{"PowScalar3", func(x *tensor.Tensor) *tensor.Tensor { return tensor.PowScalar(x, 3) }, func(x float64) float64 { return x * x * x }, -3, 3},
	{"PowScalarHalf", func(x *tensor.Tensor) *tensor.Tensor { return tensor.PowScalar(x, 0.5) }, math.Sqrt, 0, 9},
}

// ulps is the distance between two float32 values in units in the last place.
func ulps(a, b float32) int64 {
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if ia < 0x80000000 != (ib < 0x80000000) { // opposite signs: via zero
		return int64(math.Float32bits(a)&0x7fffffff) + int64(math.Float32bits(b)&0x7fffffff)
	}
	if ia > ib {
		return ia - ib
	}
	return ib - ia
}

func TestUnaryAgainstMath(t *testing.T) {
	for i, uc := range unaryCases {
		x64 := tensor.Uniform(tensor.NewRand(uint64(100+i)), tensor.Float64, uc.lo, uc.hi, 7, 9)
		if uc.lo <= 0 && uc.hi >= 0 {
			x64.Set(0, 0, 0)
		}
		x32 := x64.AsType(tensor.Float32)
		for _, l := range layouts(x64) {
			got := uc.f(l.t)
			checkShape(t, uc.name, got, []int{7, 9})
			g, in := valuesAt(got), valuesAt(x64)
			for j := range g {
				want := uc.ref(in[j])
				if !(math.Abs(g[j]-want) <= 1e-12*math.Max(1, math.Abs(want))) && !sameBits(g[j], want) {
					t.Fatalf("%s float64 (%s) at %v = %v, want %v", uc.name, l.name, in[j], g[j], want)
				}
			}
		}
		// float32: within one ulp of the float64 value rounded.
		for _, l := range layouts(x32) {
			got := uc.f(l.t)
			if got.DType() != tensor.Float32 {
				t.Fatalf("%s: dtype %v", uc.name, got.DType())
			}
			g, in := valuesAt(got), valuesAt(x32)
			for j := range g {
				want := float32(uc.ref(in[j]))
				if d := ulps(float32(g[j]), want); d > 1 {
					t.Fatalf("%s float32 (%s) at %v = %v, want %v (%d ulps)", uc.name, l.name, in[j], float32(g[j]), want, d)
				}
			}
		}
	}
}

func TestUnaryStableAtExtremes(t *testing.T) {
	in := []float64{-1000, -100, -89, 89, 100, 1000}
	for _, dt := range dtypes {
		x := tensor.FromValues(dt, in)
		for _, tc := range []struct {
			name string
			f    func(*tensor.Tensor) *tensor.Tensor
			want func(x float64) float64 // limits as |x| → ∞
		}{
			{"Sigmoid", tensor.Sigmoid, func(x float64) float64 { return b2f(x > 0) }},
			{"Softplus", tensor.Softplus, func(x float64) float64 { return math.Max(x, 0) }},
			{"SiLU", tensor.SiLU, func(x float64) float64 { return math.Max(x, 0) }},
			{"GELU", tensor.GELU, func(x float64) float64 { return math.Max(x, 0) }},
			{"Tanh", tensor.Tanh, func(x float64) float64 { return b2f(x > 0) - b2f(x < 0) }},
			{"ELU", func(x *tensor.Tensor) *tensor.Tensor { return tensor.ELU(x, 1) }, func(x float64) float64 { return math.Max(x, -1) }},
		} {
			got := valuesAt(tc.f(x))
			for i, v := range got {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("%s(%v) %v = %v", tc.name, in[i], dt, v)
					continue
				}
				if want := tc.want(in[i]); math.Abs(v-want) > 1e-6*math.Max(1, math.Abs(want)) {
					t.Errorf("%s(%v) %v = %v, want %v", tc.name, in[i], dt, v, want)
				}
			}
		}
	}
}

func TestClamp(t *testing.T) {
	in := []float64{-3, -1, -0.5, 0, 0.5, 1, 3}
	inf := math.Inf(1)
	for _, dt := range dtypes {
		x := tensor.FromValues(dt, in)
		for _, tc := range []struct{ lo, hi float64 }{{-1, 1}, {-inf, 0.5}, {-0.5, inf}, {-inf, inf}, {0, 0}} {
			got := tensor.Clamp(x, tc.lo, tc.hi)
			want := make([]float64, len(in))
			for i, v := range in {
				want[i] = math.Min(math.Max(v, tc.lo), tc.hi)
			}
			checkExact(t, fmt.Sprintf("Clamp(%v, %v) %v", tc.lo, tc.hi, dt), got, want)
			if tensor.SameBuffer(got, x) {
				t.Errorf("Clamp(%v, %v) returned its operand's buffer", tc.lo, tc.hi)
			}
		}
		// On a transposed view.
		m := tensor.FromValues(dt, []float64{-2, 0, 2, 4}, 2, 2).T()
		checkExact(t, "Clamp view", tensor.Clamp(m, 0, 3), []float64{0, 2, 0, 3})
	}
}

type redCase struct {
	name string
	f    func(x *tensor.Tensor, axes ...int) *tensor.Tensor
	keep bool
	init float64
	acc  func(acc, v float64) float64
	mean bool
}

func maxNaN(a, b float64) float64 {
	if a != a || b != b {
		return math.NaN()
	}
	return math.Max(a, b)
}

func minNaN(a, b float64) float64 {
	if a != a || b != b {
		return math.NaN()
	}
	return math.Min(a, b)
}

var redCases = []redCase{
	{"Sum", tensor.Sum, false, 0, func(a, v float64) float64 { return a + v }, false},
	{"SumKeep", tensor.SumKeep, true, 0, func(a, v float64) float64 { return a + v }, false},
	{"Mean", tensor.Mean, false, 0, func(a, v float64) float64 { return a + v }, true},
	{"MeanKeep", tensor.MeanKeep, true, 0, func(a, v float64) float64 { return a + v }, true},
	{"Max", tensor.Max, false, math.Inf(-1), maxNaN, false},
	{"MaxKeep", tensor.MaxKeep, true, math.Inf(-1), maxNaN, false},
	{"Min", tensor.Min, false, math.Inf(1), minNaN, false},
	{"MinKeep", tensor.MinKeep, true, math.Inf(1), minNaN, false},
}

// refReduce reduces x over axes (all when none) with nested loops in
// float64: each input index is mapped to its output index.
func refReduce(rc redCase, x *tensor.Tensor, axes []int) ([]int, []float64) {
	nd := x.Dims()
	red := make([]bool, nd)
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
	}
	for _, a := range axes {
		if a < 0 {
			a += nd
		}
		red[a] = true
	}
	var shape, keptDims []int
	count := 1
	for i, s := range x.Shape() {
		switch {
		case !red[i]:
			shape = append(shape, s)
			keptDims = append(keptDims, i)
		case rc.keep:
			shape = append(shape, 1)
			count *= s
		default:
			count *= s
		}
	}
	if rc.keep {
		keptDims = keptDims[:0]
		for i := range nd {
			keptDims = append(keptDims, i)
		}
	}
	out := make([]float64, numel(shape))
	for i := range out {
		out[i] = rc.init
	}
	oidx := make([]int, len(shape))
	eachIndex(x.Shape(), func(idx []int) {
		for j, d := range keptDims {
			if red[d] {
				oidx[j] = 0
			} else {
				oidx[j] = idx[d]
			}
		}
		flat := 0
		for j := range shape {
			flat = flat*shape[j] + oidx[j]
		}
		out[flat] = rc.acc(out[flat], x.At(idx...))
	})
	if rc.mean {
		for i := range out {
			out[i] /= float64(count)
		}
	}
	return shape, out
}

func TestReductions(t *testing.T) {
	axesCases := [][]int{nil, {0}, {3}, {-1}, {1}, {0, 1}, {1, 2}, {0, 2}, {1, 3}, {0, 3}, {2, 0}, {-3, -1}, {0, 1, 2, 3}, {0, 2, 3}}
	for _, dt := range dtypes {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		x := randT(20, dt, 2, 3, 4, 5)
		for _, l := range layouts(x) {
			for _, axes := range axesCases {
				for _, rc := range redCases {
					what := fmt.Sprintf("%s(%v, axes %v) %v", rc.name, l.name, axes, dt)
					got := rc.f(l.t, axes...)
					shape, want := refReduce(rc, x, axes)
					checkShape(t, what, got, shape)
					if got.DType() != dt {
						t.Fatalf("%s: dtype %v", what, got.DType())
					}
					checkClose(t, what, got, want, tol)
				}
			}
		}
		// Broadcast (stride 0) inputs.
		bx := tensor.BroadcastTo(randT(21, dt, 1, 4, 1), 3, 4, 5)
		for _, axes := range [][]int{nil, {0}, {1}, {2}, {0, 2}, {-1, 1}} {
			for _, rc := range redCases {
				shape, want := refReduce(rc, bx, axes)
				got := rc.f(bx, axes...)
				checkShape(t, rc.name+" broadcast", got, shape)
				checkClose(t, fmt.Sprintf("%s(broadcast, %v) %v", rc.name, axes, dt), got, want, tol)
			}
		}
		// A scalar reduces to itself; a vector to a scalar.
		s := tensor.Scalar(dt, 3)
		for _, rc := range redCases {
			checkExact(t, rc.name+" scalar", rc.f(s), []float64{3})
			v := tensor.FromValues(dt, []float64{1, 5, 3})
			want := map[string]float64{"Sum": 9, "Mean": 3, "Max": 5, "Min": 1}[rc.name[:len(rc.name)-len("Keep")*b2i(rc.keep)]]
			got := rc.f(v, 0)
			checkExact(t, rc.name+" vector", got, []float64{want})
		}
	}
}

func b2i(c bool) int {
	if c {
		return 1
	}
	return 0
}

func TestReduceLargeSum(t *testing.T) {
	// 10⁶ float32 ones sum to exactly 10⁶ (well below 2²⁴); 0.1 × 10⁵
	// accumulated with partial sums stays within 1e-4 relative of 10⁴.
	x := tensor.Ones(tensor.Float32, 1000, 1000)
	if got := tensor.Sum(x).Item(); got != 1e6 {
		t.Errorf("Sum of 10⁶ ones = %v", got)
	}
	if got := tensor.Sum(x, 0).At(999); got != 1000 {
		t.Errorf("column sum = %v", got)
	}
	y := tensor.Full(tensor.Float32, 0.1, 100000)
	if got := tensor.Sum(y).Item(); math.Abs(got-1e4) > 1 {
		t.Errorf("Sum of 10⁵ × 0.1 = %v", got)
	}
}

func TestReduceEmpty(t *testing.T) {
	for _, dt := range dtypes {
		x := tensor.New(dt, 3, 0, 2)
		got := tensor.Sum(x, 1)
		checkShape(t, "Sum empty axis", got, []int{3, 2})
		checkExact(t, "Sum empty axis", got, make([]float64, 6))
		checkExact(t, "Sum all of empty", tensor.Sum(x), []float64{0})
		checkShape(t, "SumKeep empty", tensor.SumKeep(x, 1), []int{3, 1, 2})
		checkShape(t, "Sum over a full axis of an empty tensor", tensor.Sum(x, 0), []int{0, 2})
		checkShape(t, "Max over a full axis of an empty tensor", tensor.Max(x, 2), []int{3, 0})
		// numpy: the mean of nothing is NaN.
		m := tensor.Mean(x, 1)
		for _, v := range valuesAt(m) {
			if !math.IsNaN(v) {
				t.Fatalf("Mean over an empty axis = %v, want NaN", v)
			}
		}
		for _, op := range []struct {
			name string
			f    func(*tensor.Tensor, ...int) *tensor.Tensor
		}{{"Max", tensor.Max}, {"Min", tensor.Min}} {
			mustShapeError(t, op.name, func() { op.f(x, 1) }, []int{3, 0, 2})
			mustShapeError(t, op.name, func() { op.f(x) }, []int{3, 0, 2})
		}
		y := tensor.New(dt, 2, 3)
		mustShapeError(t, "Sum", func() { tensor.Sum(y, 2) }, []int{2, 3})
		mustShapeError(t, "Sum", func() { tensor.Sum(y, -3) }, []int{2, 3})
		mustShapeError(t, "Sum", func() { tensor.Sum(y, 1, -1) }, []int{2, 3})
		mustShapeError(t, "Mean", func() { tensor.Mean(y, 0, 0) }, []int{2, 3})
		mustShapeError(t, "Max", func() { tensor.Max(y, 5) }, []int{2, 3})
	}
}

func TestArgMax(t *testing.T) {
	nan := math.NaN()
	for _, dt := range dtypes {
		for _, tc := range []struct {
			vals  []float64
			shape []int
			axis  int
			want  []int
		}{
			{[]float64{1, 3, 3, 2}, []int{4}, 0, []int{1}},                            // tie: first wins
			{[]float64{1, nan, 5, nan}, []int{4}, 0, []int{1}},                        // NaN is largest, first NaN
			{[]float64{math.Inf(-1), math.Inf(-1)}, []int{2}, 0, []int{0}},            // all −Inf
			{[]float64{2, 2, 2, 2, 2, 2}, []int{2, 3}, 1, []int{0, 0}},                // all equal
			{[]float64{1, 9, 3, 7, 5, 9}, []int{2, 3}, 0, []int{1, 0, 1}},             // along rows
			{[]float64{1, 9, 3, 7, 5, 9}, []int{2, 3}, -1, []int{1, 2}},               // negative axis
			{[]float64{-1, -5, nan, 0, 0, 0}, []int{3, 2}, 0, []int{1, 1}},            // NaN in column 0
			{[]float64{0, 1, 2, 3, 4, 5, 6, 7}, []int{2, 2, 2}, 1, []int{1, 1, 1, 1}}, // middle axis
		} {
			x := tensor.FromValues(dt, tc.vals, tc.shape...)
			for _, l := range layouts(x) {
				if got := tensor.ArgMax(l.t, tc.axis); !slices.Equal(got, tc.want) {
					t.Errorf("ArgMax(%v %v (%s), %d) = %v, want %v", tc.vals, tc.shape, l.name, tc.axis, got, tc.want)
				}
			}
		}
		// Against a loop on random data with many ties.
		x := smallInts(30, dt, 4, 5, 6)
		for _, l := range layouts(x) {
			for axis := range 3 {
				got := tensor.ArgMax(l.t, axis)
				var want []int
				other := slices.Delete([]int{4, 5, 6}, axis, axis+1)
				eachIndex(other, func(p []int) {
					idx := slices.Insert(slices.Clone(p), axis, 0)
					best := 0
					for k := range x.Dim(axis) {
						idx[axis] = k
						if x.At(idx...) > bestVal(x, idx, axis, best) {
							best = k
						}
					}
					want = append(want, best)
				})
				if !slices.Equal(got, want) {
					t.Errorf("ArgMax(%s, %d) = %v, want %v", l.name, axis, got, want)
				}
			}
		}
		mustShapeError(t, "ArgMax", func() { tensor.ArgMax(tensor.New(dt, 3, 0), 1) }, []int{3, 0})
		mustShapeError(t, "ArgMax", func() { tensor.ArgMax(tensor.New(dt, 3), 1) }, []int{3})
	}
}

func bestVal(x *tensor.Tensor, idx []int, axis, k int) float64 {
	j := slices.Clone(idx)
	j[axis] = k
	return x.At(j...)
}

// refMatMul is numpy.matmul as a loop: batch dimensions broadcast.
func refMatMul(a, b *tensor.Tensor) ([]int, []float64) {
	as, bs := a.Shape(), b.Shape()
	m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	batch := tensor.BroadcastShapes("ref", as[:len(as)-2], bs[:len(bs)-2])
	shape := append(slices.Clone(batch), m, n)
	var out []float64
	eachIndex(shape, func(idx []int) {
		nb := len(batch)
		ai := append(slices.Clone(idx[:nb]), idx[nb], 0)
		bi := append(slices.Clone(idx[:nb]), 0, idx[nb+1])
		var s float64
		for p := range k {
			ai[nb+1], bi[nb] = p, p
			s += bcastAt(a, ai) * bcastAt(b, bi)
		}
		out = append(out, s)
	})
	return shape, out
}

func TestMatMul(t *testing.T) {
	cases := []struct{ a, b []int }{
		{[]int{3, 4}, []int{4, 5}},
		{[]int{1, 1}, []int{1, 1}},
		{[]int{1, 7}, []int{7, 1}},
		{[]int{7, 1}, []int{1, 6}},
		{[]int{7, 13}, []int{13, 9}},
		{[]int{33, 65}, []int{65, 17}}, // past one register tile each way
		{[]int{2, 3, 4}, []int{2, 4, 5}},
		{[]int{2, 3, 4}, []int{4, 5}}, // one right matrix for a batch
		{[]int{2, 1, 3, 4}, []int{5, 4, 2}},
		{[]int{3, 4}, []int{2, 4, 5}},
		{[]int{1, 3, 4}, []int{3, 4, 2}},
		{[]int{3, 0}, []int{0, 4}}, // k = 0: zeros
		{[]int{2, 3, 0}, []int{0, 4}},
		{[]int{2, 3, 0}, []int{2, 0, 4}},
		{[]int{0, 4}, []int{4, 3}},
		{[]int{3, 4}, []int{4, 0}},
		{[]int{0, 3, 4}, []int{4, 5}},
		{[]int{0, 3, 4}, []int{0, 4, 5}},
		{[]int{2, 3, 4}, []int{0, 1, 4, 5}},
	}
	for _, dt := range dtypes {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		for ci, tc := range cases {
			a, b := randT(uint64(200+ci), dt, tc.a...), randT(uint64(300+ci), dt, tc.b...)
			shape, want := refMatMul(a, b)
			for _, la := range layouts(a) {
				for _, lb := range layouts(b) {
					what := fmt.Sprintf("MatMul %v %v(%s)·%v(%s)", dt, tc.a, la.name, tc.b, lb.name)
					var got *tensor.Tensor
					if err := tensor.Try(func() { got = tensor.MatMul(la.t, lb.t) }); err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					checkShape(t, what, got, shape)
					if got.DType() != dt {
						t.Fatalf("%s: dtype %v", what, got.DType())
					}
					checkClose(t, what, got, want, tol*float64(max(tc.a[len(tc.a)-1], 1)))
				}
			}
		}
	}
}

// TestMatMulViews uses the views a caller gets from T, Permute, Slice and
// BroadcastTo directly as operands.
func TestMatMulViews(t *testing.T) {
	for _, dt := range dtypes {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-4
		}
		x := randT(1, dt, 9, 8)
		y := randT(2, dt, 8, 7)
		z := randT(3, dt, 2, 8, 9)
		row := randT(4, dt, 1, 8)
		for _, tc := range []struct {
			name string
			a, b *tensor.Tensor
		}{
			{"xᵀ·x", x.T(), x},
			{"x·xᵀ", x, x.T()},
			{"yᵀ·xᵀ", y.T(), x.T()},
			{"row slice · col slice", tensor.Slice(x, 0, 2, 7), tensor.Slice(y, 1, 3, 6)},
			{"inner slices", tensor.Slice(x, 1, 1, 6), tensor.Slice(y, 0, 2, 7)},
			{"transposed slice", tensor.Slice(x, 0, 1, 5).T(), tensor.Slice(x, 0, 3, 7)},
			{"batched T", z.T(), y},
			{"Permute batch", tensor.Permute(randT(5, dt, 8, 2, 9), 1, 2, 0), tensor.Permute(randT(6, dt, 7, 2, 8), 1, 2, 0)},
			{"batch slice (contiguous, offset)", tensor.Slice(randT(7, dt, 3, 5, 8), 0, 1, 3), y},
			{"broadcast rows", tensor.BroadcastTo(row, 5, 8), y},
			{"broadcast batch", tensor.BroadcastTo(x, 3, 9, 8), tensor.BroadcastTo(y, 3, 8, 7)},
			{"unsqueezed row", tensor.Unsqueeze(tensor.Reshape(row, 8), 0), y},
			{"unsqueezed column", x, tensor.Unsqueeze(tensor.Reshape(row, 8), 1)},
			{"row and column of transposes", tensor.Slice(y.T(), 0, 2, 3), tensor.Slice(x.T(), 1, 4, 5)},
		} {
			var got *tensor.Tensor
			if err := tensor.Try(func() { got = tensor.MatMul(tc.a, tc.b) }); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			shape, want := refMatMul(tc.a, tc.b)
			checkShape(t, tc.name, got, shape)
			checkClose(t, fmt.Sprintf("%s %v", tc.name, dt), got, want, tol)
		}
		// The operands are left alone.
		checkExact(t, "x after MatMul", x, valuesAt(randT(1, dt, 9, 8)))
	}
}

func TestMatMulErrors(t *testing.T) {
	a, b := tensor.New(tensor.Float32, 2, 3), tensor.New(tensor.Float32, 4, 5)
	mustShapeError(t, "MatMul", func() { tensor.MatMul(a, b) }, []int{2, 3}, []int{4, 5})
	v := tensor.New(tensor.Float32, 3)
	mustShapeError(t, "MatMul", func() { tensor.MatMul(v, tensor.New(tensor.Float32, 3, 2)) }, []int{3}, []int{3, 2})
	mustShapeError(t, "MatMul", func() { tensor.MatMul(a, v) }, []int{2, 3}, []int{3})
	mustShapeError(t, "MatMul", func() {
		tensor.MatMul(tensor.New(tensor.Float32, 2, 2, 3), tensor.New(tensor.Float32, 3, 3, 4))
	}, []int{2, 2, 3}, []int{3, 3, 4})
	mustDTypeError(t, "MatMul", func() { tensor.MatMul(a, tensor.New(tensor.Float64, 3, 2)) })
}
