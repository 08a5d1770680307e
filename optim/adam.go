package optim

import (
	"fmt"
	"math"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/kernels"
	"github.com/nabla-go/nabla/tensor"
)

// AdamConfig configures Adam (torch.optim.Adam) and AdamW
// (torch.optim.AdamW). A nil field takes PyTorch's default; any value
// set, 0 included, is used as written (see the package doc,
// "Configuration"):
//
//	optim.AdamConfig{LR: 1e-3, Beta1: new(0.0)} // β₁ = 0: RMSProp-like
type AdamConfig struct {
	LR    float64  // learning rate
	Beta1 *float64 // decay of the first moment; nil: 0.9
	Beta2 *float64 // decay of the second moment; nil: 0.999
	Eps   *float64 // added to the denominator; nil: 1e-8
	// WeightDecay is, for Adam, an L2 penalty added to the gradient
	// (coupled; nil: 0); for AdamW, a decay of the weights themselves, w ←
	// w·(1 − lr·WeightDecay), outside the adaptive step (decoupled; nil:
	// 0.01, as PyTorch).
	WeightDecay *float64
	AMSGrad     bool // divide by the running maximum of the second moment
}

// withDefaults returns c with every nil field set to PyTorch's default
// (decoupled selects AdamW's weight decay).
func (c AdamConfig) withDefaults(decoupled bool) AdamConfig {
	c.Beta1 = new(valueOr(c.Beta1, 0.9))
	c.Beta2 = new(valueOr(c.Beta2, 0.999))
	c.Eps = new(valueOr(c.Eps, 1e-8))
	wd := 0.0
	if decoupled {
		wd = 0.01
	}
	c.WeightDecay = new(valueOr(c.WeightDecay, wd))
	return c
}

// validate checks a configuration with its defaults filled in.
func (c AdamConfig) validate(op string) error {
	v := check{op: op}
	v.lr(c.LR)
	v.unit("beta1", *c.Beta1)
	v.unit("beta2", *c.Beta2)
	v.nonneg("eps", *c.Eps)
	v.nonneg("weight decay", *c.WeightDecay)
	return v.err
}

// Adam is the adaptive moment estimator. With t the parameter's step count
// (from 1), one step is
//
//	g ← g + weightDecay·w             (Adam only)
//	w ← w·(1 − lr·weightDecay)        (AdamW only)
//	m ← β₁·m + (1 − β₁)·g
//	v ← β₂·v + (1 − β₂)·g²
//	v̂ ← max(v̂, v) (AMSGrad), or v
//	w ← w − lr/(1 − β₁ᵗ) · m/(√v̂/√(1 − β₂ᵗ) + eps)
//
// exactly as torch.optim.Adam and AdamW. State: "<i>.exp_avg",
// "<i>.exp_avg_sq", and "<i>.max_exp_avg_sq" with AMSGrad.
type Adam struct {
	core
	cfg       AdamConfig
	decoupled bool
}

// NewAdam returns an Adam optimiser over params, with coupled (L2) weight
// decay. It panics on an invalid configuration and on a non-contiguous
// parameter.
func NewAdam(params []*ag.Node, cfg AdamConfig) *Adam { return newAdam("Adam", params, cfg, false) }

// NewAdamW returns an AdamW optimiser over params: Adam with decoupled
// weight decay, 0.01 when cfg.WeightDecay is nil (and none when it points
// to 0).
func NewAdamW(params []*ag.Node, cfg AdamConfig) *Adam { return newAdam("AdamW", params, cfg, true) }

func newAdam(op string, params []*ag.Node, cfg AdamConfig, decoupled bool) *Adam {
	cfg = cfg.withDefaults(decoupled)
	mustValid(cfg.validate(op))
	names := []string{"exp_avg", "exp_avg_sq"}
	if cfg.AMSGrad {
		names = append(names, "max_exp_avg_sq")
	}
	return &Adam{core: newCore(op, params, cfg.LR, *cfg.WeightDecay, *cfg.Beta1, 0, names...), cfg: cfg, decoupled: decoupled}
}

// Config returns the configuration, every default filled in (no field is
// nil), with group 0's β₁ now (which SetMomentum changes).
func (o *Adam) Config() AdamConfig {
	c := o.cfg
	c.Beta1, c.Beta2, c.Eps, c.WeightDecay = new(o.groups[0].mom), new(*c.Beta2), new(*c.Eps), new(*c.WeightDecay)
	return c
}

// AddGroup adds a parameter group (see Group; its Momentum is β₁). It
// panics on an invalid setting, a parameter already optimised, and a
// non-contiguous parameter.
func (o *Adam) AddGroup(g Group) {
	o.addGroup(g, 0, func(lr, wd, mom float64) error {
		c := o.cfg
		c.LR, c.WeightDecay, c.Beta1 = lr, &wd, &mom
		return c.validate(o.op)
	})
}

// Step makes one update (see Adam).
func (o *Adam) Step() {
	for i, p := range o.params {
		if p.Grad() == nil {
			continue
		}
		o.steps[i]++
		if p.DType() == tensor.Float64 {
			adamStep[float64](o, i)
		} else {
			adamStep[float32](o, i)
		}
	}
}

func adamStep[T tensor.Float](o *Adam, i int) {
	w, g, _ := grad[T](&o.core, i)
	n := len(w)
	m, v, g := buf[T](&o.core, i, 0)[:n], buf[T](&o.core, i, 1)[:n], g[:n]
	var vmax []T
	if o.cfg.AMSGrad {
		vmax = buf[T](&o.core, i, 2)[:n]
	}
	c := o.cfg
	gr := o.groupOf(i)
	t := float64(o.steps[i])
	beta1, beta2, wd, lr := gr.mom, *c.Beta2, gr.wd, gr.lr
	bc1 := 1 - math.Pow(beta1, t)
	bc2 := 1 - math.Pow(beta2, t)
	negStep := T(-(lr / bc1))
	bc2sqrt := T(math.Sqrt(bc2))
	b1, b2, eps := T(beta1), T(beta2), T(*c.Eps)
	var l2, decay T
	if o.decoupled {
		decay = T(1 - lr*wd)
	} else {
		l2 = T(wd)
	}
	decoupled := o.decoupled
	if serial(n) {
		kernels.AdamStep(w, g, m, v, vmax, decoupled, decay, l2, b1, b2, eps, bc2sqrt, negStep)
		return
	}
	parallel(n, func(lo, hi int) {
		kernels.AdamStep(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], sub(vmax, lo, hi), decoupled, decay, l2, b1, b2, eps, bc2sqrt, negStep)
	})
}

// sub is s[lo:hi], or nil for a nil s.
func sub[T any](s []T, lo, hi int) []T {
	if s == nil {
		return nil
	}
	return s[lo:hi]
}

// Momentum returns β₁, the decay of the first moment, which plays the part
// of momentum (torch's OneCycleLR cycles betas[0]).
func (o *Adam) Momentum() float64 { return o.groups[0].mom }

// HasMomentum is true: Adam's β₁ is always there to set.
func (o *Adam) HasMomentum() bool { return true }

// SetMomentum changes every group's β₁ (see MomentumSetter); the bias correction of
// later steps uses the new value, as torch's does. It panics on a value
// outside [0, 1).
func (o *Adam) SetMomentum(m float64) {
	if !(m >= 0 && m < 1) {
		panic(fmt.Sprintf("optim.%s.SetMomentum: β₁ %v must be in [0, 1)", o.op, m))
	}
	o.setMomentum(m)
}
