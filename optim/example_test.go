package optim_test

import (
	"fmt"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// Minimise f(w) = Σ (w − 3)² with SGD and momentum. Each step runs the
// forward pass, backpropagates and updates w in place. (torch.optim.SGD
// prints the same numbers.)
func ExampleSGD() {
	w := ag.Var(tensor.FromFloat64([]float64{0, 1}))
	three := ag.Const(tensor.Full(tensor.Float64, 3, 2))
	opt := optim.NewSGD([]*ag.Node{w}, optim.SGDConfig{LR: 0.1, Momentum: 0.5})
	for step := range 4 {
		opt.ZeroGrad()
		loss := ag.Sum(ag.Square(ag.Sub(w, three)))
		ag.Backward(loss)
		opt.Step()
		fmt.Printf("step %d: loss %.4f, w = %.4f\n", step, loss.Item(), w.Value().Values())
	}
	// Output:
	// step 0: loss 13.0000, w = [0.6000 1.4000]
	// step 1: loss 8.3200, w = [1.3800 1.9200]
	// step 2: loss 3.7908, w = [2.0940 2.3960]
	// step 3: loss 1.1857, w = [2.6322 2.7548]
}

// A cosine schedule with a linear warm-up: the rate climbs to 0.1 over 2
// steps, then falls along a cosine to 0 at step TMax.
func ExampleCosine() {
	s := optim.Cosine{BaseLR: 0.1, TMax: 6, Warmup: 2}
	for step := range 7 {
		fmt.Printf("%.4f ", s.LR(step))
	}
	fmt.Println()
	// Output:
	// 0.0333 0.0667 0.1000 0.0854 0.0500 0.0146 0.0000
}

// Clip the global gradient norm to 1 before a step.
func ExampleClipGradNorm() {
	w := ag.Var(tensor.FromFloat64([]float64{0, 0}))
	w.SetGrad(tensor.FromFloat64([]float64{3, 4}))
	norm := optim.ClipGradNorm([]*ag.Node{w}, 1)
	fmt.Printf("norm %.1f, clipped %.4f\n", norm, w.Grad().Values())
	// Output:
	// norm 5.0, clipped [0.6000 0.8000]
}

// Pick an optimiser and a schedule by name, as a command line does.
func ExampleByName() {
	params := []*ag.Node{ag.Var(tensor.New(tensor.Float32, 4, 4))}
	opt, err := optim.ByName("adamw", params, 1e-3, 0, 0)
	fmt.Println(opt.LR(), err)
	_, err = optim.ByName("lbfgs", params, 1e-3, 0, 0)
	fmt.Println(err)
	sched, _ := optim.ScheduleByName("onecycle", 1e-3, 100)
	fmt.Printf("%.2e %.2e\n", sched.LR(0), sched.LR(29)) // the peak is at 30% of the steps
	// Output:
	// 0.001 <nil>
	// optim: unknown optimiser "lbfgs" (want one of sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw)
	// 4.00e-05 1.00e-03
}

// A linear warm-up in front of any schedule: here an exponential decay.
// The rate climbs from a fifth of 0.1 to 0.1 over 4 steps, then decays by
// half per step (torch: SequentialLR([LinearLR(0.2, total_iters=4),
// ExponentialLR(0.5)], milestones=[4])).
func ExampleWarmup() {
	s := optim.Warmup{Schedule: optim.Exponential{BaseLR: 0.1, Gamma: 0.5}, Steps: 4, StartFactor: new(0.2)}
	for step := range 7 {
		fmt.Printf("%.3f ", s.LR(step))
	}
	fmt.Println()
	// Output:
	// 0.020 0.040 0.060 0.080 0.100 0.050 0.025
}

// One cycle with momentum cycling: ApplySchedule sets both the rate and
// the momentum (β₁ for Adam) before each step, as torch's OneCycleLR
// with cycle_momentum=True (which prints the same numbers). The momentum
// falls while the rate rises.
func ExampleApplySchedule() {
	w := ag.Var(tensor.FromFloat64([]float64{1}))
	opt := optim.NewAdam([]*ag.Node{w}, optim.AdamConfig{LR: 0.01})
	s := optim.OneCycle{MaxLR: 0.01, TotalSteps: 10, PctStart: new(0.5)}
	for step := range 10 {
		optim.ApplySchedule(opt, s, step)
		if step%3 == 0 {
			fmt.Printf("step %d: lr %.5f, β₁ %.4f\n", step, opt.LR(), opt.Momentum())
		}
		// ... forward, ZeroGrad, Backward, then:
		opt.Step()
	}
	// Output:
	// step 0: lr 0.00040, β₁ 0.9500
	// step 3: lr 0.00859, β₁ 0.8646
	// step 6: lr 0.00655, β₁ 0.8845
	// step 9: lr 0.00000, β₁ 0.9500
}

// Parameter groups: no weight decay on the biases, the usual AdamW setup.
// The weights are decayed by lr·0.01 per step; the biases are not.
func ExampleGroup() {
	w := ag.Var(tensor.FromFloat64([]float64{1, 1}))
	b := ag.Var(tensor.FromFloat64([]float64{1}))
	opt := optim.NewAdamW([]*ag.Node{w}, optim.AdamConfig{LR: 0.1})
	opt.AddGroup(optim.Group{Params: []*ag.Node{b}, WeightDecay: new(0.0)})
	w.SetGrad(tensor.FromFloat64([]float64{0, 0})) // no gradient signal: only the decay acts
	b.SetGrad(tensor.FromFloat64([]float64{0}))
	opt.Step()
	fmt.Println(w.Value().Values(), b.Value().Values(), opt.Groups())
	// Output:
	// [0.999 0.999] [1] 2
}
