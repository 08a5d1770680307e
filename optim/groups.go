package optim

import (
	"fmt"
	"math"
	"strconv"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// Group is a parameter group, as in PyTorch: parameters with their own
// learning rate, weight decay or momentum. The parameters given to an
// optimiser's constructor form group 0, with the configuration's
// settings; AddGroup adds more. A nil field takes group 0's setting as it
// was configured (the usual "no weight decay on biases and norms" is
// Group{Params: biases, WeightDecay: new(0.0)}).
//
// Momentum is SGD's and RMSProp's momentum factor and Adam's β₁ (torch's
// betas[0], the value OneCycle cycles); AdaGrad has none, so setting it
// there panics.
type Group struct {
	Params      []*ag.Node
	LR          *float64
	WeightDecay *float64
	Momentum    *float64
}

// group is a parameter group's settings and its parameters' range in
// core.params.
type group struct {
	lo, hi   int     // params[lo:hi]
	lr, base float64 // the rate now, and at creation (torch's initial_lr)
	wd, mom  float64
}

// groupOf returns the group parameter i belongs to.
func (c *core) groupOf(i int) *group {
	for k := range c.groups {
		if i < c.groups[k].hi {
			return &c.groups[k]
		}
	}
	panic("optim: parameter index out of range")
}

// addGroup appends g's parameters and settings, after the optimiser has
// checked them (with validate, given the settings filled in from group
// 0's configuration); init fills the new state buffers.
func (c *core) addGroup(g Group, init float64, validate func(lr, wd, mom float64) error) {
	g0 := c.groups[0]
	lr, wd := valueOr(g.LR, g0.base), valueOr(g.WeightDecay, c.wd0)
	mom := valueOr(g.Momentum, c.mom0)
	mustValid(validate(lr, wd, mom))
	seen := make(map[*ag.Node]bool, len(c.params))
	for _, p := range c.params {
		seen[p] = true
	}
	for i, p := range g.Params {
		if seen[p] {
			panic(fmt.Sprintf("optim.%s.AddGroup: parameter %d is already optimised (it would be updated twice)", c.op, i))
		}
		seen[p] = true
	}
	more := newCore(c.op, g.Params, lr, wd, mom, init, c.names...)
	lo := len(c.params)
	c.params = append(c.params, more.params...)
	c.steps = append(c.steps, more.steps...)
	c.bufs = append(c.bufs, more.bufs...)
	c.groups = append(c.groups, group{lo: lo, hi: len(c.params), lr: lr, base: lr, wd: wd, mom: mom})
}

// Groups returns the number of parameter groups (1 without AddGroup).
func (c *core) Groups() int { return len(c.groups) }

// GroupLR returns group g's learning rate.
func (c *core) GroupLR(g int) float64 { return c.groups[g].lr }

// SetGroupLR sets group g's learning rate alone.
func (c *core) SetGroupLR(g int, lr float64) { c.groups[g].lr = lr }

// GroupBaseLR returns the learning rate group g was created with (torch's
// initial_lr), the base rate a schedule starts it from.
func (c *core) GroupBaseLR(g int) float64 { return c.groups[g].base }

// LR is group 0's learning rate: the rate the next Step uses, with one
// group.
func (c *core) LR() float64 { return c.groups[0].lr }

// SetLR sets the learning rate. With parameter groups it sets group 0's
// to lr and every other group's to lr·(its initial rate)/(group 0's
// initial rate), which is what PyTorch's multiplicative schedules (StepLR,
// ExponentialLR, LinearLR, CosineAnnealingLR with eta_min 0…) do to each
// group; ApplySchedule is exact for every schedule, and SetGroupLR sets
// one group.
func (c *core) SetLR(lr float64) {
	b0 := c.groups[0].base
	for k := range c.groups {
		g := &c.groups[k]
		if k == 0 || b0 == 0 {
			g.lr = lr
		} else {
			g.lr = lr * g.base / b0
		}
	}
}

// setMomentum sets every group's momentum.
func (c *core) setMomentum(m float64) {
	for k := range c.groups {
		c.groups[k].mom = m
	}
}

// groupKeys are the StateDict keys of group k ≥ 1 (group 0's rate is
// "lr"; its other settings are the configuration's).
func groupKeys(k int) []string {
	p := "group" + strconv.Itoa(k) + "."
	return []string{p + "size", p + "lr", p + "weight_decay", p + "momentum"}
}

// saveGroups adds the settings of groups 1… to m.
func (c *core) saveGroups(m map[string]*tensor.Tensor) {
	for k := 1; k < len(c.groups); k++ {
		g := c.groups[k]
		for j, v := range []float64{float64(g.hi - g.lo), g.lr, g.wd, g.mom} {
			m[groupKeys(k)[j]] = tensor.Scalar(tensor.Float64, v)
		}
	}
}

// loadGroups reads the settings of groups 1… from m, checking that the
// sizes match, and returns them (nothing is changed yet) with the keys
// read.
func (c *core) loadGroups(m map[string]*tensor.Tensor, scalar func(string) (float64, error)) ([]group, []string, error) {
	out := make([]group, len(c.groups))
	copy(out, c.groups)
	var keys []string
	for k := 1; k < len(c.groups); k++ {
		ks := groupKeys(k)
		keys = append(keys, ks...)
		var v [4]float64
		for j, key := range ks {
			x, err := scalar(key)
			if err != nil {
				return nil, nil, err
			}
			v[j] = x
		}
		g := &out[k]
		if v[0] != float64(g.hi-g.lo) {
			return nil, nil, fmt.Errorf("optim: %s state: group %d has %v parameters, this optimiser's has %d", c.op, k, v[0], g.hi-g.lo)
		}
		if math.IsNaN(v[1]) || math.IsNaN(v[2]) || math.IsNaN(v[3]) {
			return nil, nil, fmt.Errorf("optim: %s state: group %d has a NaN setting", c.op, k)
		}
		g.lr, g.wd, g.mom = v[1], v[2], v[3]
	}
	return out, keys, nil
}
