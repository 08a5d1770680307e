package nn_test

import (
	"math"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

func moments(v []float64) (mean, std, maxAbs float64) {
	for _, x := range v {
		mean += x
		maxAbs = math.Max(maxAbs, math.Abs(x))
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v))), maxAbs
}

// TestInitStatistics draws a 512×512 layer with every scheme and checks
// the sample mean and standard deviation against the scheme's within five
// standard errors, and the bounds of the uniform schemes.
func TestInitStatistics(t *testing.T) {
	const fan = 512
	n := float64(fan * fan)
	type spec struct {
		std       float64 // of the weight
		bound     float64 // of a uniform weight; 0 for normal
		biasBound float64 // 0: the bias must be zero
	}
	specs := map[string]spec{
		"default":        {std: 1 / math.Sqrt(fan) / math.Sqrt(3), bound: 1 / math.Sqrt(fan), biasBound: 1 / math.Sqrt(fan)},
		"xavier-uniform": {std: math.Sqrt(2.0 / (fan + fan)), bound: math.Sqrt(6.0 / (fan + fan))},
		"xavier-normal":  {std: math.Sqrt(2.0 / (fan + fan))},
		"he-uniform":     {std: math.Sqrt(2.0 / fan), bound: math.Sqrt(6.0 / fan)},
		"he-normal":      {std: math.Sqrt(2.0 / fan)},
	}
	if len(specs) != len(nn.InitNames()) {
		t.Fatalf("InitNames %v, test covers %d", nn.InitNames(), len(specs))
	}
	for _, scheme := range nn.InitNames() {
		sp := specs[scheme]
		w, b := tensor.New(tensor.Float64, fan, fan), tensor.Full(tensor.Float64, 9, fan)
		if err := nn.Init(w, b, scheme, tensor.NewRand(11)); err != nil {
			t.Fatal(err)
		}
		mean, std, maxAbs := moments(w.Values())
		// Standard errors: of the mean σ/√n; of the std σ·√((κ−1)/(4n)),
		// with kurtosis κ = 1.8 (uniform) or 3 (normal).
		kurt := 3.0
		if sp.bound > 0 {
			kurt = 1.8
		}
		if se := sp.std / math.Sqrt(n); math.Abs(mean) > 5*se {
			t.Errorf("%s: mean %.3g, want 0 ± %.3g", scheme, mean, 5*se)
		}
		if se := sp.std * math.Sqrt((kurt-1)/(4*n)); math.Abs(std-sp.std) > 5*se {
			t.Errorf("%s: std %.5g, want %.5g ± %.3g", scheme, std, sp.std, 5*se)
		}
		if sp.bound > 0 && (maxAbs > sp.bound || maxAbs < 0.999*sp.bound) {
			t.Errorf("%s: max |w| %.6g, want just under the bound %.6g", scheme, maxAbs, sp.bound)
		}
		if sp.bound == 0 && maxAbs > 6*sp.std {
			t.Errorf("%s: max |w| %.3g is over 6σ", scheme, maxAbs)
		}
		_, _, bmax := moments(b.Values())
		switch {
		case sp.biasBound == 0 && bmax != 0:
			t.Errorf("%s: bias not zero", scheme)
		case sp.biasBound > 0 && (bmax > sp.biasBound || bmax < 0.9*sp.biasBound):
			t.Errorf("%s: max |b| %.4g, want under %.4g", scheme, bmax, sp.biasBound)
		}

		// Same seed, same bits; float32 is the float64 draw rounded.
		w2, w32 := tensor.New(tensor.Float64, fan, fan), tensor.New(tensor.Float32, fan, fan)
		_ = nn.Init(w2, nil, scheme, tensor.NewRand(11))
		_ = nn.Init(w32, nil, scheme, tensor.NewRand(11))
		if !tensor.AllClose(w, w2, 0, 0) {
			t.Errorf("%s: same seed, different values", scheme)
		}
		if !tensor.AllClose(w.AsType(tensor.Float32), w32, 0, 0) {
			t.Errorf("%s: float32 draw differs from the float64 one rounded", scheme)
		}
	}
}

// TestNewLinearIsDefaultInit: NewLinear draws exactly what Init "default"
// draws, weight then bias, and the weight is [out, in].
func TestNewLinearIsDefaultInit(t *testing.T) {
	l := nn.NewLinear(5, 3, tensor.Float32, tensor.NewRand(4))
	w, b := tensor.New(tensor.Float32, 3, 5), tensor.New(tensor.Float32, 3)
	_ = nn.Init(w, b, "default", tensor.NewRand(4))
	if !tensor.AllClose(l.Weight.Value(), w, 0, 0) || !tensor.AllClose(l.Bias.Value(), b, 0, 0) {
		t.Error("NewLinear differs from Init(default)")
	}
	for _, v := range append(w.Values(), b.Values()...) {
		if math.Abs(v) > 1/math.Sqrt(5) {
			t.Fatalf("%v outside ±1/√5", v)
		}
	}
}

func TestInitErrors(t *testing.T) {
	rng := tensor.NewRand(1)
	err := nn.Init(tensor.New(tensor.Float32, 2, 2), nil, "orthogonal", rng)
	if err == nil {
		t.Fatal("no error for an unknown scheme")
	}
	for _, s := range nn.InitNames() {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not list %q", err, s)
		}
	}
	if rng.Uint64() != tensor.NewRand(1).Uint64() {
		t.Error("a failed Init drew from the generator")
	}
}
