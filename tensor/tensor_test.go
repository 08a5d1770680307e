package tensor_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// The tests compare against references written here as plain loops over
// At, in float64. Every random input comes from a fixed seed.

var dtypes = []tensor.DType{tensor.Float32, tensor.Float64}

// round returns v as dt stores it.
func round(dt tensor.DType, v float64) float64 {
	if dt == tensor.Float32 {
		return float64(float32(v))
	}
	return v
}

// eachIndex calls fn with every index of shape in row-major order. fn must
// not keep idx.
func eachIndex(shape []int, fn func(idx []int)) {
	for _, s := range shape {
		if s == 0 {
			return
		}
	}
	idx := make([]int, len(shape))
	for {
		fn(idx)
		d := len(shape) - 1
		for ; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// valuesAt reads x element by element through At, in row-major order: an
// independent path from Values, which goes through Contiguous.
func valuesAt(x *tensor.Tensor) []float64 {
	var out []float64
	eachIndex(x.Shape(), func(idx []int) { out = append(out, x.At(idx...)) })
	return out
}

func randT(seed uint64, dt tensor.DType, shape ...int) *tensor.Tensor {
	return tensor.Uniform(tensor.NewRand(seed), dt, -2, 2, shape...)
}

// layout is a tensor holding given values in some memory layout.
type layout struct {
	name string
	t    *tensor.Tensor
}

// layouts returns views with x's shape and values but laid out differently
// in memory: contiguous, reversed-axes (transposed) and embedded in a larger
// NaN-filled buffer (sliced), so that a kernel that ignores strides or
// offsets reads a wrong number or a NaN.
func layouts(x *tensor.Tensor) []layout {
	shape := x.Shape()
	out := []layout{{"contiguous", x.Clone()}}
	nd := len(shape)
	if nd >= 2 {
		rev := make([]int, nd)
		rshape := make([]int, nd)
		for i := range rev {
			rev[i] = nd - 1 - i
			rshape[i] = shape[nd-1-i]
		}
		buf := tensor.New(x.DType(), rshape...)
		ridx := make([]int, nd)
		eachIndex(shape, func(idx []int) {
			for i := range idx {
				ridx[nd-1-i] = idx[i]
			}
			buf.Set(x.At(idx...), ridx...)
		})
		out = append(out, layout{"transposed", tensor.Permute(buf, rev...)})
	}
	if nd >= 1 {
		big := make([]int, nd)
		for i, s := range shape {
			big[i] = s + 2
		}
		buf := tensor.Full(x.DType(), math.NaN(), big...)
		bidx := make([]int, nd)
		eachIndex(shape, func(idx []int) {
			for i := range idx {
				bidx[i] = idx[i] + 1
			}
			buf.Set(x.At(idx...), bidx...)
		})
		v := buf
		for i, s := range shape {
			v = tensor.Slice(v, i, 1, s+1)
		}
		out = append(out, layout{"sliced", v})
	}
	return out
}

// sameBits reports whether a and b are equal, counting NaN equal to NaN.
func sameBits(a, b float64) bool { return a == b || (a != a && b != b) }

func checkShape(t *testing.T, what string, got *tensor.Tensor, want []int) {
	t.Helper()
	if !tensor.EqualShape(got.Shape(), want) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want)
	}
}

// checkExact compares element by element, NaN matching NaN.
func checkExact(t *testing.T, what string, got *tensor.Tensor, want []float64) {
	t.Helper()
	g := valuesAt(got)
	if len(g) != len(want) {
		t.Fatalf("%s: %d elements, want %d", what, len(g), len(want))
	}
	for i := range g {
		if !sameBits(g[i], want[i]) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, g[i], want[i])
		}
	}
}

// checkClose compares element by element with |got−want| ≤ tol·max(1, |want|).
func checkClose(t *testing.T, what string, got *tensor.Tensor, want []float64, tol float64) {
	t.Helper()
	g := valuesAt(got)
	if len(g) != len(want) {
		t.Fatalf("%s: %d elements, want %d", what, len(g), len(want))
	}
	for i := range g {
		if sameBits(g[i], want[i]) {
			continue
		}
		if !(math.Abs(g[i]-want[i]) <= tol*math.Max(1, math.Abs(want[i]))) {
			t.Fatalf("%s: element %d = %v, want %v (tol %g)", what, i, g[i], want[i], tol)
		}
	}
}

// mustPanic runs f and returns what it panicked with, failing if it did not.
func mustPanic(t *testing.T, what string, f func()) (r any) {
	t.Helper()
	defer func() {
		r = recover()
		if r == nil {
			t.Fatalf("%s: did not panic", what)
		}
	}()
	f()
	return nil
}

// mustShapeError checks that f panics with a *ShapeError for op whose
// message names op and every shape in shapes.
func mustShapeError(t *testing.T, op string, f func(), shapes ...[]int) {
	t.Helper()
	r := mustPanic(t, op, f)
	e, ok := r.(*tensor.ShapeError)
	if !ok {
		t.Fatalf("%s: panicked with %T (%v), want *tensor.ShapeError", op, r, r)
	}
	msg := e.Error()
	if e.Op != op || !strings.HasPrefix(msg, op+":") {
		t.Errorf("%s: error %q names op %q", op, msg, e.Op)
	}
	for _, s := range shapes {
		if !strings.Contains(msg, fmt.Sprint(s)) {
			t.Errorf("%s: error %q does not name shape %v", op, msg, s)
		}
	}
}

func mustDTypeError(t *testing.T, op string, f func()) {
	t.Helper()
	r := mustPanic(t, op, f)
	e, ok := r.(*tensor.DTypeError)
	if !ok {
		t.Fatalf("%s: panicked with %T (%v), want *tensor.DTypeError", op, r, r)
	}
	if e.Op != op || !strings.Contains(e.Error(), "float32") || !strings.Contains(e.Error(), "float64") {
		t.Errorf("%s: error %q should name the op and both dtypes", op, e.Error())
	}
}

func TestNewShapes(t *testing.T) {
	for _, dt := range dtypes {
		for _, shape := range [][]int{{}, {0}, {1}, {5}, {2, 3}, {3, 0, 2}, {1, 1, 1}, {2, 3, 4, 5}} {
			x := tensor.New(dt, shape...)
			what := fmt.Sprintf("New(%v, %v)", dt, shape)
			checkShape(t, what, x, shape)
			if x.DType() != dt || x.Dims() != len(shape) || x.Len() != numel(shape) {
				t.Errorf("%s: dtype %v dims %d len %d", what, x.DType(), x.Dims(), x.Len())
			}
			if !x.IsContiguous() {
				t.Errorf("%s: not contiguous", what)
			}
			want := make([]float64, numel(shape))
			checkExact(t, what, x, want)
			checkExact(t, what+" Zeros", tensor.Zeros(dt, shape...), want)
			checkExact(t, what+" ZerosLike", tensor.ZerosLike(x), want)
			for i := range want {
				want[i] = 1
			}
			checkExact(t, what+" Ones", tensor.Ones(dt, shape...), want)
			checkExact(t, what+" OnesLike", tensor.OnesLike(x), want)
			for i := range want {
				want[i] = round(dt, 0.1)
			}
			checkExact(t, what+" Full", tensor.Full(dt, 0.1, shape...), want)
		}
		s := tensor.Scalar(dt, 2.5)
		if s.Dims() != 0 || s.Len() != 1 || s.Item() != 2.5 || s.At() != 2.5 {
			t.Errorf("Scalar: dims %d len %d item %v", s.Dims(), s.Len(), s.Item())
		}
		mustShapeError(t, "New", func() { tensor.New(dt, 2, -1) }, []int{2, -1})
	}
	if tensor.Float32.Size() != 4 || tensor.Float64.Size() != 8 {
		t.Errorf("Size: %d, %d", tensor.Float32.Size(), tensor.Float64.Size())
	}
	var zero tensor.DType
	if zero != tensor.Float32 || zero.String() != "float32" || tensor.Float64.String() != "float64" {
		t.Errorf("DType zero value %v, names %v %v", zero, tensor.Float32, tensor.Float64)
	}
}

func TestFromSliceAliases(t *testing.T) {
	d32 := []float32{1, 2, 3, 4, 5, 6}
	x := tensor.FromFloat32(d32, 2, 3)
	if x.DType() != tensor.Float32 || x.At(1, 0) != 4 {
		t.Fatalf("FromFloat32: dtype %v, x[1,0] = %v", x.DType(), x.At(1, 0))
	}
	d32[3] = 40
	if x.At(1, 0) != 40 {
		t.Errorf("FromFloat32 copied its slice: x[1,0] = %v after writing 40", x.At(1, 0))
	}
	x.Set(7, 0, 2)
	if d32[2] != 7 {
		t.Errorf("Set through FromFloat32 tensor did not reach the slice")
	}

	d64 := []float64{1, 2, 3}
	y := tensor.FromFloat64(d64) // no shape: a vector
	checkShape(t, "FromFloat64", y, []int{3})
	if y.DType() != tensor.Float64 {
		t.Errorf("FromFloat64 dtype %v", y.DType())
	}
	d64[0] = -1
	if y.At(0) != -1 {
		t.Errorf("FromFloat64 copied its slice")
	}
	if g := tensor.FromSlice([]float64{1, 2}, 2, 1); g.DType() != tensor.Float64 {
		t.Errorf("FromSlice[float64] dtype %v", g.DType())
	}
	if g := tensor.FromSlice([]float32{3}, []int{}...); g.DType() != tensor.Float32 || g.Dims() != 0 || g.Item() != 3 {
		t.Errorf("FromSlice scalar: dtype %v dims %d", g.DType(), g.Dims())
	}

	vals := []float64{0.1, 0.2, 0.3, 0.4}
	for _, dt := range dtypes {
		v := tensor.FromValues(dt, vals, 2, 2)
		want := make([]float64, len(vals))
		for i := range vals {
			want[i] = round(dt, vals[i])
		}
		checkExact(t, "FromValues", v, want)
		vals[0] = 99
		if v.At(0, 0) == 99 {
			t.Errorf("FromValues(%v) aliases its slice", dt)
		}
		vals[0] = 0.1
		checkShape(t, "FromValues vector", tensor.FromValues(dt, vals), []int{4})
		mustShapeError(t, "FromValues", func() { tensor.FromValues(dt, vals, 3) }, []int{3})
	}
	mustShapeError(t, "FromSlice", func() { tensor.FromFloat32(d32, 4, 2) }, []int{4, 2})
	mustShapeError(t, "FromSlice", func() { tensor.FromFloat64(d64, 2) }, []int{2})
}

func TestArange(t *testing.T) {
	for _, dt := range dtypes {
		for _, tc := range []struct {
			start, step float64
			n           int
		}{{0, 1, 5}, {-1, 0.25, 9}, {3, -0.1, 4}, {0, 1, 0}} {
			x := tensor.Arange(dt, tc.start, tc.step, tc.n)
			want := make([]float64, tc.n)
			for i := range want {
				want[i] = round(dt, tc.start+float64(i)*tc.step)
			}
			checkShape(t, "Arange", x, []int{tc.n})
			checkExact(t, fmt.Sprintf("Arange(%v, %v, %v, %d)", dt, tc.start, tc.step, tc.n), x, want)
		}
	}
}

func TestAtSetItem(t *testing.T) {
	for _, dt := range dtypes {
		x := tensor.New(dt, 2, 3, 4)
		// Strides are row-major: a unique value per index tells whether
		// At and Set agree with the flat order Values uses.
		eachIndex(x.Shape(), func(idx []int) {
			x.Set(float64(idx[0]*100+idx[1]*10+idx[2]), idx...)
		})
		vals := x.Values()
		i := 0
		eachIndex(x.Shape(), func(idx []int) {
			if want := float64(idx[0]*100 + idx[1]*10 + idx[2]); vals[i] != want || x.At(idx...) != want {
				t.Fatalf("%v: element %v: Values %v, At %v, want %v", dt, idx, vals[i], x.At(idx...), want)
			}
			i++
		})
		if x.Dim(-1) != 4 || x.Dim(0) != 2 || !slices.Equal(x.Strides(), []int{12, 4, 1}) {
			t.Errorf("%v: Dim(-1) %d, Dim(0) %d, strides %v", dt, x.Dim(-1), x.Dim(0), x.Strides())
		}
		x.Set(0.1, 0, 0, 0)
		if x.At(0, 0, 0) != round(dt, 0.1) {
			t.Errorf("%v: Set(0.1) reads back %v", dt, x.At(0, 0, 0))
		}
		mustShapeError(t, "At", func() { x.At(2, 0, 0) }, []int{2, 3, 4})
		mustShapeError(t, "At", func() { x.At(0, -1, 0) }, []int{2, 3, 4})
		mustShapeError(t, "At", func() { x.At(0, 0) }, []int{2, 3, 4})
		mustShapeError(t, "Set", func() { x.Set(1, 0, 0, 4) }, []int{2, 3, 4})
		mustShapeError(t, "Dim", func() { x.Dim(3) }, []int{2, 3, 4})

		// Item reads a one-element tensor whatever its rank or layout.
		if v := tensor.Slice(tensor.Slice(tensor.Slice(x, 0, 1, 2), 1, 2, 3), 2, 3, 4).Item(); v != 123 {
			t.Errorf("%v: Item of a one-element view = %v, want 123", dt, v)
		}
		if v := tensor.Scalar(dt, -4).Item(); v != -4 {
			t.Errorf("Item of scalar = %v", v)
		}
		mustShapeError(t, "Item", func() { x.Item() }, []int{2, 3, 4})
	}
}

func TestDataAliasing(t *testing.T) {
	x := tensor.Arange(tensor.Float32, 0, 1, 12)
	m := tensor.Reshape(x, 3, 4)
	d := m.Float32s()
	d[5] = -5
	if m.At(1, 1) != -5 || x.At(5) != -5 {
		t.Errorf("Float32s of a contiguous tensor is not its buffer")
	}
	// A contiguous view that starts inside the buffer: Data starts there too.
	row := tensor.Slice(m, 0, 2, 3)
	rd := tensor.Data[float32](row)
	if len(rd) != 4 || rd[0] != 8 {
		t.Fatalf("Data of row 2 = %v", rd)
	}
	rd[0] = 80
	if m.At(2, 0) != 80 {
		t.Errorf("Data of a contiguous row view does not alias the buffer")
	}
	// A non-contiguous view: a row-major copy; writes do not reach m.
	col := tensor.Slice(m, 1, 1, 2)
	cd := col.Float32s()
	if !slices.Equal(cd, []float32{1, -5, 9}) {
		t.Errorf("Float32s of a column view = %v", cd)
	}
	cd[0] = 100
	if m.At(0, 1) != 1 {
		t.Errorf("writing the copy of a non-contiguous view changed the tensor")
	}
	tt := m.T().Float32s()
	if !slices.Equal(tt[:4], []float32{0, 4, 80, 1}) {
		t.Errorf("Float32s of the transpose starts %v", tt[:4])
	}

	y := tensor.FromFloat64([]float64{1, 2, 3, 4}, 2, 2)
	yd := y.Float64s()
	yd[3] = 9
	if y.At(1, 1) != 9 {
		t.Errorf("Float64s does not alias a contiguous float64 tensor")
	}
	mustDTypeError(t, "Data", func() { y.Float32s() })
	mustDTypeError(t, "Data", func() { x.Float64s() })

	// Values is always a fresh float64 copy.
	v := y.Values()
	v[0] = 42
	if y.At(0, 0) == 42 {
		t.Errorf("Values aliases the buffer")
	}
}

func TestCloneIndependent(t *testing.T) {
	for _, dt := range dtypes {
		x := randT(1, dt, 3, 4, 5)
		for _, l := range layouts(x) {
			c := l.t.Clone()
			if tensor.SameBuffer(c, l.t) || !c.IsContiguous() {
				t.Errorf("%v %s: Clone shares the buffer or is not contiguous", dt, l.name)
			}
			checkExact(t, "Clone "+l.name, c, valuesAt(x))
			c.Fill(7)
			checkExact(t, "source after writing the clone "+l.name, l.t, valuesAt(x))
		}
	}
}

func TestAsType(t *testing.T) {
	x := randT(2, tensor.Float64, 4, 5)
	if x.AsType(tensor.Float64) != x {
		t.Errorf("AsType to the same dtype should return the tensor itself")
	}
	for _, l := range layouts(x) {
		f := l.t.AsType(tensor.Float32)
		if f.DType() != tensor.Float32 {
			t.Fatalf("dtype %v", f.DType())
		}
		want := valuesAt(x)
		for i := range want {
			want[i] = float64(float32(want[i]))
		}
		checkExact(t, "AsType(float32) "+l.name, f, want)
		// float32 → float64 → float32 is exact.
		checkExact(t, "round trip "+l.name, f.AsType(tensor.Float64).AsType(tensor.Float32), want)
	}
	e := tensor.New(tensor.Float32, 0, 3).AsType(tensor.Float64)
	checkShape(t, "AsType empty", e, []int{0, 3})
}

func TestCopyFromIntoViews(t *testing.T) {
	for _, dt := range dtypes {
		for _, srcDT := range dtypes {
			base := tensor.Full(dt, -1, 4, 5)
			// The transposed 3×2 block base[1:3, 2:5]ᵀ.
			view := tensor.Slice(tensor.Slice(base, 0, 1, 3), 1, 2, 5).T()
			src := tensor.FromValues(srcDT, []float64{1, 2, 3, 4, 5, 6.1}, 3, 2)
			view.CopyFrom(src)
			eachIndex(base.Shape(), func(idx []int) {
				i, j := idx[0], idx[1]
				want := -1.0
				if i >= 1 && i < 3 && j >= 2 {
					want = round(dt, src.At(j-2, i-1))
				}
				if got := base.At(i, j); got != want {
					t.Fatalf("%v←%v: base[%d,%d] = %v, want %v", dt, srcDT, i, j, got, want)
				}
			})
			// From a non-contiguous source.
			dst := tensor.New(dt, 2, 3)
			dst.CopyFrom(src.T())
			checkExact(t, "CopyFrom transposed source", dst, []float64{1, 3, 5, 2, 4, round(dt, round(srcDT, 6.1))})
			mustShapeError(t, "CopyFrom", func() { dst.CopyFrom(src) }, []int{2, 3}, []int{3, 2})
		}
	}
}

// TestCopyFromOverlap copies between views of one buffer: the result must
// be as if src were read completely before t is written.
func TestCopyFromOverlap(t *testing.T) {
	for _, dt := range dtypes {
		for _, tc := range []struct {
			name     string
			dst, src func(x *tensor.Tensor) *tensor.Tensor
		}{
			{"xᵀ ← x", func(x *tensor.Tensor) *tensor.Tensor { return x.T() }, func(x *tensor.Tensor) *tensor.Tensor { return x }},
			{"x ← xᵀ", func(x *tensor.Tensor) *tensor.Tensor { return x }, func(x *tensor.Tensor) *tensor.Tensor { return x.T() }},
			{"rows 0:3 ← rows 1:4", func(x *tensor.Tensor) *tensor.Tensor { return tensor.Slice(x, 0, 0, 3) }, func(x *tensor.Tensor) *tensor.Tensor { return tensor.Slice(x, 0, 1, 4) }},
			{"rows 1:4 ← rows 0:3", func(x *tensor.Tensor) *tensor.Tensor { return tensor.Slice(x, 0, 1, 4) }, func(x *tensor.Tensor) *tensor.Tensor { return tensor.Slice(x, 0, 0, 3) }},
			{"cols 1:4 ← cols 0:3", func(x *tensor.Tensor) *tensor.Tensor { return tensor.Slice(x, 1, 1, 4) }, func(x *tensor.Tensor) *tensor.Tensor { return tensor.Slice(x, 1, 0, 3) }},
		} {
			x := randT(3, dt, 4, 4)
			want := tc.src(x.Clone()).Clone() // src's values before any write
			tc.dst(x).CopyFrom(tc.src(x))
			checkExact(t, fmt.Sprintf("%s %v", tc.name, dt), tc.dst(x), valuesAt(want))
		}
	}
}

func TestFillView(t *testing.T) {
	for _, dt := range dtypes {
		x := tensor.Zeros(dt, 3, 4)
		x.T().Fill(9)
		checkExact(t, "Fill whole transposed", x, []float64{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9})
		x.Fill(0)
		tensor.Slice(x, 1, 1, 3).Fill(2)                            // columns 1, 2
		tensor.Slice(tensor.Slice(x.T(), 0, 3, 4), 1, 0, 2).Fill(3) // x[0:2, 3]
		checkExact(t, "Fill views", x, []float64{0, 2, 2, 3, 0, 2, 2, 3, 0, 2, 2, 0})
		// Broadcast view: every element of the underlying row is written.
		r := tensor.Zeros(dt, 1, 4)
		tensor.BroadcastTo(r, 3, 4).Fill(1.5)
		checkExact(t, "Fill broadcast view", r, []float64{1.5, 1.5, 1.5, 1.5})
	}
}

func TestString(t *testing.T) {
	// Expected strings written by hand from String's contract: numpy-style
	// nested brackets, %g with 6 significant digits, then shape and dtype;
	// more than 8 entries along a dimension show the first and last 3.
	for _, tc := range []struct {
		x    *tensor.Tensor
		want string
	}{
		{tensor.Scalar(tensor.Float32, 1.5), "1.5"},
		{tensor.Scalar(tensor.Float64, 1.0/3), "0.333333"},
		{tensor.FromValues(tensor.Float32, []float64{1, 2.5, -3}), "[1, 2.5, -3] [3] float32"},
		{tensor.FromValues(tensor.Float64, []float64{1, 2, 3, 4, 5, 6}, 2, 3), "[[1, 2, 3], [4, 5, 6]] [2 3] float64"},
		{tensor.FromValues(tensor.Float64, []float64{1, 2, 3, 4, 5, 6}, 2, 3).T(), "[[1, 4], [2, 5], [3, 6]] [3 2] float64"},
		{tensor.Arange(tensor.Float32, 0, 1, 10), "[0, 1, 2, …, 7, 8, 9] [10] float32"},
		{tensor.Reshape(tensor.Arange(tensor.Float32, 0, 1, 36), 9, 4), "[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], …, [24, 25, 26, 27], [28, 29, 30, 31], [32, 33, 34, 35]] [9 4] float32"},
		{tensor.New(tensor.Float32, 0), "[] [0] float32"},
		{tensor.New(tensor.Float64, 2, 0), "[[], []] [2 0] float64"},
		{tensor.FromValues(tensor.Float32, []float64{math.NaN(), math.Inf(-1), 1e-7}), "[NaN, -Inf, 1e-07] [3] float32"},
		{tensor.Scalar(tensor.Float32, 0.1), "0.1"}, // float32 formatting, not 0.100000001
	} {
		if got := tc.x.String(); got != tc.want {
			t.Errorf("String = %q, want %q", got, tc.want)
		}
	}
}

func TestTry(t *testing.T) {
	a, b := tensor.New(tensor.Float32, 2, 3), tensor.New(tensor.Float32, 3, 2)
	err := tensor.Try(func() { tensor.Add(a, b) })
	var se *tensor.ShapeError
	if !errors.As(err, &se) || se.Op != "Add" || !strings.Contains(err.Error(), "[2 3]") || !strings.Contains(err.Error(), "[3 2]") {
		t.Errorf("Try(Add) = %v", err)
	}
	if len(se.Shapes) != 2 || !slices.Equal(se.Shapes[0], []int{2, 3}) {
		t.Errorf("ShapeError.Shapes = %v", se.Shapes)
	}
	err = tensor.Try(func() { tensor.Add(a, tensor.New(tensor.Float64, 2, 3)) })
	var de *tensor.DTypeError
	if !errors.As(err, &de) || de.Op != "Add" || !slices.Equal(de.DTypes, []tensor.DType{tensor.Float32, tensor.Float64}) {
		t.Errorf("Try(mixed Add) = %v", err)
	}
	if err := tensor.Try(func() { tensor.Add(a, a) }); err != nil {
		t.Errorf("Try(valid Add) = %v", err)
	}
	// Other panics are bugs and go through.
	r := mustPanic(t, "Try(other panic)", func() {
		_ = tensor.Try(func() { panic("boom") })
	})
	if r != "boom" {
		t.Errorf("Try let through %v, want boom", r)
	}
	r = mustPanic(t, "Try(index panic)", func() {
		_ = tensor.Try(func() { _ = []int{}[len(a.Shape())] })
	})
	if _, ok := r.(error); !ok {
		t.Errorf("Try let through %T, want a runtime error", r)
	}
}

func TestAllCloseSameBuffer(t *testing.T) {
	a := tensor.FromValues(tensor.Float64, []float64{1, 2, math.NaN()})
	b := tensor.FromValues(tensor.Float64, []float64{1, 2.001, math.NaN()})
	if tensor.AllClose(a, b, 1e-2, 0) {
		t.Errorf("AllClose treats NaN as close")
	}
	a2 := tensor.Slice(a, 0, 0, 2)
	b2 := tensor.Slice(b, 0, 0, 2)
	if !tensor.AllClose(a2, b2, 1e-3, 0) || tensor.AllClose(a2, b2, 1e-4, 0) {
		t.Errorf("AllClose rtol boundary wrong")
	}
	if tensor.AllClose(a2, tensor.Reshape(b2, 2, 1), 1, 1) {
		t.Errorf("AllClose ignores shape")
	}
	if !tensor.SameBuffer(a, a2) || tensor.SameBuffer(a, b) || tensor.SameBuffer(a, a.AsType(tensor.Float32)) {
		t.Errorf("SameBuffer wrong")
	}
}

func TestRandomReproducible(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(seed uint64, dt tensor.DType) *tensor.Tensor
		mean float64
		std  float64
	}{
		{"Uniform", func(s uint64, dt tensor.DType) *tensor.Tensor {
			return tensor.Uniform(tensor.NewRand(s), dt, -1, 3, 200, 250)
		}, 1, 4 / math.Sqrt(12)},
		{"Normal", func(s uint64, dt tensor.DType) *tensor.Tensor {
			return tensor.Normal(tensor.NewRand(s), dt, 2, 3, 200, 250)
		}, 2, 3},
	} {
		a, b := tc.f(7, tensor.Float64), tc.f(7, tensor.Float64)
		checkExact(t, tc.name+" same seed", a, valuesAt(b))
		f := tc.f(7, tensor.Float32)
		want := valuesAt(a)
		for i := range want {
			want[i] = float64(float32(want[i]))
		}
		checkExact(t, tc.name+" float32 = rounded float64", f, want)
		c := tc.f(8, tensor.Float64)
		if tensor.AllClose(a, c, 0, 0.1) {
			t.Errorf("%s: seeds 7 and 8 give close values", tc.name)
		}
		// Moments of 50000 samples: the sample mean's standard error is
		// std/224; allow 5 of them.
		v := a.Values()
		var m, s2 float64
		for _, x := range v {
			m += x
		}
		m /= float64(len(v))
		for _, x := range v {
			s2 += (x - m) * (x - m)
		}
		sd := math.Sqrt(s2 / float64(len(v)-1))
		if math.Abs(m-tc.mean) > 5*tc.std/math.Sqrt(float64(len(v))) || math.Abs(sd-tc.std) > 0.02*tc.std {
			t.Errorf("%s: mean %v std %v, want %v and %v", tc.name, m, sd, tc.mean, tc.std)
		}
		if tc.name == "Uniform" {
			for _, x := range v {
				if x < -1 || x >= 3 {
					t.Fatalf("Uniform value %v outside [-1, 3)", x)
				}
			}
		}
	}
}
