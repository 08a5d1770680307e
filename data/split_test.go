package data

import (
	"math"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// indexSet returns a data set whose example i is the row (i, -i) with label
// i mod classes, so that a batch tells which examples it holds.
func indexSet(n, classes int) *InMemory {
	x := make([]float32, 2*n)
	y := make([]int, n)
	for i := range n {
		x[2*i], x[2*i+1] = float32(i), float32(-i)
		y[i] = i % classes
	}
	return &InMemory{X: tensor.FromFloat32(x, n, 2), Y: y, NumClasses: classes, Name: "index"}
}

// indices reads back the example indices of a batch of an indexSet.
func indices(t *testing.T, x *tensor.Tensor, y []int, classes int) []int {
	t.Helper()
	v := x.Float32s()
	out := make([]int, len(y))
	for r := range y {
		i := int(v[2*r])
		if v[2*r+1] != float32(-i) || y[r] != i%classes {
			t.Fatalf("batch row %d is (%v, %v) label %d: rows and labels out of step", r, v[2*r], v[2*r+1], y[r])
		}
		out[r] = i
	}
	return out
}

func TestBatch(t *testing.T) {
	ds := indexSet(10, 3)
	x, y := ds.Batch([]int{4, 0, 9, 4})
	if got := x.Shape(); !equalInts(got, []int{4, 2}) || x.DType() != tensor.Float32 {
		t.Fatalf("batch shape %v %v", got, x.DType())
	}
	if got := indices(t, x, y, 3); !equalInts(got, []int{4, 0, 9, 4}) {
		t.Errorf("batch holds %v", got)
	}
	x.Set(100, 0, 0) // a batch is a copy
	if ds.X.At(4, 0) != 4 {
		t.Error("writing a batch changed the data set")
	}
	if x, y := ds.Batch(nil); !equalInts(x.Shape(), []int{0, 2}) || len(y) != 0 {
		t.Errorf("empty batch: %v %v", x.Shape(), y)
	}
	// A float64 X is converted.
	d64 := &InMemory{X: ds.X.AsType(tensor.Float64), Y: ds.Y, NumClasses: 3}
	x64, y64 := d64.Batch([]int{2, 7})
	if x64.DType() != tensor.Float32 || !equalInts(indices(t, x64, y64, 3), []int{2, 7}) {
		t.Error("float64 X")
	}
	mustPanic(t, "index 10", func() { ds.Batch([]int{10}) })
	mustPanic(t, "index -1", func() { ds.Batch([]int{-1}) })
}

func TestValidate(t *testing.T) {
	good := indexSet(6, 3)
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, ds := range map[string]*InMemory{
		"no X":       {Y: []int{0}, NumClasses: 1},
		"1-D X":      {X: tensor.New(tensor.Float32, 3), Y: []int{0, 0, 0}, NumClasses: 1},
		"rows":       {X: tensor.New(tensor.Float32, 3, 2), Y: []int{0, 0}, NumClasses: 1},
		"no classes": {X: tensor.New(tensor.Float32, 1, 2), Y: []int{0}},
		"label":      {X: tensor.New(tensor.Float32, 1, 2), Y: []int{3}, NumClasses: 3},
	} {
		if ds.Validate() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSplit(t *testing.T) {
	ds := indexSet(101, 4)
	tr, va := Split(ds, 0.2, tensor.NewRand(5))
	if tr.Len() != 81 || va.Len() != 20 {
		t.Fatalf("split sizes %d/%d", tr.Len(), va.Len())
	}
	if tr.Name != "index/train" || va.Name != "index/val" || tr.Classes() != 4 || va.Classes() != 4 {
		t.Errorf("names %q %q classes %d %d", tr.Name, va.Name, tr.Classes(), va.Classes())
	}
	all := append(indices(t, tr.X, tr.Y, 4), indices(t, va.X, va.Y, 4)...)
	if slices.IsSorted(all) {
		t.Error("split is not shuffled")
	}
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("split lost or repeated examples: %v", all)
		}
	}
	tr2, va2 := Split(ds, 0.2, tensor.NewRand(5))
	if !equalInts(indices(t, tr2.X, tr2.Y, 4), indices(t, tr.X, tr.Y, 4)) || !equalInts(va2.Y, va.Y) {
		t.Error("same seed, different split")
	}
	_, va3 := Split(ds, 0.2, tensor.NewRand(6))
	if equalInts(indices(t, va3.X, va3.Y, 4), indices(t, va.X, va.Y, 4)) {
		t.Error("different seeds, same split")
	}
	if tr, va := Split(ds, 0, tensor.NewRand(1)); tr.Len() != 101 || va.Len() != 0 {
		t.Error("fraction 0")
	}
	if tr, va := Split(ds, 1, tensor.NewRand(1)); tr.Len() != 0 || va.Len() != 101 {
		t.Error("fraction 1")
	}
	mustPanic(t, "fraction 1.5", func() { Split(ds, 1.5, tensor.NewRand(1)) })
	mustPanic(t, "fraction NaN", func() { Split(ds, math.NaN(), tensor.NewRand(1)) })
}

func TestNormalizer(t *testing.T) {
	// Column 0: 1, 2, 3, 6 (mean 3, population std √3.5); column 1 constant.
	x := tensor.FromFloat32([]float32{1, 5, 2, 5, 3, 5, 6, 5}, 4, 2)
	ds := &InMemory{X: x, Y: []int{0, 1, 0, 1}, NumClasses: 2, Name: "n"}
	nz := FitNormalizer(ds)
	if math.Abs(nz.Mean[0]-3) > 1e-12 || math.Abs(nz.Std[0]-math.Sqrt(3.5)) > 1e-12 {
		t.Errorf("column 0: mean %v std %v", nz.Mean[0], nz.Std[0])
	}
	if nz.Mean[1] != 5 || nz.Std[1] != 1 {
		t.Errorf("constant column: mean %v std %v, want 5 and 1", nz.Mean[1], nz.Std[1])
	}
	out := nz.Apply(ds)
	if out == ds || sameData(out, ds) {
		t.Error("Apply did not copy")
	}
	v := out.X.Values()
	want := []float64{-2 / math.Sqrt(3.5), 0, -1 / math.Sqrt(3.5), 0, 0, 0, 3 / math.Sqrt(3.5), 0}
	for i := range want {
		if math.Abs(v[i]-want[i]) > 1e-6 {
			t.Fatalf("normalised %v, want %v", v, want)
		}
	}
	if ds.X.At(0, 0) != 1 {
		t.Error("Apply changed its input")
	}
	// Fitting the output gives mean 0 and std 1 (the constant column: std 1
	// by the rule).
	again := FitNormalizer(out)
	for j := range 2 {
		if math.Abs(again.Mean[j]) > 1e-6 || math.Abs(again.Std[j]-1) > 1e-6 {
			t.Errorf("column %d after Apply: mean %v std %v", j, again.Mean[j], again.Std[j])
		}
	}
	// A float64 X gives the same normaliser.
	nz64 := FitNormalizer(&InMemory{X: x.AsType(tensor.Float64), Y: ds.Y, NumClasses: 2})
	if nz64.Mean[0] != nz.Mean[0] || nz64.Std[0] != nz.Std[0] {
		t.Error("float64 X")
	}
	empty := FitNormalizer(&InMemory{X: tensor.New(tensor.Float32, 0, 3), NumClasses: 1})
	if !slices.Equal(empty.Std, []float64{1, 1, 1}) || !slices.Equal(empty.Mean, []float64{0, 0, 0}) {
		t.Errorf("empty: %+v", empty)
	}
	mustPanic(t, "width 3", func() {
		nz.Apply(&InMemory{X: tensor.New(tensor.Float32, 2, 3), Y: []int{0, 0}, NumClasses: 1})
	})
}

// sameData reports whether two data sets share X's buffer.
func sameData(a, b *InMemory) bool { return tensor.SameBuffer(a.X, b.X) }
