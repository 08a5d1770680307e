package optim

import (
	"slices"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// grouped builds every optimiser kind over the first parameter and adds
// the second as group 1 with its own rate, weight decay and (where the
// kind has one) momentum.
var grouped = []struct {
	name string
	make func(p []*ag.Node, g Group) Optimizer
}{
	{"sgd", func(p []*ag.Node, g Group) Optimizer {
		o := NewSGD(p[:1], SGDConfig{LR: 0.02, Momentum: 0.9, WeightDecay: 1e-3})
		o.AddGroup(g)
		return o
	}},
	{"adagrad", func(p []*ag.Node, g Group) Optimizer {
		o := NewAdaGrad(p[:1], AdaGradConfig{LR: 0.5})
		g.Momentum = nil
		o.AddGroup(g)
		return o
	}},
	{"rmsprop", func(p []*ag.Node, g Group) Optimizer {
		o := NewRMSProp(p[:1], RMSPropConfig{LR: 0.01, Momentum: 0.5})
		o.AddGroup(g)
		return o
	}},
	{"adamw", func(p []*ag.Node, g Group) Optimizer {
		o := NewAdamW(p[:1], AdamConfig{LR: 0.05})
		o.AddGroup(g)
		return o
	}},
}

// TestGroupsResume checks that a checkpoint keeps every group's settings:
// an optimiser restored over the same groups, built with different group
// settings, takes the saved ones and continues bit for bit.
func TestGroupsResume(t *testing.T) {
	q := newQuadratic(5)
	for _, c := range grouped {
		t.Run(c.name, func(t *testing.T) {
			params := q.params(tensor.Float64)
			opt := c.make(params, Group{Params: params[1:], LR: new(0.01), WeightDecay: new(0.0), Momentum: new(0.7)})
			for range 3 {
				q.loss(params)
				opt.SetLR(opt.LR() * 0.9)
				opt.Step()
			}
			state := opt.StateDict()
			for _, k := range []string{"group1.size", "group1.lr", "group1.weight_decay", "group1.momentum"} {
				if state[k] == nil {
					t.Fatalf("StateDict has no %q", k)
				}
			}
			resumed := q.params(tensor.Float64)
			for i, p := range resumed {
				p.Value().CopyFrom(params[i].Value())
			}
			opt2 := c.make(resumed, Group{Params: resumed[1:], LR: new(0.3), WeightDecay: new(0.5), Momentum: new(0.1)})
			if err := opt2.LoadStateDict(state); err != nil {
				t.Fatal(err)
			}
			for range 4 {
				for _, o := range []struct {
					opt Optimizer
					ps  []*ag.Node
				}{{opt, params}, {opt2, resumed}} {
					q.loss(o.ps)
					o.opt.Step()
				}
			}
			for i := range params {
				if got, want := resumed[i].Value().Values(), params[i].Value().Values(); !slices.Equal(got, want) {
					t.Errorf("param %d after resuming:\n got %v\nwant %v", i, got, want)
				}
			}
			// A different group structure is an error naming what differs.
			other := c.make(q.params(tensor.Float64), Group{})
			if err := other.LoadStateDict(state); err == nil || !strings.Contains(err.Error(), "group 1 has 1 parameters") {
				t.Errorf("loading two groups' state into a different structure: error %v", err)
			}
		})
	}
}

// TestGroupsSetLR checks SetLR's proportional rule, SetGroupLR, and that
// a group left unset takes group 0's configured settings.
func TestGroupsSetLR(t *testing.T) {
	ps := []*ag.Node{ag.Var(tensor.New(tensor.Float64, 2)), ag.Var(tensor.New(tensor.Float64, 2)), ag.Var(tensor.New(tensor.Float64, 2))}
	o := NewSGD(ps[:1], SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.01})
	o.AddGroup(Group{Params: ps[1:2], LR: new(0.05)})
	o.AddGroup(Group{Params: ps[2:], WeightDecay: new(0.0)})
	if o.Groups() != 3 || o.GroupLR(1) != 0.05 || o.GroupLR(2) != 0.1 {
		t.Fatalf("groups %d, rates %v %v", o.Groups(), o.GroupLR(1), o.GroupLR(2))
	}
	if g := o.groups[1]; g.wd != 0.01 || g.mom != 0.9 {
		t.Errorf("unset group settings: weight decay %v, momentum %v; want group 0's 0.01, 0.9", g.wd, g.mom)
	}
	o.SetLR(0.02)
	if o.LR() != 0.02 || o.GroupLR(1) != 0.01 || o.GroupLR(2) != 0.02 {
		t.Errorf("SetLR(0.02): rates %v %v %v, want 0.02 0.01 0.02", o.LR(), o.GroupLR(1), o.GroupLR(2))
	}
	o.SetGroupLR(2, 0.5)
	if o.GroupLR(2) != 0.5 || o.LR() != 0.02 {
		t.Errorf("SetGroupLR: %v, %v", o.GroupLR(2), o.LR())
	}
	o.SetMomentum(0.8)
	for k := range o.Groups() {
		if o.groups[k].mom != 0.8 {
			t.Errorf("SetMomentum: group %d momentum %v", k, o.groups[k].mom)
		}
	}
	// ApplySchedule runs a rebasable schedule from each group's own base.
	ApplySchedule(o, Cosine{BaseLR: 0.1, TMax: 4, EtaMin: 0.01}, 4)
	if o.LR() != 0.01 || o.GroupLR(1) != 0.01 {
		t.Errorf("cosine at TMax: rates %v %v, want EtaMin in both groups", o.LR(), o.GroupLR(1))
	}
	ApplySchedule(o, Cosine{BaseLR: 0.1, TMax: 4, EtaMin: 0.01}, 0)
	if o.LR() != 0.1 || o.GroupLR(1) != 0.05 {
		t.Errorf("cosine at 0: rates %v %v, want each group's base", o.LR(), o.GroupLR(1))
	}
}

// TestAddGroupPanics checks AddGroup's programmer errors.
func TestAddGroupPanics(t *testing.T) {
	p := func() *ag.Node { return ag.Var(tensor.New(tensor.Float64, 2)) }
	shared := p()
	cases := map[string]func(){
		"parameter twice": func() { NewAdam([]*ag.Node{shared}, AdamConfig{LR: 1}).AddGroup(Group{Params: []*ag.Node{shared}}) },
		"twice in one group": func() {
			x := p()
			NewAdam([]*ag.Node{p()}, AdamConfig{LR: 1}).AddGroup(Group{Params: []*ag.Node{x, x}})
		},
		"SGD momentum, none": func() {
			NewSGD([]*ag.Node{p()}, SGDConfig{LR: 1}).AddGroup(Group{Params: []*ag.Node{p()}, Momentum: new(0.9)})
		},
		"RMSProp momentum, none": func() {
			NewRMSProp([]*ag.Node{p()}, RMSPropConfig{LR: 1}).AddGroup(Group{Params: []*ag.Node{p()}, Momentum: new(0.9)})
		},
		"AdaGrad momentum": func() {
			NewAdaGrad([]*ag.Node{p()}, AdaGradConfig{LR: 1}).AddGroup(Group{Params: []*ag.Node{p()}, Momentum: new(0.9)})
		},
		"negative lr": func() {
			NewAdam([]*ag.Node{p()}, AdamConfig{LR: 1}).AddGroup(Group{Params: []*ag.Node{p()}, LR: new(-1.0)})
		},
		"beta1 1": func() {
			NewAdam([]*ag.Node{p()}, AdamConfig{LR: 1}).AddGroup(Group{Params: []*ag.Node{p()}, Momentum: new(1.0)})
		},
		"nesterov, zero momentum": func() {
			NewSGD([]*ag.Node{p()}, SGDConfig{LR: 1, Momentum: 0.9, Nesterov: true}).AddGroup(Group{Params: []*ag.Node{p()}, Momentum: new(0.0)})
		},
	}
	for name, f := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
