package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/nabla-go/nabla/tensor"
)

// builder accumulates 2-D points and their labels.
type builder struct {
	x []float32
	y []int
}

func (b *builder) add(x0, x1 float64, c int) {
	b.x = append(b.x, float32(x0), float32(x1))
	b.y = append(b.y, c)
}

func (b *builder) done(name string, classes int) *InMemory {
	return &InMemory{X: tensor.FromFloat32(b.x, len(b.y), 2), Y: b.y, NumClasses: classes, Name: name}
}

// linspace returns the i-th of n evenly spaced values from lo to hi
// inclusive, as numpy.linspace does (lo alone when n is 1).
func linspace(lo, hi float64, i, n int) float64 {
	if n <= 1 {
		return lo
	}
	return lo + (hi-lo)*float64(i)/float64(n-1)
}

func checkArgs(fn string, n int, noise float64, rng *rand.Rand) {
	if n < 0 {
		panic(fmt.Sprintf("data.%s: negative count %d", fn, n))
	}
	if noise < 0 || math.IsNaN(noise) {
		panic(fmt.Sprintf("data.%s: noise %v is not ≥ 0", fn, noise))
	}
	if rng == nil {
		panic(fmt.Sprintf("data.%s: nil rng", fn))
	}
}

// Spiral returns the CS231n spiral: classes interleaved arms of n points
// each in the plane. Point i of class j lies at radius r = i/(n-1) and
// angle t = 4j + 4r radians plus Gaussian noise of standard deviation noise
// (CS231n uses 0.2), at (r sin t, r cos t). The noise moves points along
// the arm's circle only, so every radius is exact. Points are ordered by
// class.
func Spiral(n, classes int, noise float64, rng *rand.Rand) *InMemory {
	checkArgs("Spiral", n, noise, rng)
	if classes < 1 {
		panic(fmt.Sprintf("data.Spiral: %d classes", classes))
	}
	var b builder
	for j := range classes {
		for i := range n {
			r := linspace(0, 1, i, n)
			t := linspace(float64(j)*4, float64(j+1)*4, i, n) + rng.NormFloat64()*noise
			b.add(r*math.Sin(t), r*math.Cos(t), j)
		}
	}
	return b.done("spiral", classes)
}

// Moons returns scikit-learn's two interleaving half circles: n points in
// all, the first n/2 (rounded down) on the upper unit half circle (class 0)
// and the rest on the lower one shifted to (1, -0.5) (class 1), each
// coordinate then moved by Gaussian noise of standard deviation noise.
// Points are ordered by class.
func Moons(n int, noise float64, rng *rand.Rand) *InMemory {
	checkArgs("Moons", n, noise, rng)
	nOut := n / 2
	nIn := n - nOut
	var b builder
	for i := range nOut {
		t := linspace(0, math.Pi, i, nOut)
		b.add(math.Cos(t)+noise*rng.NormFloat64(), math.Sin(t)+noise*rng.NormFloat64(), 0)
	}
	for i := range nIn {
		t := linspace(0, math.Pi, i, nIn)
		b.add(1-math.Cos(t)+noise*rng.NormFloat64(), 0.5-math.Sin(t)+noise*rng.NormFloat64(), 1)
	}
	return b.done("moons", 2)
}

// Circles returns scikit-learn's two concentric circles: n points in all,
// the first n/2 (rounded down) evenly spaced on the unit circle (class 0)
// and the rest on the circle of radius factor (class 1), each coordinate
// then moved by Gaussian noise of standard deviation noise. factor must be
// in [0, 1). Points are ordered by class.
func Circles(n int, noise, factor float64, rng *rand.Rand) *InMemory {
	checkArgs("Circles", n, noise, rng)
	if !(factor >= 0 && factor < 1) {
		panic(fmt.Sprintf("data.Circles: factor %v is not in [0, 1)", factor))
	}
	nOut := n / 2
	nIn := n - nOut
	var b builder
	ring := func(m int, radius float64, c int) {
		for i := range m {
			t := 2 * math.Pi * float64(i) / float64(m)
			b.add(radius*math.Cos(t)+noise*rng.NormFloat64(), radius*math.Sin(t)+noise*rng.NormFloat64(), c)
		}
	}
	ring(nOut, 1, 0)
	ring(nIn, factor, 1)
	return b.done("circles", 2)
}

// XOR returns n points of the XOR problem: point i is drawn uniformly from
// quadrant i mod 4 of the square (-1, 1)², so the quadrants (and the two
// classes) are balanced, and labelled 1 when its coordinates have opposite
// signs, 0 otherwise. Gaussian noise of standard deviation noise is added
// to each coordinate after labelling, so with noise > 0 a few points cross
// the axes.
func XOR(n int, noise float64, rng *rand.Rand) *InMemory {
	checkArgs("XOR", n, noise, rng)
	signs := [4][2]float64{{1, 1}, {-1, 1}, {-1, -1}, {1, -1}}
	var b builder
	for i := range n {
		s := signs[i%4]
		c := 0
		if s[0] != s[1] {
			c = 1
		}
		b.add(s[0]*rng.Float64()+noise*rng.NormFloat64(), s[1]*rng.Float64()+noise*rng.NormFloat64(), c)
	}
	return b.done("xor", 2)
}

// Blobs returns n points in all from classes isotropic Gaussian blobs of
// standard deviation std, point i belonging to class i mod classes (so the
// classes are balanced to within one point). The blob centres are evenly
// spaced on the circle of radius 3 about the origin, class 0 at (3, 0).
func Blobs(n, classes int, std float64, rng *rand.Rand) *InMemory {
	checkArgs("Blobs", n, std, rng)
	if classes < 1 {
		panic(fmt.Sprintf("data.Blobs: %d classes", classes))
	}
	var b builder
	for i := range n {
		c := i % classes
		a := 2 * math.Pi * float64(c) / float64(classes)
		b.add(BlobRadius*math.Cos(a)+std*rng.NormFloat64(), BlobRadius*math.Sin(a)+std*rng.NormFloat64(), c)
	}
	return b.done("blobs", classes)
}

// BlobRadius is the distance of every Blobs centre from the origin.
const BlobRadius = 3.0

// SpiralPerClass is the number of points per arm of Synthetic("spiral").
const SpiralPerClass = 300

// synthetic lists the data sets Synthetic knows, with their defaults.
var synthetic = map[string]func(rng *rand.Rand) *InMemory{
	"spiral":  func(rng *rand.Rand) *InMemory { return Spiral(SpiralPerClass, 3, 0.2, rng) },
	"moons":   func(rng *rand.Rand) *InMemory { return Moons(1000, 0.1, rng) },
	"circles": func(rng *rand.Rand) *InMemory { return Circles(1000, 0.05, 0.5, rng) },
	"xor":     func(rng *rand.Rand) *InMemory { return XOR(1000, 0.1, rng) },
	"blobs":   func(rng *rand.Rand) *InMemory { return Blobs(1000, 4, 0.8, rng) },
}

// SyntheticNames returns the names Synthetic accepts, sorted.
func SyntheticNames() []string {
	names := make([]string, 0, len(synthetic))
	for k := range synthetic {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Synthetic returns the named toy data set with its default size and noise:
//
//	spiral   Spiral(300, 3, 0.2): 3 arms of 300 points (the CS231n spiral)
//	moons    Moons(1000, 0.1)
//	circles  Circles(1000, 0.05, 0.5)
//	xor      XOR(1000, 0.1)
//	blobs    Blobs(1000, 4, 0.8): 4 classes
//
// Every set is 2-D. An unknown name is an error that lists the known ones.
func Synthetic(name string, rng *rand.Rand) (*InMemory, error) {
	f, ok := synthetic[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("data: unknown synthetic data set %q (known: %s)", name, strings.Join(SyntheticNames(), ", "))
	}
	return f(rng), nil
}
