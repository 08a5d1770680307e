package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/internal/reftest"
	"github.com/nabla-go/nabla/tensor"
)

// The reference test replays trajectories recorded from PyTorch 1.13 by
// ../testdata/optim/gen_optim.py (run it with /usr/bin/python3 from the
// repository root; the file's header records the torch version and the
// command). Optimisers: two parameters, 5 steps of fixed gradients, the
// second parameter without a gradient at step 3; every configuration in
// float64 and float32. Schedules: the learning rate before and after each
// of 30 scheduler steps.
//
// Error measure, per parameter and step:
//
//	err = max_i |got_i − want_i| / max(max_i |want_i|, 1e-30)
//
// the worst absolute error relative to the tensor's largest reference
// entry (reftest.RelErr). It must be at most 1e-12 in float64 and 1e-5 in
// float32 (against torch's own float32 run). Learning rates: |got − want|
// ≤ 1e-12·|want| + 1e-15·(initial rate), the absolute term because torch
// updates most rates recursively, so a rate that should be 0 comes out as
// ~1e-18.

const referencePath = "../testdata/optim/reference.json"

var referenceTol = map[string]float64{"float64": 1e-12, "float32": 1e-5}

type referenceFile struct {
	Torch      string          `json:"torch_version"`
	Command    string          `json:"command"`
	Shapes     [][]int         `json:"shapes"`
	Init       [][]float64     `json:"init"`
	Grads      [][][]float64   `json:"grads"` // [step][param], nil for no gradient
	Optimizers []referenceOpt  `json:"optimizers"`
	Schedules  []referenceSche `json:"schedules"`
	Momentum   []struct {
		Name    string    `json:"name"`
		Config  OneCycle  `json:"config"`
		LRs     []float64 `json:"lrs"`
		Momenta []float64 `json:"momenta"`
	} `json:"momentum_schedules"`
	Scheduled []struct {
		referenceOpt
		Schedule OneCycle `json:"schedule"`
	} `json:"scheduled_optimizers"`
	Grouped []struct {
		referenceOpt
		Group    Group `json:"group"`
		Schedule *struct {
			Kind   string          `json:"kind"`
			Config json.RawMessage `json:"config"`
		} `json:"schedule"`
	} `json:"grouped_optimizers"`
}

type referenceOpt struct {
	Name   string          `json:"name"`
	Kind   string          `json:"kind"`
	DType  string          `json:"dtype"`
	Config json.RawMessage `json:"config"`
	Steps  [][][]float64   `json:"steps"` // [step][param] flat values after the step
}

type referenceSche struct {
	Name    string          `json:"name"`
	Kind    string          `json:"kind"`
	Config  json.RawMessage `json:"config"`
	Metrics []float64       `json:"metrics"`
	LRs     []float64       `json:"lrs"`
}

func loadReference(t *testing.T) *referenceFile {
	t.Helper()
	var f referenceFile
	reftest.Load(t, referencePath, &f)
	if len(f.Optimizers) == 0 || len(f.Schedules) == 0 {
		t.Fatal("reference file has no cases")
	}
	return &f
}

// newFromJSON builds the optimiser kind from a config written with the Go
// field names.
func newFromJSON(kind string, raw json.RawMessage, params []*ag.Node) (Optimizer, error) {
	var err error
	switch kind {
	case "sgd":
		var c SGDConfig
		if err = json.Unmarshal(raw, &c); err == nil {
			return NewSGD(params, c), nil
		}
	case "adagrad":
		var c AdaGradConfig
		if err = json.Unmarshal(raw, &c); err == nil {
			return NewAdaGrad(params, c), nil
		}
	case "rmsprop":
		var c RMSPropConfig
		if err = json.Unmarshal(raw, &c); err == nil {
			return NewRMSProp(params, c), nil
		}
	case "adam", "adamw":
		var c AdamConfig
		if err = json.Unmarshal(raw, &c); err == nil {
			if kind == "adam" {
				return NewAdam(params, c), nil
			}
			return NewAdamW(params, c), nil
		}
	default:
		err = fmt.Errorf("unknown optimiser kind %q", kind)
	}
	return nil, err
}

// relErr is the error measure above; optim_test.go uses it too.
var relErr = reftest.RelErr

func TestReferenceOptimizers(t *testing.T) {
	f := loadReference(t)
	t.Logf("reference: torch %s, %q", f.Torch, f.Command)
	worst := map[string]float64{}
	for _, c := range f.Optimizers {
		t.Run(c.Name+"/"+c.DType, func(t *testing.T) {
			dt := reftest.DType(c.DType)
			params := make([]*ag.Node, len(f.Shapes))
			for i, s := range f.Shapes {
				params[i] = ag.Var(tensor.FromValues(dt, f.Init[i], s...))
			}
			opt, err := newFromJSON(c.Kind, c.Config, params)
			if err != nil {
				t.Fatal(err)
			}
			tol := referenceTol[c.DType]
			for s, want := range c.Steps {
				for i, p := range params {
					if g := f.Grads[s][i]; g != nil {
						p.SetGrad(tensor.FromValues(dt, g, f.Shapes[i]...))
					} else {
						p.SetGrad(nil)
					}
				}
				opt.Step()
				for i, p := range params {
					e := relErr(p.Value().Values(), want[i])
					worst[c.DType] = math.Max(worst[c.DType], e)
					if !(e <= tol) {
						t.Errorf("step %d, param %d: error %.3g > %g\n got %v\nwant %v", s+1, i, e, tol, p.Value().Values(), want[i])
					}
				}
			}
		})
	}
	t.Logf("worst error against torch: float64 %.3g, float32 %.3g", worst["float64"], worst["float32"])
}

// scheduleFromJSON builds the schedule kind from a config written with the
// Go field names ("LR" is the base rate).
func scheduleFromJSON(kind string, raw json.RawMessage) (Schedule, *ReduceOnPlateau, error) {
	var base struct{ LR float64 }
	if err := json.Unmarshal(raw, &base); err != nil {
		return nil, nil, err
	}
	var s Schedule
	var err error
	switch kind {
	case "step":
		c := Step{}
		err = json.Unmarshal(raw, &c)
		c.BaseLR, s = base.LR, &c
	case "multistep":
		c := MultiStep{}
		err = json.Unmarshal(raw, &c)
		c.BaseLR, s = base.LR, &c
	case "exponential":
		c := Exponential{}
		err = json.Unmarshal(raw, &c)
		c.BaseLR, s = base.LR, &c
	case "cosine":
		c := Cosine{}
		err = json.Unmarshal(raw, &c)
		c.BaseLR, s = base.LR, &c
	case "onecycle":
		c := OneCycle{}
		err = json.Unmarshal(raw, &c)
		s = &c
	case "linear":
		c := Linear{}
		err = json.Unmarshal(raw, &c)
		c.BaseLR, s = base.LR, &c
	case "sequential":
		var c struct {
			Schedules []struct {
				Kind   string
				Config json.RawMessage
			}
			Milestones []int
		}
		if err = json.Unmarshal(raw, &c); err != nil {
			break
		}
		seq := Sequential{Milestones: c.Milestones}
		for _, sub := range c.Schedules {
			x, _, e := scheduleFromJSON(sub.Kind, sub.Config)
			if e != nil {
				return nil, nil, e
			}
			seq.Schedules = append(seq.Schedules, x)
		}
		s = seq
	case "warmup":
		var c struct {
			Schedule struct {
				Kind   string
				Config json.RawMessage
			}
			Steps       int
			StartFactor *float64
		}
		if err = json.Unmarshal(raw, &c); err != nil {
			break
		}
		inner, _, e := scheduleFromJSON(c.Schedule.Kind, c.Schedule.Config)
		if e != nil {
			return nil, nil, e
		}
		s = Warmup{Schedule: inner, Steps: c.Steps, StartFactor: c.StartFactor}
	case "plateau":
		r := NewReduceOnPlateau(base.LR)
		err = json.Unmarshal(raw, r)
		return r, r, err
	default:
		err = fmt.Errorf("unknown schedule kind %q", kind)
	}
	return s, nil, err
}

func TestReferenceSchedules(t *testing.T) {
	f := loadReference(t)
	var worst float64
	for _, c := range f.Schedules {
		t.Run(c.Name, func(t *testing.T) {
			s, plateau, err := scheduleFromJSON(c.Kind, c.Config)
			if err != nil {
				t.Fatal(err)
			}
			n := len(c.LRs)
			if oc, ok := s.(*OneCycle); ok {
				n = oc.TotalSteps // torch extrapolates past the end; nabla holds the final rate
			}
			base := c.LRs[0]
			if oc, ok := s.(*OneCycle); ok {
				base = oc.MaxLR
			}
			for step := 0; step < n; step++ {
				if plateau != nil && step > 0 {
					plateau.Report(c.Metrics[step-1])
				}
				got, want := s.LR(step), c.LRs[step]
				d := math.Abs(got - want)
				worst = math.Max(worst, d/math.Max(math.Abs(want), 1e-3*base))
				if !(d <= 1e-12*math.Abs(want)+1e-15*base) {
					t.Errorf("step %d: lr %.17g, torch %.17g (diff %.3g)", step, got, want, d)
				}
			}
		})
	}
	t.Logf("worst relative lr error against torch: %.3g", worst)
}

// TestReferenceMomentumCycling checks OneCycle's momentum (torch's
// cycle_momentum=True: SGD's momentum, Adam's betas[0]) and rate, step by
// step, in both modes.
func TestReferenceMomentumCycling(t *testing.T) {
	f := loadReference(t)
	if len(f.Momentum) < 3 {
		t.Fatalf("%d momentum cases, want 3", len(f.Momentum))
	}
	for _, c := range f.Momentum {
		for step := range c.Config.TotalSteps {
			lr, m := c.Config.LR(step), c.Config.Momentum(step)
			if d := math.Abs(lr - c.LRs[step]); !(d <= 1e-12*c.LRs[step]+1e-15*c.Config.MaxLR) {
				t.Errorf("%s step %d: lr %.17g, torch %.17g", c.Name, step, lr, c.LRs[step])
			}
			if d := math.Abs(m - c.Momenta[step]); !(d <= 1e-14) {
				t.Errorf("%s step %d: momentum %.17g, torch %.17g", c.Name, step, m, c.Momenta[step])
			}
		}
	}
}

// TestReferenceScheduledOptimizers replays optimiser trajectories driven
// by a OneCycle that cycles the momentum, through ApplySchedule, against
// torch's optimiser stepped with its OneCycleLR.
func TestReferenceScheduledOptimizers(t *testing.T) {
	f := loadReference(t)
	if len(f.Scheduled) < 4 {
		t.Fatalf("%d scheduled cases, want 4", len(f.Scheduled))
	}
	for _, c := range f.Scheduled {
		t.Run(c.Name+"/"+c.DType, func(t *testing.T) {
			dt := reftest.DType(c.DType)
			params := make([]*ag.Node, len(f.Shapes))
			for i, s := range f.Shapes {
				params[i] = ag.Var(tensor.FromValues(dt, f.Init[i], s...))
			}
			opt, err := newFromJSON(c.Kind, c.Config, params)
			if err != nil {
				t.Fatal(err)
			}
			for s, want := range c.Steps {
				for i, p := range params {
					if g := f.Grads[s][i]; g != nil {
						p.SetGrad(tensor.FromValues(dt, g, f.Shapes[i]...))
					} else {
						p.SetGrad(nil)
					}
				}
				ApplySchedule(opt, c.Schedule, s)
				opt.Step()
				for i, p := range params {
					if e := relErr(p.Value().Values(), want[i]); !(e <= referenceTol[c.DType]) {
						t.Errorf("step %d, param %d: error %.3g", s+1, i, e)
					}
				}
			}
		})
	}
}

// TestReferenceGroups replays trajectories of optimisers with two
// parameter groups (the second with its own rate, weight decay or
// momentum), some driven by a schedule through ApplySchedule, against
// torch's optimiser over two param_groups.
func TestReferenceGroups(t *testing.T) {
	f := loadReference(t)
	if len(f.Grouped) < 12 {
		t.Fatalf("%d grouped cases, want 12", len(f.Grouped))
	}
	var worst float64
	for _, c := range f.Grouped {
		t.Run(c.Name+"/"+c.DType, func(t *testing.T) {
			dt := reftest.DType(c.DType)
			params := make([]*ag.Node, len(f.Shapes))
			for i, s := range f.Shapes {
				params[i] = ag.Var(tensor.FromValues(dt, f.Init[i], s...))
			}
			opt, err := newFromJSON(c.Kind, c.Config, params[:1])
			if err != nil {
				t.Fatal(err)
			}
			g := c.Group
			g.Params = params[1:]
			opt.(interface{ AddGroup(Group) }).AddGroup(g)
			var sched Schedule
			if c.Schedule != nil {
				if sched, _, err = scheduleFromJSON(c.Schedule.Kind, c.Schedule.Config); err != nil {
					t.Fatal(err)
				}
			}
			for s, want := range c.Steps {
				for i, p := range params {
					if g := f.Grads[s][i]; g != nil {
						p.SetGrad(tensor.FromValues(dt, g, f.Shapes[i]...))
					} else {
						p.SetGrad(nil)
					}
				}
				if sched != nil {
					ApplySchedule(opt, sched, s)
				}
				opt.Step()
				for i, p := range params {
					e := relErr(p.Value().Values(), want[i])
					if c.DType == "float64" {
						worst = math.Max(worst, e)
					}
					if !(e <= referenceTol[c.DType]) {
						t.Errorf("step %d, param %d: error %.3g", s+1, i, e)
					}
				}
			}
		})
	}
	t.Logf("worst float64 error against torch: %.3g", worst)
}
