package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// argMaxRows, which counts the correct predictions of every step and of
// Evaluate, picks what tensor.ArgMax(logits, 1) picks: the first of equal
// maxima, the first NaN of a row holding one, −Inf rows, in both dtypes.
func TestArgMaxRowsLikeArgMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, 1, 1, -1}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, C := range []int{1, 2, 3, 10} {
			const B = 200
			v := make([]float64, B*C)
			for i := range v {
				if rng.IntN(3) == 0 {
					v[i] = specials[rng.IntN(len(specials))]
				} else {
					v[i] = float64(rng.IntN(4)) // many ties
				}
			}
			logits := tensor.FromValues(dt, v, B, C)
			want := tensor.ArgMax(logits, 1)
			if got := argMaxRows(nil, logits); !slices.Equal(got, want) {
				t.Fatalf("%v, %d classes: %v, want %v", dt, C, got, want)
			}
			// A strided view goes through ArgMax itself.
			if got := argMaxRows(nil, logits.T().T()); !slices.Equal(got, want) {
				t.Fatalf("%v, %d classes, view: %v, want %v", dt, C, got, want)
			}
		}
	}
}
