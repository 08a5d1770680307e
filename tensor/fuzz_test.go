package tensor_test

import (
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// FuzzLayoutRoundTrip builds a tensor of a fuzzed shape, permutes, slices
// and reshapes it, and checks that undoing each step gives the original
// values back:
//
//	Permute(Permute(x, p), p⁻¹) = x
//	Reshape(Reshape(Permute(x, p), −1), shape of Permute(x, p)) = Permute(x, p)
//	Concat(Slice(y, a, 0, s), Slice(y, a, s, n)) = y   for any view y
//	Slice(PadSlice(z, …)) = z
func FuzzLayoutRoundTrip(f *testing.F) {
	f.Add([]byte{2, 3, 4}, uint8(5), uint8(1), uint8(2))
	f.Add([]byte{1, 0, 3}, uint8(0), uint8(0), uint8(0))
	f.Add([]byte{5}, uint8(1), uint8(0), uint8(3))
	f.Add([]byte{2, 1, 3, 2}, uint8(17), uint8(3), uint8(1))
	f.Fuzz(func(t *testing.T, dims []byte, permSeed, axisSeed, cut uint8) {
		if len(dims) == 0 || len(dims) > 4 {
			return
		}
		shape := make([]int, len(dims))
		for i, d := range dims {
			shape[i] = int(d % 6)
		}
		nd := len(shape)
		x := tensor.Arange(tensor.Float64, 1, 1, numel(shape))
		x = tensor.Reshape(x, shape...)

		// A permutation from the seed (Lehmer code).
		perm := make([]int, 0, nd)
		left := make([]int, nd)
		for i := range left {
			left[i] = i
		}
		s := int(permSeed)
		for len(left) > 0 {
			k := s % len(left)
			s /= len(left)
			perm = append(perm, left[k])
			left = append(left[:k], left[k+1:]...)
		}
		inv := make([]int, nd)
		for i, p := range perm {
			inv[p] = i
		}
		p := tensor.Permute(x, perm...)
		checkExact(t, "Permute round trip", tensor.Permute(p, inv...), valuesAt(x))

		flat := tensor.Reshape(p, -1)
		checkExact(t, "Reshape flat", flat, valuesAt(p))
		back := tensor.Reshape(flat, p.Shape()...)
		checkExact(t, "Reshape back", tensor.Permute(back, inv...), valuesAt(x))

		a := int(axisSeed) % nd
		n := p.Dim(a)
		c := 0
		if n > 0 {
			c = int(cut) % (n + 1)
		}
		lo, hi := tensor.Slice(p, a, 0, c), tensor.Slice(p, a, c, n)
		checkExact(t, "Concat of slices", tensor.Concat(a, lo, hi), valuesAt(p))
		padded := tensor.PadSlice(hi, p.Shape(), a, c)
		checkExact(t, "Slice of PadSlice", tensor.Slice(padded, a, c, n), valuesAt(hi))
		checkExact(t, "PadSlice zeros", tensor.Slice(padded, a, 0, c), make([]float64, lo.Len()))
	})
}
