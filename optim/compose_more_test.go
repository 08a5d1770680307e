package optim

import (
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// A one-cycle schedule that cycles momentum leaves an optimiser without
// momentum (plain SGD, RMSProp without it) alone instead of panicking,
// and cycles the momentum of one that has it.
func TestApplyScheduleWithoutMomentum(t *testing.T) {
	p := []*ag.Node{ag.Var(tensor.Zeros(tensor.Float32, 3))}
	s, err := ScheduleByName("onecycle", 0.1, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sgd", "rmsprop", "momentum", "adam"} {
		opt, err := ByName(name, p, 0.1, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s: ApplySchedule panicked: %v", name, r)
				}
			}()
			ApplySchedule(opt, s, 30)
		}()
		if m, ok := opt.(MomentumSetter); ok && m.HasMomentum() {
			if got, want := m.Momentum(), s.(MomentumSchedule).Momentum(30); got != want {
				t.Errorf("%s: momentum %v, the schedule's %v", name, got, want)
			}
		}
	}
}
