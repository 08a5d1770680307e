package optim

import (
	"fmt"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/kernels"
	"github.com/nabla-go/nabla/tensor"
)

// SGDConfig configures stochastic gradient descent, as torch.optim.SGD.
type SGDConfig struct {
	LR          float64 // learning rate
	Momentum    float64 // momentum factor; 0 for plain SGD
	Dampening   float64 // dampening for momentum
	Nesterov    bool    // Nesterov momentum (needs Momentum > 0 and Dampening 0)
	WeightDecay float64 // L2 penalty, added to the gradient (coupled, as PyTorch)
}

func (c SGDConfig) validate() error {
	v := check{op: "SGD"}
	v.lr(c.LR)
	v.unit("momentum", c.Momentum)
	v.nonneg("dampening", c.Dampening)
	v.nonneg("weight decay", c.WeightDecay)
	v.that(!c.Nesterov || (c.Momentum > 0 && c.Dampening == 0), "Nesterov momentum needs momentum > 0 and zero dampening")
	return v.err
}

// SGD is stochastic gradient descent with optional momentum, dampening,
// Nesterov momentum and weight decay. With g the gradient, w the
// parameter and b the momentum buffer, one step is
//
//	g ← g + weightDecay·w
//	b ← g on the first step, else momentum·b + (1 − dampening)·g
//	g ← g + momentum·b (Nesterov), or b
//	w ← w − lr·g
//
// exactly as torch.optim.SGD. State: "<i>.momentum_buffer" when Momentum
// is not 0.
type SGD struct {
	core
	cfg SGDConfig
}

// NewSGD returns an SGD optimiser over params. It panics on an invalid
// configuration (negative learning rate, momentum outside [0, 1),
// Nesterov without momentum) and on a non-contiguous parameter.
func NewSGD(params []*ag.Node, cfg SGDConfig) *SGD {
	mustValid(cfg.validate())
	var bufs []string
	if cfg.Momentum != 0 {
		bufs = []string{"momentum_buffer"}
	}
	return &SGD{core: newCore("SGD", params, cfg.LR, cfg.WeightDecay, cfg.Momentum, 0, bufs...), cfg: cfg}
}

// Config returns the configuration (with the learning rate it started
// with; the momentum is group 0's now, which SetMomentum changes).
func (o *SGD) Config() SGDConfig {
	c := o.cfg
	c.Momentum = o.groups[0].mom
	return c
}

// AddGroup adds a parameter group (see Group). It panics on an invalid
// setting, a parameter already optimised, a non-contiguous parameter, and
// a momentum for an SGD built without one (whose parameters have no
// momentum buffers).
func (o *SGD) AddGroup(g Group) {
	o.addGroup(g, 0, func(lr, wd, mom float64) error {
		c := o.cfg
		c.LR, c.WeightDecay, c.Momentum = lr, wd, mom
		if err := c.validate(); err != nil {
			return err
		}
		if mom != 0 && o.cfg.Momentum == 0 {
			return fmt.Errorf("optim: SGD: group momentum %v, but the optimiser was built without momentum", mom)
		}
		return nil
	})
}

// Step makes one update (see SGD).
func (o *SGD) Step() {
	for i, p := range o.params {
		if p.Grad() == nil {
			continue
		}
		if p.DType() == tensor.Float64 {
			sgdStep[float64](o, i)
		} else {
			sgdStep[float32](o, i)
		}
		o.steps[i]++
	}
}

func sgdStep[T tensor.Float](o *SGD, i int) {
	w, g, _ := grad[T](&o.core, i)
	gr := o.groupOf(i)
	var b []T
	if len(o.names) > 0 && gr.mom != 0 {
		b = buf[T](&o.core, i, 0)[:len(w)]
	}
	wd, lr := T(gr.wd), T(gr.lr)
	mom, damp := T(gr.mom), T(1-o.cfg.Dampening)
	first, nesterov := o.steps[i] == 0, o.cfg.Nesterov
	if serial(len(w)) {
		kernels.SGD(w, g, b, lr, mom, damp, wd, first, nesterov)
		return
	}
	parallel(len(w), func(lo, hi int) {
		kernels.SGD(w[lo:hi], g[lo:hi], sub(b, lo, hi), lr, mom, damp, wd, first, nesterov)
	})
}

// Momentum returns the momentum factor.
func (o *SGD) Momentum() float64 { return o.groups[0].mom }

// HasMomentum reports whether o was built with momentum buffers (only
// then can SetMomentum change the momentum).
func (o *SGD) HasMomentum() bool { return len(o.names) > 0 }

// SetMomentum changes every group's momentum factor (OneCycle cycles it;
// see MomentumSetter). It panics on a value outside [0, 1), and when the
// optimiser was built without momentum, which has no buffer to carry it.
func (o *SGD) SetMomentum(m float64) {
	if len(o.names) == 0 {
		panic("optim.SGD.SetMomentum: built without momentum (give SGDConfig a Momentum to cycle it)")
	}
	mustValid(SGDConfig{LR: 1, Momentum: m, Dampening: o.cfg.Dampening}.validate())
	o.setMomentum(m)
}
