package nn

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// The normalisation layer kinds (issue 10): BatchNorm1d, BatchNorm2d,
// LayerNorm and GroupNorm, with PyTorch's parameter and buffer names.
func init() {
	bnSettings := []Setting{
		{Name: "features", Type: Int, Min: 1, Max: maxDim, Inferred: true, Doc: "channels (inferred: dimension 0 of an example)"},
		{Name: "eps", Type: Float, Default: 1e-5, Min: 0, Max: 1, Doc: "added to the variance"},
		{Name: "momentum", Type: Float, Default: 0.1, Min: 0, Max: 1, Doc: "weight of the batch in the running statistics (PyTorch's convention)"},
		{Name: "affine", Type: Bool, Default: true, Doc: "learn a per-channel weight and bias"},
		{Name: "track_running_stats", Type: Bool, Default: true, Doc: "keep running statistics for evaluation (otherwise batch statistics always)"},
	}
	for _, k := range []struct {
		name string
		dims []int // accepted example ranks
	}{{"BatchNorm1d", []int{1, 2}}, {"BatchNorm2d", []int{3}}} {
		name, dims := k.name, k.dims
		mustRegister(Kind{
			Name:     name,
			Doc:      "normalises each channel with the batch's statistics in training, running statistics in evaluation",
			Settings: bnSettings,
			Shape: func(s *Spec, in []int) ([]int, error) {
				if len(in) < dims[0] || len(in) > dims[len(dims)-1] {
					if name == "BatchNorm1d" {
						return nil, errors.New("want examples [C] or [C, L]")
					}
					return nil, errors.New("want examples [C, H, W]")
				}
				return in, inferSetting(s, "features", in[0], in)
			},
			Size: func(s Spec) (int64, error) {
				c := int64(s.Int("features"))
				return 2*c*b2i(s.Bool("affine")) + (2*c+1)*b2i(s.Bool("track_running_stats")), nil
			},
			Build: func(s Spec, b *Builder) (Module, error) {
				return newBatchNorm(name, s.Int("features"), s.Float("eps"), s.Float("momentum"), s.Bool("affine"), s.Bool("track_running_stats"), b.DType), nil
			},
		})
	}
	mustRegister(Kind{
		Name: "LayerNorm",
		Doc:  "normalises each example over its last dims dimensions",
		Settings: []Setting{
			{Name: "shape", Type: String, Inferred: true, Doc: `the normalised shape, as "8" or "16x7x7" (inferred: the last dims dimensions of an example)`},
			{Name: "dims", Type: Int, Default: 1, Min: 1, Max: 64, Doc: "how many trailing dimensions to normalise over"},
			{Name: "eps", Type: Float, Default: 1e-5, Min: 0, Max: 1, Doc: "added to the variance"},
			{Name: "affine", Type: Bool, Default: true, Doc: "learn an element-wise weight and bias (PyTorch's elementwise_affine)"},
		},
		Shape: func(s *Spec, in []int) ([]int, error) {
			d := s.Int("dims")
			if d > len(in) {
				return nil, fmt.Errorf("cannot normalise the last %d dimensions of examples %v", d, in)
			}
			return in, inferSetting(s, "shape", formatShape(in[len(in)-d:]), in)
		},
		Size: func(s Spec) (int64, error) {
			sh, err := parseShape(s.Str("shape"))
			if err != nil {
				return 0, err
			}
			f := []int64{2 * b2i(s.Bool("affine"))}
			for _, d := range sh {
				f = append(f, int64(d))
			}
			return sizeOf(0, f...)
		},
		Build: func(s Spec, b *Builder) (Module, error) {
			sh, err := parseShape(s.Str("shape"))
			if err != nil {
				return nil, err
			}
			if len(sh) != s.Int("dims") {
				return nil, &SpecError{Type: "LayerNorm", Setting: "shape", Msg: fmt.Sprintf("%q has %d dimensions, dims is %d", s.Str("shape"), len(sh), s.Int("dims"))}
			}
			return NewLayerNorm(sh, s.Float("eps"), s.Bool("affine"), b.DType), nil
		},
	})
	mustRegister(Kind{
		Name: "GroupNorm",
		Doc:  "normalises each example over groups of channels",
		Settings: []Setting{
			{Name: "channels", Type: Int, Min: 1, Max: maxDim, Inferred: true, Doc: "channels (inferred)"},
			{Name: "groups", Type: Int, Min: 1, Max: maxDim, Doc: "number of groups (dividing the channels)"},
			{Name: "eps", Type: Float, Default: 1e-5, Min: 0, Max: 1, Doc: "added to the variance"},
			{Name: "affine", Type: Bool, Default: true, Doc: "learn a per-channel weight and bias"},
		},
		Shape: func(s *Spec, in []int) ([]int, error) {
			if len(in) < 1 {
				return nil, errors.New("want examples [C, …]")
			}
			if in[0]%s.Int("groups") != 0 {
				return nil, &SpecError{Type: "GroupNorm", Setting: "groups", Msg: fmt.Sprintf("%d does not divide %d channels", s.Int("groups"), in[0])}
			}
			return in, inferSetting(s, "channels", in[0], in)
		},
		Size: func(s Spec) (int64, error) { return 2 * int64(s.Int("channels")) * b2i(s.Bool("affine")), nil },
		Build: func(s Spec, b *Builder) (Module, error) {
			if s.Int("channels")%s.Int("groups") != 0 {
				return nil, &SpecError{Type: "GroupNorm", Setting: "groups", Msg: fmt.Sprintf("%d does not divide %d channels", s.Int("groups"), s.Int("channels"))}
			}
			return NewGroupNorm(s.Int("groups"), s.Int("channels"), s.Float("eps"), s.Bool("affine"), b.DType), nil
		},
	})
}

// inferSetting fills in an inferred setting, or checks the one given.
func inferSetting(s *Spec, name string, v any, in []int) error {
	if have, ok := s.Settings[name]; ok && have != v {
		return &SpecError{Type: s.Type, Setting: name, Msg: fmt.Sprintf("%v, but the input (shape %v) gives %v", have, in, v)}
	}
	s.Settings[name] = v
	return nil
}

func formatShape(sh []int) string {
	parts := make([]string, len(sh))
	for i, d := range sh {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "x")
}

func parseShape(s string) ([]int, error) {
	var sh []int
	for _, p := range strings.Split(s, "x") {
		d, err := strconv.Atoi(p)
		if err != nil || d < 1 || int64(d) > maxDim {
			return nil, &SpecError{Type: "LayerNorm", Setting: "shape", Msg: fmt.Sprintf("%q is not a shape such as 8 or 16x7x7", s)}
		}
		sh = append(sh, d)
	}
	return sh, nil
}

// BatchNorm is PyTorch's nn.BatchNorm1d ([N, C] or [N, C, L] input) or
// nn.BatchNorm2d ([N, C, H, W]): in training, each channel is normalised
// with the batch's mean and biased variance (ag.BatchNorm) and the running
// statistics are updated; in evaluation, the running statistics are used
// instead, so that the output does not depend on the rest of the batch.
//
// Parameters "weight" (ones) and "bias" (zeros), [C], when Affine.
// Buffers, saved with the parameters but not trained: "running_mean"
// (zeros), "running_var" (ones) and "num_batches_tracked" (a count, 0-d),
// when TrackRunningStats.
//
// Momentum follows PyTorch: running = (1 − momentum)·running +
// momentum·batch, with momentum 0.1 by default, and the running variance
// takes the unbiased batch variance (divided by n − 1), while the batch is
// normalised with the biased one. (CS231n's notes and ONNX write the
// update the other way round, running = momentum·running + (1 −
// momentum)·batch, with momentum 0.9 for the same behaviour; Keras
// likewise, with 0.99.)
type BatchNorm struct {
	Kind                    string // "BatchNorm1d" or "BatchNorm2d"
	Weight, Bias            *ag.Node
	RunningMean, RunningVar *tensor.Tensor
	NumBatchesTracked       *tensor.Tensor // a 0-d count
	Features                int
	Eps, Momentum           float64
	training                bool
}

func newBatchNorm(kind string, c int, eps, momentum float64, affine, track bool, dt tensor.DType) *BatchNorm {
	b := &BatchNorm{Kind: kind, Features: c, Eps: eps, Momentum: momentum, training: true}
	if affine {
		b.Weight = ag.Var(tensor.Ones(dt, c))
		b.Bias = ag.Var(tensor.New(dt, c))
	}
	if track {
		b.RunningMean = tensor.New(dt, c)
		b.RunningVar = tensor.Ones(dt, c)
		b.NumBatchesTracked = tensor.New(dt)
	}
	return b
}

// NewBatchNorm2d returns PyTorch's default nn.BatchNorm2d(c): eps 1e-5,
// momentum 0.1, affine, with running statistics.
func NewBatchNorm2d(c int, dt tensor.DType) *BatchNorm {
	return newBatchNorm("BatchNorm2d", c, 1e-5, 0.1, true, true, dt)
}

// NewBatchNorm1d is NewBatchNorm2d for nn.BatchNorm1d.
func NewBatchNorm1d(c int, dt tensor.DType) *BatchNorm {
	return newBatchNorm("BatchNorm1d", c, 1e-5, 0.1, true, true, dt)
}

// SetTraining switches between batch statistics (training) and running
// statistics (evaluation).
func (b *BatchNorm) SetTraining(on bool) { b.training = on }

// Training reports whether b is in training mode.
func (b *BatchNorm) Training() bool { return b.training }

// Forward normalises x [N, C, …]. In training mode (or without running
// statistics) it uses the batch's statistics and, in training mode,
// updates the running ones; a batch of one example per channel in
// training panics, as in PyTorch (the variance is undefined).
func (b *BatchNorm) Forward(x *ag.Node) *ag.Node { return b.forward(x, false) }

// Fuse fuses a following ReLU: with batch statistics, into one
// ag.BatchNormReLU (the same values and gradients, one tensor and one
// pass fewer); with running statistics, after the affine map.
func (b *BatchNorm) Fuse(next []Module) (func(*ag.Node) *ag.Node, int) {
	if isReLU(next, 0) {
		return func(x *ag.Node) *ag.Node { return b.forward(x, true) }, 1
	}
	return nil, 0
}

// evalAffine returns the per-channel map y = x·scale + shift that this
// BatchNorm applies in evaluation mode: scale = γ/√(running_var + eps),
// shift = β − running_mean·scale, computed on the [C] vectors with ag ops,
// so that gradients reach γ and β (and, folded into a convolution, the
// convolution's weight and bias).
func (b *BatchNorm) evalAffine() (scale, shift *ag.Node) {
	scale = ag.Const(tensor.PowScalar(tensor.AddScalar(b.RunningVar, b.Eps), -0.5))
	if b.Weight != nil {
		scale = ag.Mul(b.Weight, scale)
	}
	shift = ag.Neg(ag.Mul(ag.Const(b.RunningMean), scale))
	if b.Bias != nil {
		shift = ag.Add(b.Bias, shift)
	}
	return scale, shift
}

func (b *BatchNorm) forward(x *ag.Node, relu bool) *ag.Node {
	sh := x.Shape()
	ok := len(sh) == 4
	if b.Kind == "BatchNorm1d" {
		ok = len(sh) == 2 || len(sh) == 3
	}
	if !ok || sh[1] != b.Features {
		panic(&tensor.ShapeError{Op: b.Kind, Shapes: [][]int{sh}, Msg: fmt.Sprintf("want input [N, %d, …] (%s)", b.Features, b.Kind)})
	}
	if !b.training && b.RunningMean != nil {
		// One pass over x: y = x·s + t.
		scale, shift := b.evalAffine()
		if relu {
			return ag.ChannelAffineReLU(x, scale, shift)
		}
		return ag.ChannelAffine(x, scale, shift)
	}
	n := x.Value().Len() / b.Features
	if b.training && n <= 1 {
		panic(&tensor.ShapeError{Op: b.Kind, Shapes: [][]int{sh}, Msg: "expected more than 1 value per channel when training"})
	}
	y, mean, variance := ag.BatchNormTrain(x, b.Weight, b.Bias, b.Eps, relu)
	if b.training && b.RunningMean != nil {
		b.updateRunning(mean, variance, n)
	}
	return y
}

// updateRunning blends the batch's mean and unbiased variance (the biased
// one, of n values per channel, times n/(n−1)) into the running
// statistics, PyTorch's way.
func (b *BatchNorm) updateRunning(mean, biasedVar *tensor.Tensor, n int) {
	m := b.Momentum
	v := tensor.Scale(biasedVar, float64(n)/float64(n-1))
	b.RunningMean.CopyFrom(tensor.Add(tensor.Scale(b.RunningMean, 1-m), tensor.Scale(mean, m)))
	b.RunningVar.CopyFrom(tensor.Add(tensor.Scale(b.RunningVar, 1-m), tensor.Scale(v, m)))
	b.NumBatchesTracked.Fill(b.NumBatchesTracked.Item() + 1)
}

// Params returns "weight" and "bias" when affine.
func (b *BatchNorm) Params() []Param {
	if b.Weight == nil {
		return nil
	}
	return []Param{{Name: "weight", Node: b.Weight}, {Name: "bias", Node: b.Bias}}
}

// Buffers returns "running_mean", "running_var" and
// "num_batches_tracked", when the layer tracks running statistics.
func (b *BatchNorm) Buffers() []Buffer {
	if b.RunningMean == nil {
		return nil
	}
	return []Buffer{{Name: "running_mean", Value: b.RunningMean}, {Name: "running_var", Value: b.RunningVar},
		{Name: "num_batches_tracked", Value: b.NumBatchesTracked}}
}

// Spec describes the layer.
func (b *BatchNorm) Spec() Spec {
	return L(b.Kind, "features", b.Features, "eps", b.Eps, "momentum", b.Momentum, "affine", b.Weight != nil,
		"track_running_stats", b.RunningMean != nil)
}

func (b *BatchNorm) String() string {
	return fmt.Sprintf("%s(%d, eps=%v, momentum=%v)", b.Kind, b.Features, b.Eps, b.Momentum)
}

// LayerNorm is PyTorch's nn.LayerNorm(shape): each example is normalised
// over its last len(Shape) dimensions (ag.LayerNorm), then multiplied by
// "weight" (ones) and shifted by "bias" (zeros), both shaped Shape, when
// affine.
type LayerNorm struct {
	Weight, Bias *ag.Node
	Shape        []int
	Eps          float64
}

// NewLayerNorm returns a LayerNorm over the trailing dimensions shape.
func NewLayerNorm(shape []int, eps float64, affine bool, dt tensor.DType) *LayerNorm {
	l := &LayerNorm{Shape: append([]int{}, shape...), Eps: eps}
	if affine {
		l.Weight = ag.Var(tensor.Ones(dt, shape...))
		l.Bias = ag.Var(tensor.New(dt, shape...))
	}
	return l
}

// Forward normalises x [N, …, Shape…]; other shapes panic with a
// *tensor.ShapeError naming "LayerNorm".
func (l *LayerNorm) Forward(x *ag.Node) *ag.Node {
	sh := x.Shape()
	if len(sh) < len(l.Shape) || !tensor.EqualShape(sh[len(sh)-len(l.Shape):], l.Shape) {
		panic(&tensor.ShapeError{Op: "LayerNorm", Shapes: [][]int{sh, l.Shape}, Msg: "the input must end in the normalised shape"})
	}
	return ag.LayerNorm(x, l.Weight, l.Bias, len(l.Shape), l.Eps)
}

// Params returns "weight" and "bias" when affine.
func (l *LayerNorm) Params() []Param {
	if l.Weight == nil {
		return nil
	}
	return []Param{{Name: "weight", Node: l.Weight}, {Name: "bias", Node: l.Bias}}
}

// Spec describes the layer.
func (l *LayerNorm) Spec() Spec {
	return L("LayerNorm", "shape", formatShape(l.Shape), "dims", len(l.Shape), "eps", l.Eps, "affine", l.Weight != nil)
}

func (l *LayerNorm) String() string { return fmt.Sprintf("LayerNorm(%v, eps=%v)", l.Shape, l.Eps) }

// GroupNorm is PyTorch's nn.GroupNorm(groups, channels): each example's
// channels are normalised in Groups groups (ag.GroupNorm), then scaled by
// "weight" (ones) and shifted by "bias" (zeros), [C], when affine.
type GroupNorm struct {
	Weight, Bias     *ag.Node
	Groups, Channels int
	Eps              float64
}

// NewGroupNorm returns a GroupNorm layer; groups must divide channels.
func NewGroupNorm(groups, channels int, eps float64, affine bool, dt tensor.DType) *GroupNorm {
	g := &GroupNorm{Groups: groups, Channels: channels, Eps: eps}
	if affine {
		g.Weight = ag.Var(tensor.Ones(dt, channels))
		g.Bias = ag.Var(tensor.New(dt, channels))
	}
	return g
}

// Forward normalises x [N, C, …].
func (g *GroupNorm) Forward(x *ag.Node) *ag.Node {
	if sh := x.Shape(); len(sh) < 2 || sh[1] != g.Channels {
		panic(&tensor.ShapeError{Op: "GroupNorm", Shapes: [][]int{sh}, Msg: fmt.Sprintf("want input [N, %d, …]", g.Channels)})
	}
	return ag.GroupNorm(x, g.Groups, g.Weight, g.Bias, g.Eps)
}

// Params returns "weight" and "bias" when affine.
func (g *GroupNorm) Params() []Param {
	if g.Weight == nil {
		return nil
	}
	return []Param{{Name: "weight", Node: g.Weight}, {Name: "bias", Node: g.Bias}}
}

// Spec describes the layer.
func (g *GroupNorm) Spec() Spec {
	return L("GroupNorm", "channels", g.Channels, "groups", g.Groups, "eps", g.Eps, "affine", g.Weight != nil)
}

func (g *GroupNorm) String() string {
	return fmt.Sprintf("GroupNorm(%d, %d, eps=%v)", g.Groups, g.Channels, g.Eps)
}
