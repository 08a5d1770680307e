package optim

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Schedule gives the learning rate for each optimiser step. A training
// loop calls opt.SetLR(s.LR(step)) before each optimiser step, with step
// the number of optimiser steps taken so far (0 before any), or once per
// epoch with the number of epochs for epoch-based schedules.
//
// For every schedule in this package except ReduceOnPlateau, LR is a pure
// function of step: it can be called in any order, any number of times,
// and LR(k) is the rate torch.optim.lr_scheduler's class of the same name
// would have put in the optimiser after k calls to its step(), in the
// closed form (torch mostly updates the rate recursively, which agrees to
// rounding: within 1e-15 of the initial rate in the tests). The starting
// rate is the field BaseLR (torch's base_lr), since LR is the method.
//
// ReduceOnPlateau is the exception, and says so by also implementing
// Reporter: its rate is a function of the metrics reported so far, and its
// LR ignores step. Code that drives a schedule should check for Reporter
// and call Report once per evaluation.
type Schedule interface{ LR(step int) float64 }

// Reporter is implemented by the schedules whose rate depends on a
// measured metric instead of on the step (ReduceOnPlateau): after each
// evaluation the training loop passes the metric to Report, and the rate
// LR returns from then on reflects it, whatever step LR is given.
type Reporter interface{ Report(metric float64) }

// Constant keeps the learning rate at LR.
type Constant struct{ BaseLR float64 }

// LR returns the constant rate.
func (c Constant) LR(int) float64 { return c.BaseLR }

// Step multiplies the learning rate by Gamma every StepSize steps:
// LR·Gamma^⌊step/StepSize⌋ (torch StepLR). A StepSize below 1 never decays.
type Step struct {
	BaseLR   float64
	StepSize int
	Gamma    float64
}

// LR returns the rate after step steps.
func (s Step) LR(step int) float64 {
	if s.StepSize < 1 || step < 0 {
		return s.BaseLR
	}
	return s.BaseLR * math.Pow(s.Gamma, float64(step/s.StepSize))
}

// MultiStep multiplies the learning rate by Gamma at each milestone:
// LR·Gamma^k with k the number of milestones ≤ step, a milestone listed
// twice counting twice (torch MultiStepLR).
type MultiStep struct {
	BaseLR     float64
	Milestones []int
	Gamma      float64
}

// LR returns the rate after step steps.
func (m MultiStep) LR(step int) float64 {
	k := 0
	for _, ms := range m.Milestones {
		if ms <= step {
			k++
		}
	}
	return m.BaseLR * math.Pow(m.Gamma, float64(k))
}

// Exponential multiplies the learning rate by Gamma every step:
// LR·Gamma^step (torch ExponentialLR).
type Exponential struct {
	BaseLR float64
	Gamma  float64
}

// LR returns the rate after step steps.
func (e Exponential) LR(step int) float64 {
	if step < 0 {
		step = 0
	}
	return e.BaseLR * math.Pow(e.Gamma, float64(step))
}

// Cosine anneals the learning rate from LR to EtaMin along half a cosine
// over TMax steps, after an optional linear warm-up of Warmup steps:
//
//	LR·(step+1)/(Warmup+1)                                   step < Warmup
//	EtaMin + (LR − EtaMin)·(1 + cos(π·(step−Warmup)/T))/2    otherwise
//
// with T = TMax − Warmup, so that the rate reaches EtaMin at step TMax.
// Without warm-up this is torch's CosineAnnealingLR(T_max=TMax,
// eta_min=EtaMin); with it, torch's
//
//	SequentialLR([LinearLR(start_factor=1/(Warmup+1), total_iters=Warmup),
//	              CosineAnnealingLR(T_max=TMax−Warmup, eta_min=EtaMin)],
//	             milestones=[Warmup])
//
// The warm-up's first step runs at LR/(Warmup+1) (never at 0, which would
// waste a step) and reaches LR at step Warmup. Past TMax the rate follows
// the cosine back up, as torch's does: set TMax to the number of steps
// you will take. A TMax not above Warmup leaves the rate at LR after the
// warm-up.
type Cosine struct {
	BaseLR float64
	TMax   int
	EtaMin float64
	Warmup int
}

// LR returns the rate after step steps.
func (c Cosine) LR(step int) float64 {
	if step < 0 {
		step = 0
	}
	if step < c.Warmup {
		return c.BaseLR * float64(step+1) / float64(c.Warmup+1)
	}
	t, tmax := step-c.Warmup, c.TMax-c.Warmup
	if tmax <= 0 {
		return c.BaseLR
	}
	return c.EtaMin + (c.BaseLR-c.EtaMin)*(1+math.Cos(math.Pi*float64(t)/float64(tmax)))/2
}

// OneCycle is the one-cycle policy of torch's OneCycleLR, stepped once per
// batch. In the default two-phase mode the rate rises from
// MaxLR/DivFactor to MaxLR over the first PctStart of TotalSteps, then
// falls to MaxLR/(DivFactor·FinalDivFactor); with ThreePhase it rises
// over PctStart, falls back to MaxLR/DivFactor over the same number of
// steps, then falls to the final rate (torch's three_phase=True). Each
// phase follows a cosine ("cos") or a line ("linear"). Nil fields take
// torch's defaults: PctStart 0.3, DivFactor 25, FinalDivFactor 1e4,
// BaseMomentum 0.85, MaxMomentum 0.95; an empty AnnealStrategy is "cos".
//
// Momentum cycles against the rate, from MaxMomentum down to BaseMomentum
// while the rate rises and back while it falls (and at MaxMomentum in the
// third phase), as torch's cycle_momentum=True: Momentum(step) gives it,
// and a training loop applies it with SetMomentum to an optimiser that is
// a MomentumSetter (SGD's momentum, Adam's β₁, RMSProp's momentum), as
// torch does. A loop that only calls LR runs torch's
// cycle_momentum=False.
//
// Steps from TotalSteps−1 on keep the final values (torch extrapolates
// one step past the end, then raises an error).
type OneCycle struct {
	MaxLR          float64
	TotalSteps     int
	PctStart       *float64 // fraction of the steps spent rising; nil: 0.3
	DivFactor      *float64 // the first rate is MaxLR/DivFactor; nil: 25
	FinalDivFactor *float64 // the last rate is MaxLR/(DivFactor·FinalDivFactor); nil: 1e4
	AnnealStrategy string   // "cos" (also when empty) or "linear"
	ThreePhase     bool     // rise, fall back to the first rate, then anneal to the last
	BaseMomentum   *float64 // the momentum at the peak rate; nil: 0.85
	MaxMomentum    *float64 // the momentum at the ends; nil: 0.95
}

// oneCyclePhase is one phase of the cycle: it ends at step end (a float,
// as torch's), going from the start values to the end values.
type oneCyclePhase struct {
	end                  float64
	lr0, lr1, mom0, mom1 float64
}

// phases returns the cycle's phases, as torch's _schedule_phases.
func (o OneCycle) phases() []oneCyclePhase {
	pct := valueOr(o.PctStart, 0.3)
	initial := o.MaxLR / valueOr(o.DivFactor, 25)
	final := initial / valueOr(o.FinalDivFactor, 1e4)
	base, top := valueOr(o.BaseMomentum, 0.85), valueOr(o.MaxMomentum, 0.95)
	total := float64(o.TotalSteps)
	if o.ThreePhase {
		return []oneCyclePhase{
			{pct*total - 1, initial, o.MaxLR, top, base},
			{2*pct*total - 2, o.MaxLR, initial, base, top},
			{total - 1, initial, final, top, top},
		}
	}
	return []oneCyclePhase{
		{pct*total - 1, initial, o.MaxLR, top, base},
		{total - 1, o.MaxLR, final, base, top},
	}
}

// at returns the rate and the momentum after step steps.
func (o OneCycle) at(step int) (lr, momentum float64) {
	anneal := annealCos
	if o.AnnealStrategy == "linear" {
		anneal = annealLinear
	}
	s := float64(min(max(step, 0), o.TotalSteps-1))
	ph := o.phases()
	start := 0.0
	for i, p := range ph {
		if s <= p.end || i == len(ph)-1 {
			if p.end <= start { // an empty phase: torch would divide by zero
				return p.lr1, p.mom1
			}
			pct := (s - start) / (p.end - start)
			return anneal(p.lr0, p.lr1, pct), anneal(p.mom0, p.mom1, pct)
		}
		start = p.end
	}
	panic("unreachable")
}

// LR returns the rate after step steps.
func (o OneCycle) LR(step int) float64 {
	lr, _ := o.at(step)
	return lr
}

// Momentum returns the momentum after step steps (see OneCycle).
func (o OneCycle) Momentum(step int) float64 {
	_, m := o.at(step)
	return m
}

func annealCos(start, end, pct float64) float64 {
	return end + (start-end)/2*(math.Cos(math.Pi*pct)+1)
}

func annealLinear(start, end, pct float64) float64 { return (end-start)*pct + start }

// scheduleNames lists the schedules ScheduleByName knows.
var scheduleNames = []string{"constant", "step", "multistep", "exponential", "cosine", "onecycle", "plateau"}

// ScheduleNames lists the schedules ScheduleByName knows (a copy).
func ScheduleNames() []string { return slices.Clone(scheduleNames) }

// ScheduleByName returns a schedule for a command line's --schedule flag,
// starting at lr, with defaults sized to totalSteps, the number T of
// optimiser steps the run will take (numbered 0 … T−1, so LR(T−1) is the
// last rate used):
//
//   - constant: lr throughout;
//   - step: ×0.1 every ⌈T/3⌉ steps (Step{StepSize: ⌈T/3⌉, Gamma: 0.1});
//   - multistep: ×0.1 at steps ⌊T/2⌋ and ⌊3T/4⌋;
//   - exponential: ×γ per step with γ = 0.01^(1/T), so that LR(k) =
//     lr·0.01^(k/T): LR(T) would be exactly lr/100, and the last rate
//     used, LR(T−1), is lr·0.01^((T−1)/T);
//   - cosine: Cosine{TMax: T}, cosine annealing towards 0, reached at
//     LR(T) (the last rate used, LR(T−1), is lr·(1 − cos(π/T))/2);
//   - onecycle: OneCycle with MaxLR lr over T steps, torch's defaults;
//   - plateau: NewReduceOnPlateau(lr), whose rate ignores the step and
//     changes only through Report (it implements Reporter; totalSteps is
//     only checked).
//
// An unknown name, lr ≤ 0, or totalSteps < 1 is an error.
func ScheduleByName(name string, lr float64, totalSteps int) (Schedule, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if !slices.Contains(scheduleNames, name) {
		return nil, fmt.Errorf("optim: unknown schedule %q (want one of %s)", name, strings.Join(scheduleNames, ", "))
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("optim: schedule %s: the learning rate must be a positive, finite number, not %v", name, lr)
	}
	if totalSteps < 1 {
		return nil, fmt.Errorf("optim: schedule %s: total steps %d must be ≥ 1", name, totalSteps)
	}
	switch name {
	case "constant":
		return Constant{lr}, nil
	case "step":
		return Step{BaseLR: lr, StepSize: (totalSteps + 2) / 3, Gamma: 0.1}, nil
	case "multistep":
		return MultiStep{BaseLR: lr, Milestones: []int{totalSteps / 2, totalSteps * 3 / 4}, Gamma: 0.1}, nil
	case "exponential":
		return Exponential{BaseLR: lr, Gamma: math.Pow(0.01, 1/float64(totalSteps))}, nil
	case "cosine":
		return Cosine{BaseLR: lr, TMax: totalSteps}, nil
	case "onecycle":
		return OneCycle{MaxLR: lr, TotalSteps: totalSteps}, nil
	default: // plateau
		return NewReduceOnPlateau(lr), nil
	}
}
