package optim

import (
	"fmt"
	"github.com/nabla-go/nabla/kernels"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// Optimizer updates a fixed list of parameters from their gradients.
type Optimizer interface {
	// Step makes one update from the current gradients. Parameters whose
	// gradient is nil are skipped, and their step counts do not advance,
	// as in PyTorch.
	Step()
	// ZeroGrad clears every parameter's gradient (sets it to nil),
	// recycling the buffers: copy a gradient you want to keep first.
	ZeroGrad()
	// LR is the learning rate the next Step uses.
	LR() float64
	// SetLR changes the learning rate (a schedule calls it once per step).
	SetLR(lr float64)
	// StateDict returns copies of everything needed to resume bit-exactly:
	// the per-parameter buffers keyed "<paramIndex>.<buffer>" (for example
	// "0.momentum_buffer", "3.exp_avg"), each parameter's step count
	// "<paramIndex>.step" and the learning rate "lr" (group 0's), the
	// scalars as 0-d float64 tensors. Parameters are numbered across
	// groups in order; each group k ≥ 1 adds its settings as
	// "group<k>.size" (its number of parameters), "group<k>.lr",
	// "group<k>.weight_decay" and "group<k>.momentum".
	StateDict() map[string]*tensor.Tensor
	// LoadStateDict restores a state saved by StateDict from an optimiser
	// of the same kind and configuration over parameters of the same
	// shapes, in the same groups (whose rates, weight decays and momenta
	// it restores). A missing or unexpected key, or a tensor of the wrong shape,
	// is an error naming the key, and leaves the optimiser unchanged.
	LoadStateDict(map[string]*tensor.Tensor) error
}

// core is what every optimiser shares: the parameters, the learning rate,
// the per-parameter step counts and the per-parameter state buffers.
type core struct {
	op        string // "SGD", "Adam"… for panics
	params    []*ag.Node
	groups    []group // parameter groups, in order, covering params
	wd0, mom0 float64 // group 0's configured weight decay and momentum: AddGroup's defaults
	steps     []int64 // updates made to each parameter
	names     []string
	bufs      [][]*tensor.Tensor // bufs[i][k]: buffer names[k] of parameter i
}

// newCore checks the parameters and allocates the named buffers, filled
// with init, once for the optimiser's lifetime. They form group 0, with
// rate lr, weight decay wd and momentum mom.
func newCore(op string, params []*ag.Node, lr, wd, mom float64, init float64, names ...string) core {
	c := core{op: op, params: slices.Clone(params), steps: make([]int64, len(params)), names: names,
		bufs:   make([][]*tensor.Tensor, len(params)),
		groups: []group{{lo: 0, hi: len(params), lr: lr, base: lr, wd: wd, mom: mom}}, wd0: wd, mom0: mom}
	for i, p := range params {
		if p == nil {
			panic(fmt.Sprintf("optim.New%s: parameter %d is nil", op, i))
		}
		if !p.Value().IsContiguous() {
			panic(&tensor.ShapeError{Op: "optim.New" + op, Shapes: [][]int{p.Shape()},
				Msg: fmt.Sprintf("parameter %d is not contiguous, so it cannot be updated in place", i)})
		}
		c.bufs[i] = make([]*tensor.Tensor, len(names))
		for k := range names {
			c.bufs[i][k] = tensor.Full(p.DType(), init, p.Shape()...)
		}
	}
	return c
}

// ZeroGrad sets every parameter's gradient to nil (PyTorch's
// zero_grad(set_to_none=True)) and hands the gradients' buffers back for
// reuse by the next backward pass (ag.Node.ReleaseGrad): a gradient tensor
// read before ZeroGrad must not be used after it.
func (c *core) ZeroGrad() {
	for _, p := range c.params {
		p.ReleaseGrad()
	}
}

// Params are the parameters the optimiser updates, in order. The caller
// must not modify the slice.
func (c *core) Params() []*ag.Node { return c.params }

// grad returns parameter i's value and gradient as slices of T, or ok =
// false when it has no gradient. A contiguous gradient is read in place; a
// strided one (a broadcast view, say) is copied first.
func grad[T tensor.Float](c *core, i int) (p, g []T, ok bool) {
	n := c.params[i]
	gt := n.Grad()
	if gt == nil {
		return nil, nil, false
	}
	if gt.DType() != n.DType() {
		panic(&tensor.DTypeError{Op: c.op + ".Step", DTypes: []tensor.DType{n.DType(), gt.DType()}})
	}
	return tensor.Data[T](n.Value()), tensor.Data[T](gt), true
}

// buf returns buffer k of parameter i as a slice of T.
func buf[T tensor.Float](c *core, i, k int) []T { return tensor.Data[T](c.bufs[i][k]) }

// StateDict returns copies of the buffers, the step counts and the
// learning rate (see Optimizer).
func (c *core) StateDict() map[string]*tensor.Tensor {
	m := make(map[string]*tensor.Tensor, 1+len(c.params)*(1+len(c.names)))
	m["lr"] = tensor.Scalar(tensor.Float64, c.groups[0].lr)
	c.saveGroups(m)
	for i := range c.params {
		m[strconv.Itoa(i)+".step"] = tensor.Scalar(tensor.Float64, float64(c.steps[i]))
		for k, name := range c.names {
			m[strconv.Itoa(i)+"."+name] = c.bufs[i][k].Clone()
		}
	}
	return m
}

// LoadStateDict checks every key first and then copies the state in.
func (c *core) LoadStateDict(m map[string]*tensor.Tensor) error {
	want := map[string]bool{"lr": true}
	scalar := func(key string) (float64, error) {
		t, ok := m[key]
		if !ok || t == nil {
			return 0, fmt.Errorf("optim: %s state: missing key %q", c.op, key)
		}
		if t.Dims() != 0 {
			return 0, fmt.Errorf("optim: %s state: key %q has shape %v, want a scalar (shape [])", c.op, key, t.Shape())
		}
		return t.Item(), nil
	}
	lr, err := scalar("lr")
	if err != nil {
		return err
	}
	groups, gkeys, err := c.loadGroups(m, scalar)
	if err != nil {
		return err
	}
	for _, k := range gkeys {
		want[k] = true
	}
	steps := make([]int64, len(c.params))
	for i, p := range c.params {
		key := strconv.Itoa(i) + ".step"
		want[key] = true
		s, err := scalar(key)
		if err != nil {
			return err
		}
		if s < 0 || s != math.Trunc(s) || s > 1<<53 {
			return fmt.Errorf("optim: %s state: key %q is %v, want a whole number of steps", c.op, key, s)
		}
		steps[i] = int64(s)
		for _, name := range c.names {
			key := strconv.Itoa(i) + "." + name
			want[key] = true
			t, ok := m[key]
			if !ok || t == nil {
				return fmt.Errorf("optim: %s state: missing key %q", c.op, key)
			}
			if !tensor.EqualShape(t.Shape(), p.Shape()) {
				return fmt.Errorf("optim: %s state: key %q has shape %v, want %v (the parameter's)", c.op, key, t.Shape(), p.Shape())
			}
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if !want[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		slices.Sort(keys)
		return fmt.Errorf("optim: %s state: unexpected key %q (a different optimiser, configuration or parameter list?)", c.op, keys[0])
	}
	groups[0].lr = lr
	c.groups = groups
	copy(c.steps, steps)
	for i := range c.params {
		for k, name := range c.names {
			c.bufs[i][k].CopyFrom(m[strconv.Itoa(i)+"."+name])
		}
	}
	return nil
}

// valueOr returns *p, or def when p is nil: the one place where a
// configuration field left unset becomes PyTorch's default.
func valueOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// check collects configuration errors: the first failed condition wins.
type check struct {
	op  string
	err error
}

func (c *check) that(ok bool, format string, args ...any) {
	if c.err == nil && !ok {
		c.err = fmt.Errorf("optim: %s: "+format, append([]any{c.op}, args...)...)
	}
}

// lr checks a learning rate: finite and ≥ 0 (0 is allowed, as in
// PyTorch; ByName is stricter).
func (c *check) lr(v float64) { c.that(v >= 0 && !math.IsInf(v, 0), "invalid learning rate %v", v) }

// nonneg checks a finite, non-negative value.
func (c *check) nonneg(name string, v float64) {
	c.that(v >= 0 && !math.IsInf(v, 0), "invalid %s %v (want ≥ 0)", name, v)
}

// unit checks a value in [0, 1).
func (c *check) unit(name string, v float64) {
	c.that(v >= 0 && v < 1, "invalid %s %v (want 0 ≤ %s < 1)", name, v, name)
}

// mustValid panics with err when it is not nil: a bad configuration passed
// to a New function is a programming error (ByName returns it instead).
func mustValid(err error) {
	if err != nil {
		panic(err)
	}
}

// names lists the optimisers ByName knows, in the order Names gives them.
var names = []string{"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}

// Names lists the optimisers ByName knows (a copy).
func Names() []string { return slices.Clone(names) }

// ByName returns the optimiser called name (see Names; case does not
// matter) over params, for command-line flags:
//
//   - sgd: plain SGD (momentum is ignored);
//   - momentum: SGD with momentum (0.9 when momentum is 0);
//   - nesterov: SGD with Nesterov momentum (0.9 when momentum is 0);
//   - adagrad: AdaGrad (momentum is ignored);
//   - rmsprop: RMSProp with the given momentum (0 for none);
//   - adam: Adam, with L2 weight decay added to the gradient (momentum is
//     ignored);
//   - adamw: AdamW, with decoupled weight decay weightDecay (momentum is
//     ignored). weightDecay is used as given, 0 included: PyTorch's
//     default for AdamW is 0.01, so a command line should pass that when
//     its user sets nothing.
//
// Momentum is ignored where it has no meaning so that a command line can
// pass its --momentum flag whatever the optimiser; for momentum and
// nesterov, 0 (which would make them plain SGD, or invalid) stands for
// 0.9. Every other setting takes PyTorch's default. An unknown name, lr ≤ 0, momentum outside [0, 1) or
// a negative weightDecay is an error.
func ByName(name string, params []*ag.Node, lr, momentum, weightDecay float64) (Optimizer, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if !slices.Contains(names, name) {
		return nil, fmt.Errorf("optim: unknown optimiser %q (want one of %s)", name, strings.Join(names, ", "))
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("optim: %s: the learning rate must be a positive, finite number, not %v", name, lr)
	}
	if !(momentum >= 0 && momentum < 1) {
		return nil, fmt.Errorf("optim: %s: momentum %v must be in [0, 1)", name, momentum)
	}
	if !(weightDecay >= 0) || math.IsInf(weightDecay, 0) {
		return nil, fmt.Errorf("optim: %s: weight decay %v must be ≥ 0", name, weightDecay)
	}
	var err error
	switch name {
	case "sgd", "momentum", "nesterov":
		cfg := SGDConfig{LR: lr, WeightDecay: weightDecay, Nesterov: name == "nesterov"}
		if name != "sgd" {
			cfg.Momentum = momentum
			if momentum == 0 {
				cfg.Momentum = 0.9
			}
		}
		if err = cfg.validate(); err == nil {
			return NewSGD(params, cfg), nil
		}
	case "adagrad":
		cfg := AdaGradConfig{LR: lr, WeightDecay: weightDecay, Eps: new(1e-10)}
		if err = cfg.validate(); err == nil {
			return NewAdaGrad(params, cfg), nil
		}
	case "rmsprop":
		cfg := RMSPropConfig{LR: lr, Momentum: momentum, WeightDecay: weightDecay}.withDefaults()
		if err = cfg.validate(); err == nil {
			return NewRMSProp(params, cfg), nil
		}
	case "adam", "adamw":
		cfg := AdamConfig{LR: lr, WeightDecay: &weightDecay}.withDefaults(name == "adamw")
		if err = cfg.validate(name); err == nil {
			if name == "adam" {
				return NewAdam(params, cfg), nil
			}
			return NewAdamW(params, cfg), nil
		}
	}
	return nil, err
}

// Updates of parameters with at least parallelGrain elements are split over
// the kernels' worker pool. Every update rule here is element-wise, so the
// result is the same, to the bit, for any number of threads.
const parallelGrain = 1 << 15

// serial reports whether an update of n elements runs on the calling
// goroutine; callers then skip building the closure parallel needs, which
// keeps small steps free of allocations.
func serial(n int) bool { return n < 2*parallelGrain || kernels.Threads() == 1 }

// parallel runs fn over [0, n) in chunks on the worker pool.
func parallel(n int, fn func(lo, hi int)) { kernels.ParallelFor(n, parallelGrain, fn) }
