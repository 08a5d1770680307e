package train

import (
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// Dead units are the columns of a 2-D output and the channels of a
// [B, C, H, W] one: a channel is dead only when every position of every
// example is 0.
func TestDeadFractionPerChannel(t *testing.T) {
	// [B=2, C=3, H=1, W=2]: channel 0 all zero, channel 1 one non-zero
	// value, channel 2 all non-zero.
	x := tensor.FromFloat64([]float64{
		0, 0, 0, 5, 1, 2,
		0, 0, 0, 0, 3, 4,
	}, 2, 3, 1, 2)
	dead, zero := deadFraction(x.Values(), x.Shape())
	if dead != 1.0/3 || zero != 7.0/12 {
		t.Errorf("4-D: dead %v zero %v, want 1/3 and 7/12", dead, zero)
	}
	// [B=4, 3]: units are columns; column 0 is 0 for every example.
	y := tensor.FromFloat64([]float64{
		0, 0, 1,
		0, 5, 2,
		0, 0, 3,
		0, 0, 4,
	}, 4, 3)
	if dead, _ := deadFraction(y.Values(), y.Shape()); dead != 1.0/3 {
		t.Errorf("2-D: dead %v, want 1/3", dead)
	}
}
