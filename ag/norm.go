package ag

import (
	"fmt"

	"github.com/nabla-go/nabla/kernels"
	"github.com/nabla-go/nabla/tensor"
)

// The normalisations are compositions of Mean, Sub, Mul and PowScalar:
// their VJPs come from those ops', and so do their second derivatives.
// Each normalises with the biased variance (divided by the count, not the
// count − 1), as PyTorch does in the forward pass.

// normalize returns (x − mean)/√(var + eps) over axes, with the biased
// variance.
func normalize(x *Node, eps float64, axes ...int) *Node {
	return normalizeWith(x, eps, func(x *Node) *Node { return MeanKeep(x, axes...) })
}

// normalizeWith is normalize with the mean over the normalised axes given
// by mean (keeping them as size-1 axes).
func normalizeWith(x *Node, eps float64, mean func(*Node) *Node) *Node {
	xc := Sub(x, mean(x))
	v := mean(Square(xc))
	return Mul(xc, PowScalar(AddScalar(v, eps), -0.5))
}

// channelSumKeep is SumKeep(x, 0, 2, 3, …) for x [N, C, …] of at least 3
// dimensions, along contiguous rows first (see channelMeanKeep).
func channelSumKeep(x *Node) *Node {
	sh := x.Shape()
	return Reshape(Sum(Sum(Reshape(x, sh[0], sh[1], -1), 2), 0), channelShape(sh[1], len(sh))...)
}

// channelMeanKeep is MeanKeep(x, 0, 2, 3, …) for x [N, C, …] of at least
// 3 dimensions: the positions are summed along contiguous rows first, then
// the batch, so that no reduction has to gather a strided view into a copy
// (and neither has its gradient).
func channelMeanKeep(x *Node) *Node {
	sh := x.Shape()
	n := x.Value().Len() / sh[1]
	s := Sum(Sum(Reshape(x, sh[0], sh[1], -1), 2), 0)
	return Scale(Reshape(s, channelShape(sh[1], len(sh))...), 1/float64(n))
}

// affine multiplies y by weight and adds bias (either may be nil), both
// reshaped to shape for broadcasting.
func affine(y, weight, bias *Node, shape []int) *Node {
	if weight != nil {
		y = Mul(y, Reshape(weight, shape...))
	}
	if bias != nil {
		y = Add(y, Reshape(bias, shape...))
	}
	return y
}

// channelShape is [1, C, 1, …] for an input of dims dimensions.
func channelShape(c, dims int) []int {
	s := make([]int, dims)
	for i := range s {
		s[i] = 1
	}
	s[1] = c
	return s
}

func checkParam(op string, x, p *Node, want []int) {
	if p == nil {
		return
	}
	checkSameDType(op, x, p)
	if !tensor.EqualShape(p.Shape(), want) {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{x.Shape(), p.Shape()}, Msg: fmt.Sprintf("weight and bias must be %v", want)})
	}
}

// BatchNorm normalises x [N, C] or [N, C, …] per channel with the
// statistics of the batch, as torch.nn.functional.batch_norm in training
// mode: y = (x − mean)/√(var + eps)·weight + bias, the mean and biased
// variance taken over every axis but 1. weight and bias are [C] (either
// may be nil: no affine part). Running statistics and evaluation mode are
// the layer's business (nn.BatchNorm, which uses BatchNormTrain): in
// evaluation, normalising with fixed statistics is an affine map of x.
//
// It is a primitive for speed: the forward pass is one fused kernel
// (kernels.BatchNorm: the statistics and the output, per channel). Its
// VJP is the closed form gb = Σg, gw = Σg·x̂, gx = w/σ·(g − mean(g) −
// x̂·mean(g·x̂)), written with ag ops on x̂ and σ recomputed from x, so that
// second derivatives work; when no graph of the gradient is recorded (no
// input of the rule requires a gradient) the same formula runs as one
// fused kernel (kernels.BatchNormBackward).
func BatchNorm(x, weight, bias *Node, eps float64) *Node {
	y, _, _ := BatchNormTrain(x, weight, bias, eps, false)
	return y
}

// BatchNormReLU returns max(0, BatchNorm(x, weight, bias, eps)): batch
// normalisation and its ReLU as one primitive, for speed (the activation
// is applied as each channel is written: no second tensor, no second
// pass). Its VJP masks g where the output is not positive and continues
// as BatchNorm's.
func BatchNormReLU(x, weight, bias *Node, eps float64) *Node {
	y, _, _ := BatchNormTrain(x, weight, bias, eps, true)
	return y
}

// BatchNormTrain is BatchNorm, or BatchNormReLU with relu, that also
// returns the batch's per-channel mean and biased variance ([C], not part
// of the graph), from which a layer updates its running statistics.
func BatchNormTrain(x, weight, bias *Node, eps float64, relu bool) (y *Node, mean, variance *tensor.Tensor) {
	op := "BatchNorm"
	if relu {
		op = "BatchNormReLU"
	}
	xs := x.Shape()
	if len(xs) < 2 {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{xs}, Msg: "want input [N, C] or [N, C, …]"})
	}
	checkParam(op, x, weight, xs[1:2])
	checkParam(op, x, bias, xs[1:2])
	n, c := xs[0], xs[1]
	hw := 1
	for _, d := range xs[2:] {
		hw *= d
	}
	dt := x.DType()
	yv := tensor.New(dt, xs...)
	mean, variance = tensor.New(dt, c), tensor.New(dt, c)
	inputs := []*Node{x}
	var wv, bv *tensor.Tensor
	if weight != nil {
		inputs, wv = append(inputs, weight), weight.value
	}
	if bias != nil {
		inputs, bv = append(inputs, bias), bias.value
	}
	switch dt {
	case tensor.Float32:
		kernels.BatchNorm(n, c, hw, tensor.Data[float32](x.value), optData[float32](wv), optData[float32](bv), eps, relu,
			tensor.Data[float32](yv), tensor.Data[float32](mean), tensor.Data[float32](variance))
	default:
		kernels.BatchNorm(n, c, hw, tensor.Data[float64](x.value), optData[float64](wv), optData[float64](bv), eps, relu,
			tensor.Data[float64](yv), tensor.Data[float64](mean), tensor.Data[float64](variance))
	}
	hasW, hasB := weight != nil, bias != nil
	y = Apply(op, yv, func(g *Node, in []*Node, out *Node, need []bool) []*Node {
		vjp := func(g *Node) []*Node {
			var w *Node
			if hasW {
				w = in[1]
			}
			recording := g.requiresGrad
			for _, v := range in {
				recording = recording || v.requiresGrad
			}
			var gx, gw, gb *Node
			if recording {
				gx, gw, gb = batchNormVJP(g, in[0], w, eps)
			} else {
				gx, gw, gb = batchNormVJPFused(g, in[0], w, mean, variance, eps, need[0], hasW && need[1], hasB && need[len(need)-1])
			}
			gs := []*Node{gx}
			if hasW {
				gs = append(gs, gw)
			}
			if hasB {
				gs = append(gs, gb)
			}
			for i := range gs {
				if !need[i] {
					gs[i] = nil
				}
			}
			return gs
		}
		if relu {
			return afterReLU(g, out.value, vjp)
		}
		return vjp(g)
	}, inputs...)
	return y, mean, variance
}

func optData[T float32 | float64](t *tensor.Tensor) []T {
	if t == nil {
		return nil
	}
	return tensor.Data[T](t)
}

// batchNormVJP is BatchNorm's VJP written with ag ops on x (x̂ and σ
// recomputed), for gradients that are themselves differentiated.
func batchNormVJP(g, x, w *Node, eps float64) (gx, gw, gb *Node) {
	xs := x.Shape()
	mean, sum := channelMeanKeep, channelSumKeep
	if len(xs) == 2 {
		mean = func(v *Node) *Node { return MeanKeep(v, 0) }
		sum = func(v *Node) *Node { return SumKeep(v, 0) }
	}
	cs := channelShape(xs[1], len(xs))
	xc := Sub(x, mean(x))
	inv := PowScalar(AddScalar(mean(Square(xc)), eps), -0.5)
	xhat := Mul(xc, inv)
	gb = Reshape(sum(g), xs[1])
	gw = Reshape(sum(Mul(g, xhat)), xs[1])
	gh := g // the gradient of x̂
	if w != nil {
		gh = Mul(g, Reshape(w, cs...))
	}
	gx = Mul(inv, Sub(Sub(gh, mean(gh)), Mul(xhat, mean(Mul(gh, xhat)))))
	return gx, gw, gb
}

// batchNormVJPFused computes BatchNorm's VJP with one kernel, from the
// forward pass's statistics, for first-order gradients.
func batchNormVJPFused(g, x, w *Node, mean, variance *tensor.Tensor, eps float64, needX, needW, needB bool) (gx, gw, gb *Node) {
	xs := x.Shape()
	n, c := xs[0], xs[1]
	hw := x.Value().Len() / max(n*c, 1)
	dt := x.DType()
	var gxt, gwt, gbt *tensor.Tensor
	if needX {
		gxt = tensor.New(dt, xs...)
	}
	if needW {
		gwt = tensor.New(dt, c)
	}
	if needB {
		gbt = tensor.New(dt, c)
	}
	var wv *tensor.Tensor
	if w != nil {
		wv = w.value
	}
	switch dt {
	case tensor.Float32:
		kernels.BatchNormBackward(n, c, hw, tensor.Data[float32](x.value), tensor.Data[float32](g.value), optData[float32](wv),
			tensor.Data[float32](mean), tensor.Data[float32](variance), eps, optData[float32](gxt), optData[float32](gwt), optData[float32](gbt))
	default:
		kernels.BatchNormBackward(n, c, hw, tensor.Data[float64](x.value), tensor.Data[float64](g.value), optData[float64](wv),
			tensor.Data[float64](mean), tensor.Data[float64](variance), eps, optData[float64](gxt), optData[float64](gwt), optData[float64](gbt))
	}
	node := func(t *tensor.Tensor) *Node {
		if t == nil {
			return nil
		}
		return Const(t)
	}
	return node(gxt), node(gwt), node(gbt)
}

// LayerNorm normalises x over its last dims axes, as
// torch.nn.functional.layer_norm with normalized_shape the last dims sizes
// of x: y = (x − mean)/√(var + eps)·weight + bias, weight and bias shaped
// like those axes (either may be nil).
func LayerNorm(x, weight, bias *Node, dims int, eps float64) *Node {
	const op = "LayerNorm"
	xs := x.Shape()
	if dims < 1 || dims > len(xs) {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{xs}, Msg: fmt.Sprintf("cannot normalise over the last %d axes", dims)})
	}
	norm := xs[len(xs)-dims:]
	checkParam(op, x, weight, norm)
	checkParam(op, x, bias, norm)
	axes := make([]int, dims)
	for i := range axes {
		axes[i] = len(xs) - dims + i
	}
	return affine(normalize(x, eps, axes...), weight, bias, norm)
}

// GroupNorm normalises x [N, C, …] over groups of C/groups channels (and
// all their positions), as torch.nn.functional.group_norm: weight and
// bias are [C] (either may be nil), applied per channel.
func GroupNorm(x *Node, groups int, weight, bias *Node, eps float64) *Node {
	const op = "GroupNorm"
	xs := x.Shape()
	if len(xs) < 2 || groups < 1 || xs[1]%groups != 0 {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{xs}, Msg: fmt.Sprintf("want input [N, C, …] with C divisible by %d groups", groups)})
	}
	checkParam(op, x, weight, xs[1:2])
	checkParam(op, x, bias, xs[1:2])
	y := Reshape(normalize(Reshape(x, xs[0], groups, -1), eps, 2), xs...)
	return affine(y, weight, bias, channelShape(xs[1], len(xs)))
}

// ChannelAffine returns x·scale + shift per channel: y[n, c, …] =
// x[n, c, …]·scale[c] + shift[c] for x [N, C] or [N, C, …] and scale and
// shift [C] (shift nil: none), in one pass: a BatchNorm in evaluation
// mode, whose scale weight/√(running_var + eps) and shift bias −
// running_mean·scale are computed on the [C] vectors. Its VJP is
// ChannelAffine(g, scale, nil) for x, the per-channel sums of g·x for
// scale and of g for shift.
func ChannelAffine(x, scale, shift *Node) *Node {
	return channelAffine("ChannelAffine", x, scale, shift, false)
}

// ChannelAffineReLU returns max(0, ChannelAffine(x, scale, shift)), the two
// as one pass (a BatchNorm in evaluation mode and its ReLU). Its VJP masks
// g where the output is not positive and continues as ChannelAffine's.
func ChannelAffineReLU(x, scale, shift *Node) *Node {
	return channelAffine("ChannelAffineReLU", x, scale, shift, true)
}

func channelAffine(op string, x, scale, shift *Node, relu bool) *Node {
	xs := x.Shape()
	if len(xs) < 2 {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{xs}, Msg: "want input [N, C] or [N, C, …]"})
	}
	if scale == nil {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{xs}, Msg: "scale is nil"})
	}
	checkParam(op, x, scale, xs[1:2])
	checkParam(op, x, shift, xs[1:2])
	inputs := []*Node{x, scale}
	var sv *tensor.Tensor
	if shift != nil {
		inputs, sv = append(inputs, shift), shift.value
	}
	y := channelAffineValue(x.value, scale.value, sv, relu)
	return Apply(op, y, func(gr *Node, in []*Node, out *Node, need []bool) []*Node {
		vjp := func(gr *Node) []*Node {
			gs := make([]*Node, len(in))
			if need[0] {
				gs[0] = ChannelAffine(gr, in[1], nil)
			}
			if need[1] {
				gs[1] = channelSum(Mul(gr, in[0]))
			}
			if len(in) == 3 && need[2] {
				gs[2] = channelSum(gr)
			}
			return gs
		}
		if relu {
			return afterReLU(gr, out.value, vjp)
		}
		return vjp(gr)
	}, inputs...)
}

func channelAffineValue(x, scale, shift *tensor.Tensor, relu bool) *tensor.Tensor {
	xs := x.Shape()
	n, c := xs[0], xs[1]
	hw := x.Len() / max(n*c, 1)
	y := tensor.New(x.DType(), xs...)
	switch x.DType() {
	case tensor.Float32:
		kernels.ChannelAffine(n, c, hw, tensor.Data[float32](x), tensor.Data[float32](scale), dataOrNil[float32](shift), relu, tensor.Data[float32](y))
	default:
		kernels.ChannelAffine(n, c, hw, tensor.Data[float64](x), tensor.Data[float64](scale), dataOrNil[float64](shift), relu, tensor.Data[float64](y))
	}
	return y
}
