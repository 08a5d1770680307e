package optim

import (
	"fmt"
	"math"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// AdaGradConfig configures AdaGrad, as torch.optim.Adagrad. A nil field
// takes PyTorch's default; any value set, 0 included, is used as written.
type AdaGradConfig struct {
	LR                      float64  // learning rate
	LRDecay                 float64  // the step size is LR/(1 + (t−1)·LRDecay) at step t
	WeightDecay             float64  // L2 penalty, added to the gradient
	InitialAccumulatorValue float64  // starting value of the sum of squares
	Eps                     *float64 // added to the denominator; nil: 1e-10
}

// validate checks a configuration with its defaults filled in.
func (c AdaGradConfig) validate() error {
	v := check{op: "AdaGrad"}
	v.lr(c.LR)
	v.nonneg("lr decay", c.LRDecay)
	v.nonneg("weight decay", c.WeightDecay)
	v.nonneg("initial accumulator value", c.InitialAccumulatorValue)
	v.nonneg("eps", *c.Eps)
	return v.err
}

// AdaGrad scales each coordinate's step by the root of the sum of its
// squared gradients:
//
//	g ← g + weightDecay·w
//	s ← s + g²
//	w ← w − lr/(1 + (t−1)·lrDecay) · g/(√s + eps)
//
// with t the parameter's step count (from 1), as torch.optim.Adagrad.
// State: "<i>.sum".
type AdaGrad struct {
	core
	cfg AdaGradConfig
}

// NewAdaGrad returns an AdaGrad optimiser over params. It panics on an
// invalid configuration (a negative value) and on a non-contiguous
// parameter.
func NewAdaGrad(params []*ag.Node, cfg AdaGradConfig) *AdaGrad {
	cfg.Eps = new(valueOr(cfg.Eps, 1e-10))
	mustValid(cfg.validate())
	return &AdaGrad{core: newCore("AdaGrad", params, cfg.LR, cfg.WeightDecay, 0, cfg.InitialAccumulatorValue, "sum"), cfg: cfg}
}

// Config returns the configuration, every default filled in (no field is
// nil).
func (o *AdaGrad) Config() AdaGradConfig {
	c := o.cfg
	c.Eps = new(*c.Eps)
	return c
}

// AddGroup adds a parameter group (see Group), its state starting at the
// configuration's InitialAccumulatorValue. It panics on an invalid
// setting, a Momentum (AdaGrad has none), a parameter already optimised,
// and a non-contiguous parameter.
func (o *AdaGrad) AddGroup(g Group) {
	o.addGroup(g, o.cfg.InitialAccumulatorValue, func(lr, wd, mom float64) error {
		c := o.cfg
		c.LR, c.WeightDecay = lr, wd
		if mom != 0 {
			return fmt.Errorf("optim: AdaGrad has no momentum (group momentum %v)", mom)
		}
		return c.validate()
	})
}

// Step makes one update (see AdaGrad).
func (o *AdaGrad) Step() {
	for i, p := range o.params {
		if p.Grad() == nil {
			continue
		}
		o.steps[i]++
		if p.DType() == tensor.Float64 {
			adagradStep[float64](o, i)
		} else {
			adagradStep[float32](o, i)
		}
	}
}

func adagradStep[T tensor.Float](o *AdaGrad, i int) {
	w, g, _ := grad[T](&o.core, i)
	s := buf[T](&o.core, i, 0)
	s, g = s[:len(w)], g[:len(w)]
	gr := o.groupOf(i)
	clr := gr.lr / (1 + float64(o.steps[i]-1)*o.cfg.LRDecay)
	wd, negCLR, eps := T(gr.wd), T(-clr), T(*o.cfg.Eps)
	for j := range w {
		gj := g[j]
		if wd != 0 {
			gj += wd * w[j]
		}
		s[j] += gj * gj
		w[j] += negCLR * (gj / (T(math.Sqrt(float64(s[j]))) + eps))
	}
}
