package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/nabla-go/nabla/tensor"
)

// initSchemes lists the schemes Init knows, in the order InitNames returns
// them.
var initSchemes = []string{"default", "xavier-uniform", "xavier-normal", "he-uniform", "he-normal"}

// InitNames lists the schemes Init accepts.
func InitNames() []string { return append([]string{}, initSchemes...) }

// Init fills weight, and bias when it is not nil, in place with values
// drawn from rng by the named scheme. weight is [out, in] (or, for more
// dimensions, [out, in, k…], whose fans include the receptive field as in
// torch.nn.init); fan_in is in·k…, fan_out out·k….
//
//	default         weight and bias U(−1/√fan_in, 1/√fan_in): PyTorch's
//	                nn.Linear, i.e. kaiming_uniform(a=√5)
//	xavier-uniform  weight U(−a, a), a = √(6/(fan_in+fan_out)); bias 0
//	xavier-normal   weight N(0, 2/(fan_in+fan_out)); bias 0
//	he-uniform      weight U(−a, a), a = √(6/fan_in) (kaiming_uniform with
//	                the ReLU gain √2, fan_in mode); bias 0
//	he-normal       weight N(0, 2/fan_in); bias 0
//
// The weight is drawn first, then (default scheme) the bias, element by
// element in row-major order; the same generator state gives the same
// values. An unknown scheme is an error that lists the valid ones, and
// draws nothing. A weight of fewer than 2 dimensions panics.
func Init(weight, bias *tensor.Tensor, scheme string, rng *rand.Rand) error {
	if err := checkScheme(scheme); err != nil {
		return err
	}
	sh := weight.Shape()
	if len(sh) < 2 {
		panic(&tensor.ShapeError{Op: "Init", Shapes: [][]int{sh}, Msg: "weight needs at least 2 dimensions [out, in, ...]"})
	}
	field := 1
	for _, k := range sh[2:] {
		field *= k
	}
	fanIn, fanOut := float64(sh[1]*field), float64(sh[0]*field)
	dt := weight.DType()
	var w *tensor.Tensor
	switch scheme {
	case "default":
		a := 1 / math.Sqrt(fanIn)
		w = tensor.Uniform(rng, dt, -a, a, sh...)
	case "xavier-uniform":
		a := math.Sqrt(6 / (fanIn + fanOut))
		w = tensor.Uniform(rng, dt, -a, a, sh...)
	case "xavier-normal":
		w = tensor.Normal(rng, dt, 0, math.Sqrt(2/(fanIn+fanOut)), sh...)
	case "he-uniform":
		a := math.Sqrt(6 / fanIn)
		w = tensor.Uniform(rng, dt, -a, a, sh...)
	case "he-normal":
		w = tensor.Normal(rng, dt, 0, math.Sqrt(2/fanIn), sh...)
	}
	weight.CopyFrom(w)
	if bias == nil {
		return nil
	}
	if scheme == "default" {
		a := 1 / math.Sqrt(fanIn)
		bias.CopyFrom(tensor.Uniform(rng, bias.DType(), -a, a, bias.Shape()...))
	} else {
		bias.Fill(0)
	}
	return nil
}

func checkScheme(scheme string) error {
	for _, s := range initSchemes {
		if s == scheme {
			return nil
		}
	}
	return fmt.Errorf("nn: unknown init scheme %q (valid: %s)", scheme, strings.Join(initSchemes, ", "))
}
