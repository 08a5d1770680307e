package data

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nabla-go/nabla/tensor"
)

// Split shuffles ds with rng and returns two new data sets: val with
// round(valFraction·N) examples and train with the rest. The same rng state
// gives the same split. It panics unless 0 ≤ valFraction ≤ 1.
func Split(ds *InMemory, valFraction float64, rng *rand.Rand) (train, val *InMemory) {
	if !(valFraction >= 0 && valFraction <= 1) {
		panic(fmt.Sprintf("data.Split: validation fraction %v is not in [0, 1]", valFraction))
	}
	n := ds.Len()
	perm := rng.Perm(n)
	nVal := int(math.Round(valFraction * float64(n)))
	train = ds.Subset(perm[nVal:])
	val = ds.Subset(perm[:nVal])
	train.Name, val.Name = ds.Name+"/train", ds.Name+"/val"
	return train, val
}

// Normalizer standardises each feature: x' = (x - Mean[j]) / Std[j]. Fit it
// on the training set and apply the same one to every split.
type Normalizer struct {
	Mean, Std []float64
}

// FitNormalizer returns the per-feature mean and population standard
// deviation of ds, computed in float64. A feature whose standard deviation
// is 0 (constant, or ds has fewer than two examples) gets Std 1, so Apply
// only centres it.
func FitNormalizer(ds *InMemory) Normalizer {
	n, D := ds.Len(), ds.Features()
	mean := make([]float64, D)
	std := make([]float64, D)
	if n == 0 || D == 0 {
		for j := range std {
			std[j] = 1
		}
		return Normalizer{Mean: mean, Std: std}
	}
	eachValue(ds, func(k int, v float64) { mean[k%D] += v })
	for j := range mean {
		mean[j] /= float64(n)
	}
	eachValue(ds, func(k int, v float64) {
		d := v - mean[k%D]
		std[k%D] += d * d
	})
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(n))
		if std[j] == 0 || math.IsNaN(std[j]) || math.IsInf(std[j], 0) {
			std[j] = 1
		}
	}
	return Normalizer{Mean: mean, Std: std}
}

// Apply returns a new data set with ds's features standardised (float32)
// and a copy of its labels. It panics if the normaliser's width differs
// from ds.Features().
func (nz Normalizer) Apply(ds *InMemory) *InMemory {
	n, D := ds.Len(), ds.Features()
	if len(nz.Mean) != D || len(nz.Std) != D {
		panic(fmt.Sprintf("data.Normalizer.Apply: normaliser has %d/%d features, data set %q has %d", len(nz.Mean), len(nz.Std), ds.Name, D))
	}
	if k := ds.numValues(); n > 0 && k != n*D {
		panic(fmt.Sprintf("data.Normalizer.Apply: %q holds %d values for %d labels of %d features", ds.Name, k, n, D))
	}
	out := make([]float32, n*D)
	if n > 0 && D > 0 {
		eachValue(ds, func(k int, v float64) {
			j := k % D
			out[k] = float32((v - nz.Mean[j]) / nz.Std[j])
		})
	}
	return &InMemory{
		X:            tensor.FromFloat32(out, n, D),
		Y:            append([]int(nil), ds.Y...),
		NumClasses:   ds.NumClasses,
		Name:         ds.Name,
		ExampleShape: ds.ExampleShape,
	}
}

// eachValue calls f with the flat row-major index and value of every
// element of ds's examples (X, or Bytes through their table), without
// converting them all to float64 at once.
func eachValue(ds *InMemory, f func(k int, v float64)) {
	switch x := ds.X; {
	case x == nil:
		tab := ds.byteTable()
		for k, b := range ds.Bytes {
			f(k, float64(tab[b]))
		}
	case x.DType() == tensor.Float64:
		for k, v := range x.Float64s() {
			f(k, v)
		}
	default:
		for k, v := range x.Float32s() {
			f(k, float64(v))
		}
	}
}
