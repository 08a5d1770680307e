// Package optim updates parameters from their gradients: the optimisers
// SGD (with momentum, dampening, Nesterov momentum and weight decay),
// AdaGrad, RMSProp, Adam and AdamW, global gradient-norm clipping, and
// learning-rate schedules. Each matches its PyTorch 1.13 counterpart
// (torch.optim, torch.nn.utils.clip_grad_norm_, torch.optim.lr_scheduler)
// step for step; the tests replay trajectories recorded from PyTorch by
// testdata/optim/gen_optim.py.
//
// A training step reads:
//
//	opt := optim.NewAdam(params, optim.AdamConfig{LR: 1e-3})
//	sched := optim.Cosine{BaseLR: 1e-3, TMax: steps}
//	for step := range steps {
//		opt.SetLR(sched.LR(step))
//		opt.ZeroGrad()
//		ag.Backward(loss(params))
//		optim.ClipGradNorm(params, 1)
//		opt.Step()
//	}
//
// # Updates
//
// Parameters are *ag.Node leaves made by ag.Var, float32 or float64, with
// contiguous values. Step updates each value in place, in one fused loop
// over its elements per parameter, and allocates nothing when the
// gradients are contiguous (a strided gradient, such as the broadcast view
// ag gives the operand of a Sum, is copied first). State buffers are
// allocated once, by the constructor, in the parameter's dtype. Arithmetic
// is done in the parameter's dtype, with the scalar factors (bias
// corrections, 1 − β) computed in float64 and rounded once, as PyTorch
// does. A parameter whose gradient is nil is skipped and its step count
// does not advance.
//
// # Configuration
//
// A configuration field means what it says. Fields whose PyTorch default
// is 0 (learning-rate decay, SGD's momentum, L2 weight decay…) are plain
// values; fields whose PyTorch default is not 0 (Adam's betas and eps,
// AdamW's weight decay, RMSProp's alpha, OneCycle's factors,
// ReduceOnPlateau's factor, patience, threshold and eps) are pointers,
// nil for PyTorch's default and any value, 0 included, for that value:
//
//	optim.AdamConfig{LR: 1e-3}                         // β₁ 0.9, β₂ 0.999, eps 1e-8
//	optim.AdamConfig{LR: 1e-3, Beta1: new(0.0)}        // β₁ exactly 0
//	optim.NewAdamW(ps, optim.AdamConfig{LR: 1e-3})     // weight decay 0.01
//	optim.NewAdamW(ps, optim.AdamConfig{LR: 1e-3, WeightDecay: new(0.0)}) // none
//
// The same rule holds in package loss. Config methods return the
// configuration with every default filled in. An empty string for a mode
// (ReduceOnPlateau's Mode, OneCycle's AnnealStrategy) is the default mode:
// no setting is lost by that. Schedules are plain values except
// ReduceOnPlateau, which has state.
//
// # Checkpoints
//
// StateDict returns copies of an optimiser's buffers, step counts and
// learning rate as tensors keyed "<paramIndex>.<buffer>", "<paramIndex>.step"
// and "lr"; LoadStateDict into an optimiser of the same kind and
// configuration over the same parameter shapes resumes bit-exactly.
// ReduceOnPlateau has the same pair; the other schedules need only the
// step number.
//
// # Parameter groups
//
// As in PyTorch, parameters can be split into groups with their own
// learning rate, weight decay and momentum (Adam's β₁): the constructor's
// parameters are group 0, and AddGroup adds more, a nil setting taking
// group 0's. Every optimiser honours them; SetLR scales every group in
// proportion to its initial rate, ApplySchedule runs a schedule in each
// group from the group's own initial rate (exactly as torch's schedulers
// do), and StateDict saves each group's settings so that a checkpoint
// keeps them.
//
// # Schedules
//
// The value schedules are pure functions of the step: Constant, Step,
// MultiStep, Exponential, Cosine, Linear (torch's LinearLR), OneCycle (two
// or three phases, with momentum cycling through Momentum), and the
// compositions Sequential (torch's SequentialLR) and Warmup (a linear
// warm-up in front of any schedule). ApplySchedule sets an optimiser's
// rate, and its momentum when the schedule cycles one (MomentumSchedule,
// MomentumSetter). ReduceOnPlateau is driven by Report (Reporter) and
// ignores the step. Each matches torch.optim.lr_scheduler step by step in
// the reference test.
//
// # Errors
//
// An invalid configuration given to a New function (a negative learning
// rate, a momentum outside [0, 1)) is a programming error and panics, as
// does a non-contiguous parameter or a gradient of the wrong dtype.
// ByName and ScheduleByName, meant for command-line flags, return errors
// instead, and so does LoadStateDict for a state that does not fit.
//
// # Concurrency
//
// An optimiser, and a ReduceOnPlateau, belong to one goroutine at a time:
// Step writes the parameters' values and its own state, so it must not run
// while another goroutine reads the parameters (a forward pass) or calls
// the optimiser. The value schedules (Constant, Step, Cosine…) are safe to
// share. Separate optimisers over disjoint parameters may step
// concurrently.
package optim
