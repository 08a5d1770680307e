package tensor_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// dot is the inner product <a, b> of two same-shaped tensors, in float64.
func dot(a, b *tensor.Tensor) float64 {
	av, bv := valuesAt(a), valuesAt(b)
	var s float64
	for i := range av {
		s += av[i] * bv[i]
	}
	return s
}

// checkAdjoint checks <f(x), y> = <x, g(y)> for random x and y in float64:
// g is the adjoint of the linear map f.
func checkAdjoint(t *testing.T, what string, x, y, fx, gy *tensor.Tensor) {
	t.Helper()
	if !tensor.EqualShape(fx.Shape(), y.Shape()) || !tensor.EqualShape(gy.Shape(), x.Shape()) {
		t.Fatalf("%s: shapes f(x) %v vs y %v, g(y) %v vs x %v", what, fx.Shape(), y.Shape(), gy.Shape(), x.Shape())
	}
	l, r := dot(fx, y), dot(x, gy)
	if math.Abs(l-r) > 1e-12*math.Max(1, math.Abs(l)) {
		t.Errorf("%s: <f(x), y> = %v but <x, g(y)> = %v", what, l, r)
	}
}

func TestReshape(t *testing.T) {
	for _, tc := range []struct {
		in, to, want []int
	}{
		{[]int{2, 3, 4}, []int{6, 4}, []int{6, 4}},
		{[]int{2, 3, 4}, []int{-1}, []int{24}},
		{[]int{2, 3, 4}, []int{4, -1}, []int{4, 6}},
		{[]int{2, 3, 4}, []int{2, -1, 3}, []int{2, 4, 3}},
		{[]int{1}, []int{}, []int{}},
		{[]int{}, []int{1, 1}, []int{1, 1}},
		{[]int{0, 3}, []int{3, 0}, []int{3, 0}},
		{[]int{0, 3}, []int{-1, 3}, []int{0, 3}},
		{[]int{6}, []int{1, 6, 1}, []int{1, 6, 1}},
	} {
		for _, dt := range dtypes {
			x := randT(1, dt, tc.in...)
			for _, l := range layouts(x) {
				what := fmt.Sprintf("Reshape(%v %s, %v)", tc.in, l.name, tc.to)
				y := tensor.Reshape(l.t, tc.to...)
				checkShape(t, what, y, tc.want)
				// Row-major order is kept.
				checkExact(t, what, y, valuesAt(x))
				if l.t.IsContiguous() != tensor.SameBuffer(y, l.t) && x.Len() > 0 {
					t.Errorf("%s: contiguous %v but shares buffer %v", what, l.t.IsContiguous(), tensor.SameBuffer(y, l.t))
				}
			}
		}
	}
	// A view of a contiguous tensor: writes go both ways.
	x := tensor.Arange(tensor.Float64, 0, 1, 12)
	v := tensor.Reshape(tensor.Slice(x, 0, 6, 12), 2, 3) // contiguous, offset 6
	v.Set(-1, 1, 2)
	x.Set(-2, 6)
	if x.At(11) != -1 || v.At(0, 0) != -2 {
		t.Errorf("Reshape of a contiguous slice is not a view: x[11] = %v, v[0,0] = %v", x.At(11), v.At(0, 0))
	}
	// A copy of a non-contiguous one: writes do not go back.
	m := tensor.Reshape(x, 3, 4)
	c := tensor.Reshape(m.T(), 12)
	c.Set(100, 0)
	if m.At(0, 0) == 100 {
		t.Errorf("Reshape of a transposed view wrote through")
	}
	if f := tensor.Flatten(m.T()); !slices.Equal(f.Shape(), []int{12}) || f.At(1) != 4 {
		t.Errorf("Flatten(mᵀ) = %v", f)
	}
	y := tensor.New(tensor.Float32, 2, 3)
	for _, to := range [][]int{{4, 2}, {-1, -1}, {-1, 4}, {2, -2}, {0, -1}, {7}} {
		mustShapeError(t, "Reshape", func() { tensor.Reshape(y, to...) }, []int{2, 3}, to)
	}
}

func TestPermuteTranspose(t *testing.T) {
	for _, dt := range dtypes {
		x := randT(2, dt, 2, 3, 4)
		for _, perm := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}, {-1, 0, 1}} {
			p := tensor.Permute(x, perm...)
			if !tensor.SameBuffer(p, x) {
				t.Errorf("Permute(%v) copied", perm)
			}
			pp := slices.Clone(perm)
			for i := range pp {
				if pp[i] < 0 {
					pp[i] += 3
				}
			}
			want := make([]int, 3)
			for i, a := range pp {
				want[i] = x.Dim(a)
			}
			checkShape(t, fmt.Sprint("Permute", perm), p, want)
			src := make([]int, 3)
			eachIndex(p.Shape(), func(idx []int) {
				for i, a := range pp {
					src[a] = idx[i]
				}
				if p.At(idx...) != x.At(src...) {
					t.Fatalf("Permute(%v)%v = %v, want x%v = %v", perm, idx, p.At(idx...), src, x.At(src...))
				}
			})
			// Inverse permutation round trip.
			inv := make([]int, 3)
			for i, a := range pp {
				inv[a] = i
			}
			checkExact(t, "Permute round trip", tensor.Permute(p, inv...), valuesAt(x))
		}
		tr := tensor.Transpose(x, 0, -1)
		checkShape(t, "Transpose", tr, []int{4, 3, 2})
		if tr.At(3, 1, 0) != x.At(0, 1, 3) {
			t.Errorf("Transpose(0, -1) wrong")
		}
		tt := x.T()
		checkShape(t, "T", tt, []int{2, 4, 3})
		if tt.At(1, 3, 2) != x.At(1, 2, 3) || tt.IsContiguous() || !tensor.SameBuffer(tt, x) {
			t.Errorf("T of a batch wrong")
		}
		checkExact(t, "T().T()", tt.T(), valuesAt(x))
		for _, perm := range [][]int{{0, 1}, {0, 0, 1}, {0, 1, 3}, {-4, 0, 1}} {
			mustShapeError(t, "Permute", func() { tensor.Permute(x, perm...) }, []int{2, 3, 4})
		}
		mustShapeError(t, "Transpose", func() { tensor.Transpose(x, 0, 3) }, []int{2, 3, 4})
		mustShapeError(t, "T", func() { tensor.New(dt, 3).T() }, []int{3})
	}
}

func TestSlicePadSlice(t *testing.T) {
	for _, tc := range []struct {
		shape            []int
		axis, start, end int
	}{
		{[]int{5}, 0, 1, 4},
		{[]int{4, 6}, 1, 2, 6},
		{[]int{4, 6}, -2, 0, 1},
		{[]int{3, 4, 5}, 1, 1, 3},
		{[]int{3, 4, 5}, 2, 5, 5}, // empty
		{[]int{3, 4, 5}, 0, 0, 3}, // everything
	} {
		x := randT(3, tensor.Float64, tc.shape...)
		for _, l := range layouts(x) {
			s := tensor.Slice(l.t, tc.axis, tc.start, tc.end)
			what := fmt.Sprintf("Slice(%v %s, %d, %d, %d)", tc.shape, l.name, tc.axis, tc.start, tc.end)
			a := tc.axis
			if a < 0 {
				a += len(tc.shape)
			}
			want := slices.Clone(tc.shape)
			want[a] = tc.end - tc.start
			checkShape(t, what, s, want)
			if s.Len() > 0 && !tensor.SameBuffer(s, l.t) {
				t.Errorf("%s: copied", what)
			}
			src := make([]int, len(tc.shape))
			eachIndex(want, func(idx []int) {
				copy(src, idx)
				src[a] += tc.start
				if s.At(idx...) != x.At(src...) {
					t.Fatalf("%s%v = %v, want %v", what, idx, s.At(idx...), x.At(src...))
				}
			})
			// PadSlice is the adjoint of Slice.
			y := randT(4, tensor.Float64, want...)
			checkAdjoint(t, what+" vs PadSlice", l.t, y, s, tensor.PadSlice(y, tc.shape, tc.axis, tc.start))
		}
	}
	x := tensor.New(tensor.Float32, 3, 4)
	for _, r := range [][3]int{{1, -1, 2}, {1, 2, 5}, {1, 3, 2}, {2, 0, 1}} {
		mustShapeError(t, "Slice", func() { tensor.Slice(x, r[0], r[1], r[2]) }, []int{3, 4})
	}
	mustShapeError(t, "PadSlice", func() { tensor.PadSlice(x, []int{3, 6}, 1, 3) }, []int{3, 4}, []int{3, 6})
	mustShapeError(t, "PadSlice", func() { tensor.PadSlice(x, []int{4, 6}, 1, 0) }, []int{3, 4}, []int{4, 6})
	mustShapeError(t, "PadSlice", func() { tensor.PadSlice(x, []int{3, 4, 1}, 1, 0) }, []int{3, 4}, []int{3, 4, 1})
}

func TestConcat(t *testing.T) {
	for _, dt := range dtypes {
		a, b, c := randT(1, dt, 2, 3, 4), randT(2, dt, 2, 1, 4), randT(3, dt, 2, 0, 4)
		for _, la := range layouts(a) {
			got := tensor.Concat(1, la.t, b, c, a)
			checkShape(t, "Concat", got, []int{2, 7, 4})
			eachIndex(got.Shape(), func(idx []int) {
				i, j, k := idx[0], idx[1], idx[2]
				var want float64
				switch {
				case j < 3:
					want = a.At(i, j, k)
				case j == 3:
					want = b.At(i, 0, k)
				default:
					want = a.At(i, j-4, k)
				}
				if got.At(i, j, k) != want {
					t.Fatalf("Concat(%s)%v = %v, want %v", la.name, idx, got.At(i, j, k), want)
				}
			})
		}
		g := tensor.Concat(-1, a, a)
		checkShape(t, "Concat(-1)", g, []int{2, 3, 8})
		if g.At(1, 2, 5) != a.At(1, 2, 1) {
			t.Errorf("Concat(-1) wrong")
		}
		one := tensor.Concat(0, a)
		if tensor.SameBuffer(one, a) {
			t.Errorf("Concat of one tensor aliases it")
		}
		checkExact(t, "Concat one", one, valuesAt(a))
		mustShapeError(t, "Concat", func() { tensor.Concat(1, a, tensor.New(dt, 3, 1, 4)) }, []int{2, 3, 4}, []int{3, 1, 4})
		mustShapeError(t, "Concat", func() { tensor.Concat(1, a, tensor.New(dt, 2, 3)) }, []int{2, 3, 4}, []int{2, 3})
		mustShapeError(t, "Concat", func() { tensor.Concat(3, a, a) }, []int{2, 3, 4})
	}
	mustShapeError(t, "Concat", func() { tensor.Concat(0) })
	mustDTypeError(t, "Concat", func() { tensor.Concat(0, tensor.New(tensor.Float32, 2), tensor.New(tensor.Float64, 2)) })
}

func TestIndexSelectAdd(t *testing.T) {
	for _, tc := range []struct {
		shape []int
		axis  int
		idx   []int
	}{
		{[]int{5}, 0, []int{4, 0, 0, 2}},
		{[]int{4, 3}, 0, []int{1, 1, 3}},
		{[]int{4, 3}, -1, []int{2, 0, 2, 1, 2}},
		{[]int{2, 5, 3}, 1, []int{0, 4, 2, 4}},
		{[]int{2, 5, 3}, 1, []int{}},
	} {
		x := randT(5, tensor.Float64, tc.shape...)
		a := tc.axis
		if a < 0 {
			a += len(tc.shape)
		}
		for _, l := range layouts(x) {
			got := tensor.IndexSelect(l.t, tc.axis, tc.idx)
			want := slices.Clone(tc.shape)
			want[a] = len(tc.idx)
			what := fmt.Sprintf("IndexSelect(%v %s, %d, %v)", tc.shape, l.name, tc.axis, tc.idx)
			checkShape(t, what, got, want)
			src := make([]int, len(want))
			eachIndex(want, func(idx []int) {
				copy(src, idx)
				src[a] = tc.idx[idx[a]]
				if got.At(idx...) != x.At(src...) {
					t.Fatalf("%s%v = %v, want %v", what, idx, got.At(idx...), x.At(src...))
				}
			})
			y := randT(6, tensor.Float64, want...)
			for _, ly := range layouts(y) {
				checkAdjoint(t, what+" vs IndexAdd("+ly.name+")", l.t, y, got, tensor.IndexAdd(ly.t, tc.shape, tc.axis, tc.idx))
			}
		}
	}
	x := tensor.New(tensor.Float32, 4, 3)
	mustShapeError(t, "IndexSelect", func() { tensor.IndexSelect(x, 0, []int{0, 4}) }, []int{4, 3})
	mustShapeError(t, "IndexSelect", func() { tensor.IndexSelect(x, 1, []int{-1}) }, []int{4, 3})
	mustShapeError(t, "IndexSelect", func() { tensor.IndexSelect(x, 2, []int{0}) }, []int{4, 3})
	src := tensor.New(tensor.Float32, 2, 3)
	mustShapeError(t, "IndexAdd", func() { tensor.IndexAdd(src, []int{4, 3}, 0, []int{0}) }, []int{2, 3}, []int{4, 3})
	mustShapeError(t, "IndexAdd", func() { tensor.IndexAdd(src, []int{4, 3}, 0, []int{0, 4}) }, []int{4, 3})
	mustShapeError(t, "IndexAdd", func() { tensor.IndexAdd(src, []int{4, 5}, 0, []int{0, 1}) }, []int{2, 3}, []int{4, 5})
	mustShapeError(t, "IndexAdd", func() { tensor.IndexAdd(tensor.New(tensor.Float32, 2, 1), []int{4, 3}, 0, []int{0, 1}) }, []int{2, 1}, []int{4, 3})
	mustShapeError(t, "IndexAdd", func() { tensor.IndexAdd(tensor.New(tensor.Float32, 2), []int{4, 3}, 0, []int{0, 1}) }, []int{2}, []int{4, 3})
}

func TestGatherScatter(t *testing.T) {
	rng := tensor.NewRand(9)
	for _, tc := range []struct {
		shape []int
		axis  int
	}{
		{[]int{6}, 0},
		{[]int{5, 4}, 1},
		{[]int{5, 4}, 0},
		{[]int{3, 4, 5}, 1},
		{[]int{3, 4, 5}, -1},
		{[]int{2, 3, 4, 2}, 2},
		{[]int{3, 0, 2}, 0},
	} {
		x := randT(7, tensor.Float64, tc.shape...)
		a := tc.axis
		if a < 0 {
			a += len(tc.shape)
		}
		rest := slices.Delete(slices.Clone(tc.shape), a, a+1)
		idx := make([]int, numel(rest))
		for i := range idx {
			idx[i] = rng.IntN(tc.shape[a]) // repeats are likely
		}
		for _, l := range layouts(x) {
			what := fmt.Sprintf("Gather(%v %s, %d)", tc.shape, l.name, tc.axis)
			got := tensor.Gather(l.t, tc.axis, idx)
			checkShape(t, what, got, rest)
			p := 0
			eachIndex(rest, func(r []int) {
				src := slices.Insert(slices.Clone(r), a, idx[p])
				if got.At(r...) != x.At(src...) {
					t.Fatalf("%s%v = %v, want x%v = %v", what, r, got.At(r...), src, x.At(src...))
				}
				p++
			})
			y := randT(8, tensor.Float64, rest...)
			for _, ly := range layouts(y) {
				checkAdjoint(t, what+" vs Scatter("+ly.name+")", l.t, y, got, tensor.Scatter(ly.t, tc.shape, tc.axis, idx))
			}
		}
	}
	// The classic use: a class label's score per row.
	scores := tensor.FromValues(tensor.Float32, []float64{0.1, 0.7, 0.2, 0.5, 0.3, 0.2}, 2, 3)
	checkExact(t, "Gather labels", tensor.Gather(scores, 1, []int{1, 0}), []float64{round(tensor.Float32, 0.7), round(tensor.Float32, 0.5)})
	// Scatter adds repeats up.
	s := tensor.Scatter(tensor.FromValues(tensor.Float64, []float64{1, 2, 3}), []int{3, 2}, 1, []int{1, 1, 0})
	checkExact(t, "Scatter", s, []float64{0, 1, 0, 2, 3, 0})
	s = tensor.Scatter(tensor.Scalar(tensor.Float64, 5), []int{3}, 0, []int{2})
	checkExact(t, "Scatter into a vector", s, []float64{0, 0, 5})

	x := tensor.New(tensor.Float32, 4, 3)
	mustShapeError(t, "Gather", func() { tensor.Gather(x, 1, []int{0, 1, 2}) }, []int{4, 3})
	mustShapeError(t, "Gather", func() { tensor.Gather(x, 1, []int{0, 1, 2, 3}) }, []int{4, 3})
	mustShapeError(t, "Gather", func() { tensor.Gather(x, 0, []int{0, -1, 2}) }, []int{4, 3})
	src := tensor.New(tensor.Float32, 4)
	mustShapeError(t, "Scatter", func() { tensor.Scatter(src, []int{4, 3}, 0, []int{0, 1, 2, 3}) }, []int{4}, []int{4, 3})
	mustShapeError(t, "Scatter", func() { tensor.Scatter(src, []int{4, 3}, 1, []int{0, 1, 2}) }, []int{4}, []int{4, 3})
	mustShapeError(t, "Scatter", func() { tensor.Scatter(src, []int{4, 3}, 1, []int{0, 1, 2, 3}) }, []int{4, 3})
}

func TestSqueezeUnsqueeze(t *testing.T) {
	x := randT(10, tensor.Float32, 1, 3, 1, 2)
	for _, tc := range []struct {
		axes []int
		want []int
	}{
		{nil, []int{3, 2}},
		{[]int{0}, []int{3, 1, 2}},
		{[]int{-2}, []int{1, 3, 2}},
		{[]int{2, 0}, []int{3, 2}},
	} {
		s := tensor.Squeeze(x, tc.axes...)
		checkShape(t, fmt.Sprint("Squeeze", tc.axes), s, tc.want)
		checkExact(t, "Squeeze", s, valuesAt(x))
		if !tensor.SameBuffer(s, x) {
			t.Errorf("Squeeze copied")
		}
	}
	if s := tensor.Squeeze(tensor.New(tensor.Float64, 1, 1)); s.Dims() != 0 || s.Len() != 1 {
		t.Errorf("Squeeze of [1 1] has shape %v", s.Shape())
	}
	mustShapeError(t, "Squeeze", func() { tensor.Squeeze(x, 1) }, []int{1, 3, 1, 2})
	mustShapeError(t, "Squeeze", func() { tensor.Squeeze(x, 4) }, []int{1, 3, 1, 2})

	y := randT(11, tensor.Float64, 3, 4)
	for _, tc := range []struct {
		axis int
		want []int
	}{{0, []int{1, 3, 4}}, {1, []int{3, 1, 4}}, {2, []int{3, 4, 1}}, {-1, []int{3, 4, 1}}, {-3, []int{1, 3, 4}}} {
		for _, l := range layouts(y) {
			u := tensor.Unsqueeze(l.t, tc.axis)
			checkShape(t, fmt.Sprint("Unsqueeze", tc.axis), u, tc.want)
			checkExact(t, "Unsqueeze "+l.name, u, valuesAt(y))
			if l.t.IsContiguous() != u.IsContiguous() || !tensor.SameBuffer(u, l.t) {
				t.Errorf("Unsqueeze(%d) of %s: contiguous %v, shares %v", tc.axis, l.name, u.IsContiguous(), tensor.SameBuffer(u, l.t))
			}
			checkExact(t, "Squeeze(Unsqueeze)", tensor.Squeeze(u, tc.axis), valuesAt(y))
		}
	}
	mustShapeError(t, "Unsqueeze", func() { tensor.Unsqueeze(y, 3) }, []int{3, 4})
	mustShapeError(t, "Unsqueeze", func() { tensor.Unsqueeze(y, -4) }, []int{3, 4})
}

func TestBroadcastToSumTo(t *testing.T) {
	for _, tc := range []struct{ from, to []int }{
		{[]int{}, []int{3, 4}},
		{[]int{4}, []int{3, 4}},
		{[]int{3, 1}, []int{3, 4}},
		{[]int{1, 1}, []int{2, 3}},
		{[]int{2, 1, 4}, []int{5, 2, 3, 4}},
		{[]int{3, 4}, []int{3, 4}},
		{[]int{1, 3}, []int{0, 3}},
	} {
		x := randT(12, tensor.Float64, tc.from...)
		for _, l := range layouts(x) {
			what := fmt.Sprintf("BroadcastTo(%v %s, %v)", tc.from, l.name, tc.to)
			b := tensor.BroadcastTo(l.t, tc.to...)
			checkShape(t, what, b, tc.to)
			if b.Len() > 0 && !tensor.SameBuffer(b, l.t) {
				t.Errorf("%s copied", what)
			}
			var want []float64
			eachIndex(tc.to, func(idx []int) { want = append(want, bcastAt(x, idx)) })
			checkExact(t, what, b, want)
			y := randT(13, tensor.Float64, tc.to...)
			for _, ly := range layouts(y) {
				s := tensor.SumTo(ly.t, tc.from...)
				checkAdjoint(t, what+" vs SumTo("+ly.name+")", l.t, y, b, s)
			}
		}
	}
	x := tensor.New(tensor.Float32, 3, 1)
	mustShapeError(t, "BroadcastTo", func() { tensor.BroadcastTo(x, 2, 4) }, []int{3, 1}, []int{2, 4})
	mustShapeError(t, "BroadcastTo", func() { tensor.BroadcastTo(x, 3) }, []int{3, 1}, []int{3})
	mustShapeError(t, "BroadcastTo", func() { tensor.BroadcastTo(tensor.New(tensor.Float32, 3, 4), 3, 1) }, []int{3, 4}, []int{3, 1})
	y := tensor.New(tensor.Float32, 3, 4)
	mustShapeError(t, "SumTo", func() { tensor.SumTo(y, 2, 4) }, []int{3, 4}, []int{2, 4})
	mustShapeError(t, "SumTo", func() { tensor.SumTo(y, 2, 3, 4) }, []int{3, 4}, []int{2, 3, 4})
}
