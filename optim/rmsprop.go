package optim

import (
	"fmt"
	"math"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// RMSPropConfig configures RMSProp, as torch.optim.RMSprop. A nil field
// takes PyTorch's default; any value set, 0 included, is used as written.
type RMSPropConfig struct {
	LR          float64  // learning rate
	Alpha       *float64 // smoothing constant of the mean square; nil: 0.99
	Eps         *float64 // added to the denominator; nil: 1e-8
	WeightDecay float64  // L2 penalty, added to the gradient
	Momentum    float64  // momentum factor; 0 for none
	Centered    bool     // divide by the estimated variance instead of the mean square
}

// withDefaults returns c with every nil field set to PyTorch's default.
func (c RMSPropConfig) withDefaults() RMSPropConfig {
	c.Alpha = new(valueOr(c.Alpha, 0.99))
	c.Eps = new(valueOr(c.Eps, 1e-8))
	return c
}

// validate checks a configuration with its defaults filled in.
func (c RMSPropConfig) validate() error {
	v := check{op: "RMSProp"}
	v.lr(c.LR)
	v.unit("alpha", *c.Alpha)
	v.nonneg("eps", *c.Eps)
	v.nonneg("weight decay", c.WeightDecay)
	v.unit("momentum", c.Momentum)
	return v.err
}

// RMSProp divides the gradient by a running root mean square:
//
//	g ← g + weightDecay·w
//	v ← α·v + (1 − α)·g²
//	m ← α·m + (1 − α)·g,  d ← √(v − m²) + eps      (Centered)
//	d ← √v + eps                                   (otherwise)
//	b ← momentum·b + g/d,  w ← w − lr·b            (Momentum > 0)
//	w ← w − lr·g/d                                 (otherwise)
//
// as torch.optim.RMSprop. State: "<i>.square_avg", and "<i>.grad_avg"
// when Centered, "<i>.momentum_buffer" when Momentum > 0.
type RMSProp struct {
	core
	cfg          RMSPropConfig
	gavg, mombuf int // buffer indices, −1 when unused
}

// NewRMSProp returns an RMSProp optimiser over params. It panics on an
// invalid configuration and on a non-contiguous parameter.
func NewRMSProp(params []*ag.Node, cfg RMSPropConfig) *RMSProp {
	cfg = cfg.withDefaults()
	mustValid(cfg.validate())
	names := []string{"square_avg"}
	o := &RMSProp{cfg: cfg, gavg: -1, mombuf: -1}
	if cfg.Centered {
		o.gavg = len(names)
		names = append(names, "grad_avg")
	}
	if cfg.Momentum > 0 {
		o.mombuf = len(names)
		names = append(names, "momentum_buffer")
	}
	o.core = newCore("RMSProp", params, cfg.LR, cfg.WeightDecay, cfg.Momentum, 0, names...)
	return o
}

// Config returns the configuration, every default filled in (no field is
// nil), with group 0's momentum now.
func (o *RMSProp) Config() RMSPropConfig {
	c := o.cfg
	c.Alpha, c.Eps = new(*c.Alpha), new(*c.Eps)
	c.Momentum = o.groups[0].mom
	return c
}

// AddGroup adds a parameter group (see Group). It panics on an invalid
// setting, a parameter already optimised, a non-contiguous parameter, and
// a momentum for an RMSProp built without one (whose parameters have no
// momentum buffers).
func (o *RMSProp) AddGroup(g Group) {
	o.addGroup(g, 0, func(lr, wd, mom float64) error {
		c := o.cfg
		c.LR, c.WeightDecay, c.Momentum = lr, wd, mom
		if err := c.validate(); err != nil {
			return err
		}
		if mom != 0 && o.mombuf < 0 {
			return fmt.Errorf("optim: RMSProp: group momentum %v, but the optimiser was built without momentum", mom)
		}
		return nil
	})
}

// Step makes one update (see RMSProp).
func (o *RMSProp) Step() {
	for i, p := range o.params {
		if p.Grad() == nil {
			continue
		}
		o.steps[i]++
		if p.DType() == tensor.Float64 {
			rmspropStep[float64](o, i)
		} else {
			rmspropStep[float32](o, i)
		}
	}
}

func rmspropStep[T tensor.Float](o *RMSProp, i int) {
	w, g, _ := grad[T](&o.core, i)
	v := buf[T](&o.core, i, 0)
	v, g = v[:len(w)], g[:len(w)]
	var m, b []T
	if o.gavg >= 0 {
		m = buf[T](&o.core, i, o.gavg)[:len(w)]
	}
	gr := o.groupOf(i)
	if o.mombuf >= 0 && gr.mom > 0 {
		b = buf[T](&o.core, i, o.mombuf)[:len(w)]
	}
	a := *o.cfg.Alpha
	wd, alpha, oneMinus := T(gr.wd), T(a), T(1-a)
	eps, mom, negLR := T(*o.cfg.Eps), T(gr.mom), T(-gr.lr)
	for j := range w {
		gj := g[j]
		if wd != 0 {
			gj += wd * w[j]
		}
		v[j] = v[j]*alpha + oneMinus*gj*gj
		var d T
		if m != nil {
			m[j] = m[j]*alpha + oneMinus*gj
			d = T(math.Sqrt(float64(v[j]-m[j]*m[j]))) + eps
		} else {
			d = T(math.Sqrt(float64(v[j]))) + eps
		}
		if b != nil {
			b[j] = b[j]*mom + gj/d
			w[j] += negLR * b[j]
		} else {
			w[j] += negLR * (gj / d)
		}
	}
}

// Momentum returns the momentum factor.
func (o *RMSProp) Momentum() float64 { return o.groups[0].mom }

// HasMomentum reports whether o was built with a momentum buffer (only
// then can SetMomentum change the momentum).
func (o *RMSProp) HasMomentum() bool { return o.mombuf >= 0 }

// SetMomentum changes every group's momentum factor (OneCycle cycles it; see
// MomentumSetter). It panics on a value outside [0, 1), and when the
// optimiser was built without momentum, which has no buffer to carry it.
func (o *RMSProp) SetMomentum(m float64) {
	if o.mombuf < 0 {
		panic("optim.RMSProp.SetMomentum: built without momentum (give RMSPropConfig a Momentum to cycle it)")
	}
	if !(m >= 0 && m < 1) {
		panic(fmt.Sprintf("optim.RMSProp.SetMomentum: momentum %v must be in [0, 1)", m))
	}
	o.setMomentum(m)
}
