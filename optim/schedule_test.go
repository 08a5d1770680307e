package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

func TestScheduleByName(t *testing.T) {
	for _, name := range ScheduleNames() {
		s, err := ScheduleByName(name, 0.1, 100)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if lr := s.LR(0); !(lr > 0 && lr <= 0.1) {
			t.Errorf("%s: first rate %v, want in (0, 0.1]", name, lr)
		}
		for step := range 100 {
			if lr := s.LR(step); !(lr >= 0 && lr <= 0.1) || math.IsNaN(lr) {
				t.Errorf("%s: rate %v at step %d", name, lr, step)
				break
			}
		}
	}
	if s, _ := ScheduleByName("exponential", 0.1, 50); math.Abs(s.LR(50)-0.001) > 1e-15 {
		t.Errorf("exponential: rate %v after 50 steps, want 0.001", s.LR(50))
	}
	if s, _ := ScheduleByName("Step", 1, 9); s.LR(2) != 1 || s.LR(3) != 0.1 {
		t.Errorf("step: rates %v, %v at steps 2, 3; want 1, 0.1", s.LR(2), s.LR(3))
	}
	bad := []struct {
		name string
		lr   float64
		n    int
		want string
	}{
		{"linear", 0.1, 10, "constant, step, multistep, exponential, cosine, onecycle, plateau"},
		{"cosine", 0, 10, "learning rate"},
		{"cosine", math.NaN(), 10, "learning rate"},
		{"onecycle", 0.1, 0, "total steps"},
	}
	for _, b := range bad {
		if _, err := ScheduleByName(b.name, b.lr, b.n); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("ScheduleByName(%q, %v, %d): error %v, want one mentioning %q", b.name, b.lr, b.n, err, b.want)
		}
	}
}

func TestScheduleEdges(t *testing.T) {
	if got := (Constant{0.3}).LR(1000); got != 0.3 {
		t.Errorf("Constant: %v", got)
	}
	oc := OneCycle{MaxLR: 1, TotalSteps: 10}
	if a, b := oc.LR(9), oc.LR(1000); a != b || a != 1.0/25/1e4 {
		t.Errorf("OneCycle past the end: %v, %v; want the final rate %v", a, b, 1.0/25/1e4)
	}
	if got := (OneCycle{MaxLR: 1, TotalSteps: 2}).LR(0); math.IsNaN(got) {
		t.Errorf("OneCycle with a one-step warm-up: NaN")
	}
	if got := (Cosine{BaseLR: 1, TMax: 3, Warmup: 3}).LR(5); got != 1 {
		t.Errorf("Cosine with TMax ≤ Warmup: %v after warm-up, want 1", got)
	}
	if got := (Step{BaseLR: 1, Gamma: 0.5}).LR(5); got != 1 {
		t.Errorf("Step with StepSize 0: %v, want 1", got)
	}
}

// TestPlateauResume saves a ReduceOnPlateau mid-run and checks that a
// restored copy makes the same decisions.
func TestPlateauResume(t *testing.T) {
	metrics := []float64{5, 4, 4, 4, 4, 3.99, 3.99, 3.99, 3.99, 3, 3, 3, 3, 3, 3, 3}
	mk := func() *ReduceOnPlateau {
		r := NewReduceOnPlateau(1)
		r.Patience, r.Cooldown, r.Factor = new(1), 2, new(0.5)
		return r
	}
	a := mk()
	var b *ReduceOnPlateau
	for i, m := range metrics {
		if i == 6 {
			b = mk()
			if err := b.LoadStateDict(a.StateDict()); err != nil {
				t.Fatal(err)
			}
		}
		a.Report(m)
		if b != nil {
			b.Report(m)
			if a.LR(i) != b.LR(i) {
				t.Fatalf("report %d: restored rate %v, want %v", i, b.LR(i), a.LR(i))
			}
		}
	}
	if a.LR(0) >= 1 {
		t.Errorf("rate never reduced: %v", a.LR(0))
	}
	sd := a.StateDict()
	delete(sd, "best")
	if err := b.LoadStateDict(sd); err == nil || !strings.Contains(err.Error(), `"best"`) {
		t.Errorf("missing best: error %v", err)
	}
	if got := NewReduceOnPlateau(1).StateDict()["best"].Item(); !math.IsInf(got, 1) {
		t.Errorf("best before any report: %v, want +Inf", got)
	}
}

// TestScheduleByNameDocumented checks the rates ScheduleByName's doc
// promises, and that only the plateau schedule is a Reporter.
func TestScheduleByNameDocumented(t *testing.T) {
	const T = 40
	for _, name := range ScheduleNames() {
		s, err := ScheduleByName(name, 2, T)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(Reporter); ok != (name == "plateau") {
			t.Errorf("%s: implements Reporter: %v", name, ok)
		}
	}
	e, _ := ScheduleByName("exponential", 2, T)
	if got := e.LR(T); math.Abs(got-0.02) > 1e-15 {
		t.Errorf("exponential: LR(T) = %v, want lr/100 = 0.02", got)
	}
	if got, want := e.LR(T-1), 2*math.Pow(0.01, float64(T-1)/T); math.Abs(got-want) > 1e-15 {
		t.Errorf("exponential: LR(T-1) = %v, want %v", got, want)
	}
	c, _ := ScheduleByName("cosine", 2, T)
	if got, want := c.LR(T-1), 2*(1-math.Cos(math.Pi/T))/2; math.Abs(got-want) > 1e-15 || c.LR(T) > 1e-15 {
		t.Errorf("cosine: LR(T-1) = %v, want %v; LR(T) = %v, want 0", got, want, c.LR(T))
	}
}

// TestComposedSchedulesPanic checks the programmer errors of Sequential,
// Warmup and Linear.
func TestComposedSchedulesPanic(t *testing.T) {
	c := Constant{1}
	cases := map[string]func(){
		"too few milestones":  func() { Sequential{Schedules: []Schedule{c, c}}.LR(0) },
		"decreasing":          func() { Sequential{Schedules: []Schedule{c, c, c}, Milestones: []int{5, 3}}.LR(4) },
		"plateau in sequence": func() { Sequential{Schedules: []Schedule{c, NewReduceOnPlateau(1)}, Milestones: []int{2}}.LR(3) },
		"plateau warm-up":     func() { Warmup{Schedule: NewReduceOnPlateau(1), Steps: 2}.LR(0) },
		"linear of 0 steps":   func() { Linear{BaseLR: 1, TotalIters: new(0)}.LR(0) },
		"SGD without momentum": func() {
			NewSGD([]*ag.Node{ag.Var(tensor.New(tensor.Float64, 1))}, SGDConfig{LR: 1}).SetMomentum(0.9)
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
	// Zero-length phases: Warmup of 0 steps is the schedule itself.
	if got := (Warmup{Schedule: Exponential{BaseLR: 1, Gamma: 0.5}}).LR(2); got != 0.25 {
		t.Errorf("Warmup of 0 steps: %v, want 0.25", got)
	}
}
