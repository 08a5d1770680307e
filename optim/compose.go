package optim

import "fmt"

// Linear changes the learning rate linearly from BaseLR·StartFactor to
// BaseLR·EndFactor over TotalIters steps and keeps it there, as torch's
// LinearLR:
//
//	BaseLR·(StartFactor + (EndFactor − StartFactor)·min(step, TotalIters)/TotalIters)
//
// Nil fields take torch's defaults: StartFactor 1/3, EndFactor 1,
// TotalIters 5. It is the usual linear warm-up when it ends at 1; Warmup
// puts one in front of any schedule.
type Linear struct {
	BaseLR      float64
	StartFactor *float64 // factor at step 0; nil: 1/3
	EndFactor   *float64 // factor from step TotalIters on; nil: 1
	TotalIters  *int     // steps the change takes; nil: 5
}

// LR returns the rate after step steps. It panics when TotalIters is not
// positive.
func (l Linear) LR(step int) float64 {
	start, end, n := valueOr(l.StartFactor, 1.0/3), valueOr(l.EndFactor, 1), valueOr(l.TotalIters, 5)
	if n < 1 {
		panic(fmt.Sprintf("optim.Linear: TotalIters %d must be ≥ 1", n))
	}
	step = min(max(step, 0), n)
	return l.BaseLR * (start + (end-start)*float64(step)/float64(n))
}

// Sequential runs Schedules one after another, switching at Milestones
// (one fewer than the schedules, increasing), as torch's SequentialLR:
// schedule i runs from milestone i−1 (0 for the first) and is given the
// steps counted from there, so each starts afresh at its own step 0.
// Compose warm-ups, decays and restarts with it:
//
//	optim.Sequential{
//		Schedules:  []optim.Schedule{optim.Linear{BaseLR: lr, StartFactor: new(0.1), TotalIters: new(100)},
//			optim.Exponential{BaseLR: lr, Gamma: 0.999}},
//		Milestones: []int{100},
//	}
//
// Like torch's, each schedule keeps its own base rate: give them the same
// one for a continuous rate. A ReduceOnPlateau inside it would ignore the
// step, so Sequential does not accept one (LR panics), nor mismatched
// lengths or decreasing milestones.
type Sequential struct {
	Schedules  []Schedule
	Milestones []int
}

// LR returns the rate after step steps.
func (s Sequential) LR(step int) float64 {
	if len(s.Schedules) != len(s.Milestones)+1 {
		panic(fmt.Sprintf("optim.Sequential: %d schedules need %d milestones, have %d", len(s.Schedules), len(s.Schedules)-1, len(s.Milestones)))
	}
	i, start := 0, 0
	for k, m := range s.Milestones {
		if k > 0 && m < s.Milestones[k-1] {
			panic(fmt.Sprintf("optim.Sequential: milestones %v are not increasing", s.Milestones))
		}
		if step >= m {
			i, start = k+1, m
		}
	}
	if _, ok := s.Schedules[i].(Reporter); ok {
		panic("optim.Sequential: a metric-driven schedule (a Reporter) cannot be sequenced by step")
	}
	return s.Schedules[i].LR(step - start)
}

// Warmup puts a linear warm-up of Steps steps in front of Schedule: the
// rate rises linearly from StartFactor·r to r, where r = Schedule.LR(0),
// and from step Steps on it is Schedule.LR(step − Steps). That is torch's
//
//	SequentialLR([LinearLR(start_factor=StartFactor, end_factor=1, total_iters=Steps),
//	              schedule], milestones=[Steps])
//
// for a schedule whose rate starts at its base rate (all but OneCycle,
// which starts at MaxLR/DivFactor and has a warm-up of its own). Nil
// StartFactor is LinearLR's default, 1/3. Steps 0 is no warm-up.
type Warmup struct {
	Schedule    Schedule
	Steps       int
	StartFactor *float64 // the first step's fraction of the rate; nil: 1/3
}

// LR returns the rate after step steps.
func (w Warmup) LR(step int) float64 {
	if _, ok := w.Schedule.(Reporter); ok {
		panic("optim.Warmup: a metric-driven schedule (a Reporter) cannot be shifted by step")
	}
	if step >= w.Steps {
		return w.Schedule.LR(step - w.Steps)
	}
	n := w.Steps
	return Linear{BaseLR: w.Schedule.LR(0), StartFactor: w.StartFactor, EndFactor: new(1.0), TotalIters: &n}.LR(step)
}

// MomentumSchedule is implemented by the schedules that also cycle the
// momentum (OneCycle): a training loop that wants torch's
// cycle_momentum=True calls
//
//	if m, ok := sched.(optim.MomentumSchedule); ok {
//		if o, ok := opt.(optim.MomentumSetter); ok && o.HasMomentum() {
//			o.SetMomentum(m.Momentum(step))
//		}
//	}
//
// beside opt.SetLR(sched.LR(step)) (see ApplySchedule, which does both).
type MomentumSchedule interface {
	Schedule
	Momentum(step int) float64
}

// MomentumSetter is implemented by the optimisers with a momentum a
// schedule can cycle, as torch's OneCycleLR and CyclicLR do: SGD's
// momentum, RMSProp's momentum and Adam's β₁. SetMomentum sets it in every
// parameter group; HasMomentum reports whether there is one to set (SGD
// and RMSProp built without momentum have none: SetMomentum panics there).
type MomentumSetter interface {
	Momentum() float64
	SetMomentum(m float64)
	HasMomentum() bool
}

// Rebaser is implemented by the value schedules that can start from
// another base rate: WithBaseLR returns a copy that does. ApplySchedule
// uses it to run a schedule in each parameter group from the group's own
// initial rate, as PyTorch's schedulers do. OneCycle returns itself (with
// one max_lr, torch gives every group the same rates).
type Rebaser interface {
	WithBaseLR(lr float64) Schedule
}

// WithBaseLR returns c starting from lr.
func (c Constant) WithBaseLR(lr float64) Schedule { c.BaseLR = lr; return c }

// WithBaseLR returns s starting from lr.
func (s Step) WithBaseLR(lr float64) Schedule { s.BaseLR = lr; return s }

// WithBaseLR returns m starting from lr.
func (m MultiStep) WithBaseLR(lr float64) Schedule { m.BaseLR = lr; return m }

// WithBaseLR returns e starting from lr.
func (e Exponential) WithBaseLR(lr float64) Schedule { e.BaseLR = lr; return e }

// WithBaseLR returns c starting from lr (EtaMin, an absolute rate, is
// kept, as torch keeps eta_min for every group).
func (c Cosine) WithBaseLR(lr float64) Schedule { c.BaseLR = lr; return c }

// WithBaseLR returns l starting from lr.
func (l Linear) WithBaseLR(lr float64) Schedule { l.BaseLR = lr; return l }

// WithBaseLR returns o itself: its rates do not depend on a base rate.
func (o OneCycle) WithBaseLR(float64) Schedule { return o }

// WithBaseLR returns s with every schedule starting from lr (in torch the
// schedules of a SequentialLR share the group's initial rate). It panics
// when one of them is not a Rebaser.
func (s Sequential) WithBaseLR(lr float64) Schedule {
	out := Sequential{Milestones: s.Milestones, Schedules: make([]Schedule, len(s.Schedules))}
	for i, x := range s.Schedules {
		out.Schedules[i] = rebase(x, lr)
	}
	return out
}

// WithBaseLR returns w with its schedule starting from lr. It panics when
// that schedule is not a Rebaser.
func (w Warmup) WithBaseLR(lr float64) Schedule { w.Schedule = rebase(w.Schedule, lr); return w }

func rebase(s Schedule, lr float64) Schedule {
	r, ok := s.(Rebaser)
	if !ok {
		panic(fmt.Sprintf("optim: a %T cannot start from another base rate (it is not a Rebaser)", s))
	}
	return r.WithBaseLR(lr)
}

// groupRates is what the optimisers with parameter groups offer.
type groupRates interface {
	Groups() int
	GroupBaseLR(g int) float64
	SetGroupLR(g int, lr float64)
}

// ApplySchedule sets opt's learning rate for step from s and, when s
// cycles the momentum and opt has one (plain SGD, and RMSProp without
// momentum, have none to cycle: PyTorch's OneCycleLR refuses them, this
// leaves their momentum alone), its momentum too: the one call a
// training loop makes before each optimiser step to follow a torch
// scheduler exactly.
//
// With parameter groups (AddGroup) and a schedule that is a Rebaser, each
// group g follows s started from the group's initial rate, as PyTorch's
// schedulers do (with group 0's initial rate, the optimiser's LR, as s's
// BaseLR); otherwise (ReduceOnPlateau) it calls opt.SetLR, which scales
// the other groups in proportion.
func ApplySchedule(opt Optimizer, s Schedule, step int) {
	g, ok := opt.(groupRates)
	r, rebasable := s.(Rebaser)
	if ok && rebasable && g.Groups() > 1 {
		g.SetGroupLR(0, s.LR(step))
		for k := 1; k < g.Groups(); k++ {
			g.SetGroupLR(k, r.WithBaseLR(g.GroupBaseLR(k)).LR(step))
		}
	} else {
		opt.SetLR(s.LR(step))
	}
	if m, ok := s.(MomentumSchedule); ok {
		if o, ok := opt.(MomentumSetter); ok && o.HasMomentum() {
			o.SetMomentum(m.Momentum(step))
		}
	}
}
