package ag

import (
	"fmt"

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
// the layer's business (nn.BatchNorm): in evaluation, normalising with
// fixed statistics is an affine map of x.
func BatchNorm(x, weight, bias *Node, eps float64) *Node {
	const op = "BatchNorm"
	xs := x.Shape()
	if len(xs) < 2 {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{xs}, Msg: "want input [N, C] or [N, C, …]"})
	}
	checkParam(op, x, weight, xs[1:2])
	checkParam(op, x, bias, xs[1:2])
	var y *Node
	if len(xs) == 2 {
		y = normalize(x, eps, 0)
	} else {
		y = normalizeWith(x, eps, channelMeanKeep)
	}
	return affine(y, weight, bias, channelShape(xs[1], len(xs)))
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
