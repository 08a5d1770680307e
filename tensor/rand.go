package tensor

import "math/rand/v2"

// Uniform returns a tensor of values drawn uniformly from [lo, hi) with
// rng. The same generator state gives the same values, for both dtypes.
func Uniform(rng *rand.Rand, dt DType, lo, hi float64, shape ...int) *Tensor {
	t := New(dt, shape...)
	switch d := t.data.(type) {
	case []float32:
		for i := range d {
			d[i] = float32(lo + (hi-lo)*rng.Float64())
		}
	case []float64:
		for i := range d {
			d[i] = lo + (hi-lo)*rng.Float64()
		}
	}
	return t
}

// Normal returns a tensor of values drawn from the normal distribution with
// the given mean and standard deviation.
func Normal(rng *rand.Rand, dt DType, mean, std float64, shape ...int) *Tensor {
	t := New(dt, shape...)
	switch d := t.data.(type) {
	case []float32:
		for i := range d {
			d[i] = float32(mean + std*rng.NormFloat64())
		}
	case []float64:
		for i := range d {
			d[i] = mean + std*rng.NormFloat64()
		}
	}
	return t
}

// NewRand returns a PCG generator seeded with seed, the kind every random
// function in nabla takes. To save and restore a generator's state, build
// it from a *rand.PCG you keep (PCG has MarshalBinary).
func NewRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
