package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// Dropout zeroes each element with probability P during training and
// scales the survivors by 1/(1−P) (inverted dropout), so that the
// expected output equals the input and evaluation needs no rescaling. In
// evaluation mode it is the identity. A new Dropout is in training mode,
// as PyTorch modules are.
type Dropout struct {
	P        float64
	rng      *rand.Rand
	training bool
}

// NewDropout returns a Dropout layer that draws its masks from rng. p must
// be in [0, 1); anything else panics (check values from outside input
// first: NewMLP returns an error instead).
func NewDropout(p float64, rng *rand.Rand) *Dropout {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("nn: NewDropout: probability %v is not in [0, 1)", p))
	}
	return &Dropout{P: p, rng: rng, training: true}
}

// SetTraining switches between training (masks drawn) and evaluation
// (identity).
func (d *Dropout) SetTraining(on bool) { d.training = on }

// Training reports whether d is in training mode.
func (d *Dropout) Training() bool { return d.training }

// Forward returns x in evaluation mode, or when P is 0 (nothing is drawn
// then). In training mode it draws one uniform number from the generator
// per element, in row-major order, and keeps the element, scaled by
// 1/(1−P), where the number is at least P. Any shape.
func (d *Dropout) Forward(x *ag.Node) *ag.Node {
	if !d.training || d.P == 0 {
		return x
	}
	n := x.Value().Len()
	mask := make([]float64, n)
	keep := 1 / (1 - d.P)
	for i := range mask {
		if d.rng.Float64() >= d.P {
			mask[i] = keep
		}
	}
	return ag.Mul(x, ag.Const(tensor.FromValues(x.DType(), mask, x.Shape()...)))
}

// Params is empty.
func (d *Dropout) Params() []Param { return nil }

// Spec describes the layer: {"type":"Dropout","p":…}.
func (d *Dropout) Spec() Spec { return L("Dropout", "p", d.P) }

func (d *Dropout) String() string { return fmt.Sprintf("Dropout(p=%v)", d.P) }
