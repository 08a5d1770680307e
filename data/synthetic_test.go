package data

import (
	"math"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}

func TestSyntheticShapesAndBalance(t *testing.T) {
	rng := tensor.NewRand(1)
	for _, tc := range []struct {
		ds      *InMemory
		name    string
		classes int
		counts  []int
	}{
		{Spiral(50, 3, 0.2, rng), "spiral", 3, []int{50, 50, 50}},
		{Spiral(7, 5, 0, rng), "spiral", 5, []int{7, 7, 7, 7, 7}},
		{Moons(101, 0.1, rng), "moons", 2, []int{50, 51}},
		{Circles(100, 0.05, 0.5, rng), "circles", 2, []int{50, 50}},
		{XOR(103, 0.1, rng), "xor", 2, []int{52, 51}},
		{Blobs(103, 4, 0.5, rng), "blobs", 4, []int{26, 26, 26, 25}},
		{Spiral(0, 3, 0.2, rng), "spiral", 3, []int{0, 0, 0}},
	} {
		ds := tc.ds
		if err := ds.Validate(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		n := 0
		for _, c := range tc.counts {
			n += c
		}
		if ds.Name != tc.name || ds.Len() != n || ds.Features() != 2 || ds.Classes() != tc.classes {
			t.Errorf("%s: got name %q len %d features %d classes %d, want %d×2, %d classes",
				tc.name, ds.Name, ds.Len(), ds.Features(), ds.Classes(), n, tc.classes)
		}
		if got := ds.X.Shape(); len(got) != 2 || got[0] != n || got[1] != 2 || ds.X.DType() != tensor.Float32 || !ds.X.IsContiguous() {
			t.Errorf("%s: X is %v %v", tc.name, ds.X.DType(), got)
		}
		if got := ds.ClassCounts(); !equalInts(got, tc.counts) {
			t.Errorf("%s: class counts %v, want %v", tc.name, got, tc.counts)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSyntheticSeeded(t *testing.T) {
	for _, name := range SyntheticNames() {
		a, err := Synthetic(name, tensor.NewRand(7))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Synthetic(name, tensor.NewRand(7))
		c, _ := Synthetic(name, tensor.NewRand(8))
		xa, xb, xc := a.X.Float32s(), b.X.Float32s(), c.X.Float32s()
		same, differ := len(xa) == len(xb), false
		for i := range xa {
			if math.Float32bits(xa[i]) != math.Float32bits(xb[i]) {
				same = false
			}
			if xa[i] != xc[i] {
				differ = true
			}
		}
		if !same || !equalInts(a.Y, b.Y) {
			t.Errorf("%s: same seed, different data", name)
		}
		if !differ {
			t.Errorf("%s: seeds 7 and 8 gave the same points", name)
		}
		if a.Name != name || a.Len() == 0 {
			t.Errorf("%s: name %q, %d points", name, a.Name, a.Len())
		}
	}
	sp, _ := Synthetic("spiral", tensor.NewRand(1))
	if sp.Len() != 3*SpiralPerClass || sp.Classes() != 3 {
		t.Errorf("spiral default: %d points, %d classes", sp.Len(), sp.Classes())
	}
}

func TestSyntheticUnknown(t *testing.T) {
	_, err := Synthetic("swissroll", tensor.NewRand(1))
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range append(SyntheticNames(), "swissroll") {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not mention %q", err, name)
		}
	}
	if ds, err := Synthetic("Moons", tensor.NewRand(1)); err != nil || ds.Name != "moons" {
		t.Errorf("Synthetic is case-insensitive: %v", err)
	}
}

// angleDiff returns a-b wrapped to (-π, π].
func angleDiff(a, b float64) float64 {
	d := math.Mod(a-b, 2*math.Pi)
	if d > math.Pi {
		d -= 2 * math.Pi
	} else if d <= -math.Pi {
		d += 2 * math.Pi
	}
	return d
}

func TestSpiralGeometry(t *testing.T) {
	const n, k = 400, 3
	for _, noise := range []float64{0, 0.2} {
		ds := Spiral(n, k, noise, tensor.NewRand(3))
		v := ds.X.Values()
		var absDev float64
		for j := range k {
			for i := range n {
				p := j*n + i
				x0, x1 := v[2*p], v[2*p+1]
				r := float64(i) / (n - 1)
				if ds.Y[p] != j {
					t.Fatalf("point %d has label %d, want %d", p, ds.Y[p], j)
				}
				// The noise is in the angle only: every radius is exact.
				if got := math.Hypot(x0, x1); math.Abs(got-r) > 1e-6 {
					t.Fatalf("noise %v: point %d of class %d at radius %v, want %v", noise, i, j, got, r)
				}
				if i == 0 {
					continue // the origin has no angle
				}
				// (r sin t, r cos t): t is measured from the x1 axis.
				d := angleDiff(math.Atan2(x0, x1), 4*float64(j)+4*r)
				if noise == 0 && math.Abs(d) > 1e-5 {
					t.Fatalf("point %d of class %d: angle off by %v", i, j, d)
				}
				absDev += math.Abs(d)
			}
		}
		// E|N(0, σ²)| = σ·√(2/π).
		mean := absDev / float64(k*(n-1))
		if want := noise * math.Sqrt(2/math.Pi); math.Abs(mean-want) > 0.1*want+1e-6 {
			t.Errorf("noise %v: mean |angle deviation| %.4f, want about %.4f", noise, mean, want)
		}
	}
}

func TestMoonsCirclesXORBlobsGeometry(t *testing.T) {
	rng := tensor.NewRand(4)
	check := func(name string, ds *InMemory, ok func(x0, x1 float64, c int) bool) {
		t.Helper()
		v := ds.X.Values()
		for i, c := range ds.Y {
			if !ok(v[2*i], v[2*i+1], c) {
				t.Errorf("%s: point %d (%v, %v) of class %d is off its curve", name, i, v[2*i], v[2*i+1], c)
				return
			}
		}
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-5 }
	check("moons", Moons(60, 0, rng), func(x0, x1 float64, c int) bool {
		if c == 0 {
			return near(math.Hypot(x0, x1), 1) && x1 >= -1e-6
		}
		return near(math.Hypot(x0-1, x1-0.5), 1) && x1 <= 0.5+1e-6
	})
	check("circles", Circles(60, 0, 0.3, rng), func(x0, x1 float64, c int) bool {
		return near(math.Hypot(x0, x1), []float64{1, 0.3}[c])
	})
	check("xor", XOR(200, 0, rng), func(x0, x1 float64, c int) bool {
		return math.Abs(x0) < 1 && math.Abs(x1) < 1 && (x0*x1 < 0) == (c == 1)
	})
	const classes = 5
	ds := Blobs(5000, classes, 0.3, rng)
	v := ds.X.Values()
	sum := make([][2]float64, classes)
	for i, c := range ds.Y {
		sum[c][0] += v[2*i]
		sum[c][1] += v[2*i+1]
	}
	for c, cnt := range ds.ClassCounts() {
		a := 2 * math.Pi * float64(c) / classes
		mx, my := sum[c][0]/float64(cnt), sum[c][1]/float64(cnt)
		if math.Hypot(mx-BlobRadius*math.Cos(a), my-BlobRadius*math.Sin(a)) > 0.05 {
			t.Errorf("blob %d centred at (%.3f, %.3f)", c, mx, my)
		}
	}
}

func TestSyntheticPanics(t *testing.T) {
	rng := tensor.NewRand(1)
	mustPanic(t, "negative n", func() { Spiral(-1, 3, 0, rng) })
	mustPanic(t, "no classes", func() { Spiral(10, 0, 0, rng) })
	mustPanic(t, "nil rng", func() { Moons(10, 0, nil) })
	mustPanic(t, "negative noise", func() { XOR(10, -1, rng) })
	mustPanic(t, "factor 1", func() { Circles(10, 0, 1, rng) })
	mustPanic(t, "blobs classes", func() { Blobs(10, 0, 1, rng) })
}
