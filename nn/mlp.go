package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nabla-go/nabla/tensor"
)

// MLPConfig describes a multilayer perceptron. The zero values of
// Activation and Init mean "relu" and "default", and that of DType
// float32.
type MLPConfig struct {
	In         int          // input features
	Hidden     []int        // widths of the hidden layers, in order (none: a linear classifier)
	Out        int          // outputs (classes)
	Activation string       // a name from ActivationNames
	Dropout    float64      // dropout probability after each hidden activation, in [0, 1); 0: no Dropout layers
	Init       string       // a name from InitNames
	DType      tensor.DType // of the parameters
	// Flatten puts a Flatten layer first, for inputs with more than one
	// dimension per example ([1, 28, 28] images); it shifts every layer's
	// index, and so the parameter names, by one.
	Flatten bool `json:",omitempty"`
}

// MLPParams is the number of parameters NewMLP(cfg) creates, or −1 when
// cfg has a size below 1 or the count overflows: a cheap check of a
// configuration read from a file before anything is allocated.
func MLPParams(cfg MLPConfig) int {
	sizes := append(append([]int{cfg.In}, cfg.Hidden...), cfg.Out)
	total := 0
	for i := 0; i+1 < len(sizes); i++ {
		in, out := sizes[i], sizes[i+1]
		if in < 1 || out < 1 || in > math.MaxInt32 || out > math.MaxInt32 {
			return -1
		}
		layer := out*in + out
		if total > math.MaxInt-layer {
			return -1
		}
		total += layer
	}
	return total
}

// NewMLP builds Linear, activation, [Dropout], Linear, activation, …,
// Linear (MLPSpec, then Build), with the layout and parameter names of
// PyTorch's nn.Sequential of the same layers: without dropout "0.weight",
// "0.bias", "2.weight", …; with it "0.*", "3.*", "6.*", ….
//
// The weights are drawn from rng layer by layer; after them the Dropout
// layers, if any, keep drawing their masks from rng itself. So the weights
// do not depend on the dropout setting, and a caller that saves the state
// of rng's source (as package train's checkpoints do) captures the dropout
// stream too.
//
// Sizes below 1, an unknown activation or init scheme, and a dropout
// probability outside [0, 1) are errors; nothing is drawn then.
func NewMLP(cfg MLPConfig, rng *rand.Rand) (*Sequential, error) {
	if cfg.In < 1 || cfg.Out < 1 {
		return nil, fmt.Errorf("nn: MLP: input and output sizes must be at least 1, got in=%d out=%d", cfg.In, cfg.Out)
	}
	for i, h := range cfg.Hidden {
		if h < 1 {
			return nil, fmt.Errorf("nn: MLP: hidden layer %d has width %d; widths must be at least 1", i, h)
		}
	}
	if cfg.DType != tensor.Float32 && cfg.DType != tensor.Float64 {
		return nil, fmt.Errorf("nn: MLP: unknown dtype %v", cfg.DType)
	}
	s, err := MLPSpec(cfg)
	if err != nil {
		return nil, err
	}
	m, err := Build(s, cfg.DType, rng)
	if err != nil {
		return nil, err
	}
	return m.(*Sequential), nil
}
