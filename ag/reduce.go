package ag

import (
	"slices"

	"github.com/nabla-go/nabla/tensor"
)

// Sum adds x over axes, removing them (all axes when none: a scalar).
func Sum(x *Node, axes ...int) *Node { return sum(x, axes, false) }

// SumKeep is Sum keeping the reduced axes with size 1.
func SumKeep(x *Node, axes ...int) *Node { return sum(x, axes, true) }

func sum(x *Node, axes []int, keep bool) *Node {
	axes = slices.Clone(axes)
	return Apply("Sum", reduceValue(tensor.Sum, tensor.SumKeep, x.value, axes, keep), func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{BroadcastTo(Reshape(g, keptShape(in[0].Shape(), axes)...), in[0].Shape()...)}
	}, x)
}

// Mean averages x over axes (all when none).
func Mean(x *Node, axes ...int) *Node { return mean(x, axes, false) }

// MeanKeep is Mean keeping the reduced axes with size 1.
func MeanKeep(x *Node, axes ...int) *Node { return mean(x, axes, true) }

func mean(x *Node, axes []int, keep bool) *Node {
	s := sum(x, axes, keep)
	n := x.value.Len() / max(s.value.Len(), 1)
	return Scale(s, 1/float64(n))
}

// Max takes the largest element over axes (all when none). The gradient
// goes to the maximal elements, split evenly among ties (as torch.amax).
func Max(x *Node, axes ...int) *Node {
	return extreme("Max", tensor.Max, tensor.MaxKeep, x, axes, false)
}

// MaxKeep is Max keeping the reduced axes with size 1.
func MaxKeep(x *Node, axes ...int) *Node {
	return extreme("Max", tensor.Max, tensor.MaxKeep, x, axes, true)
}

// Min takes the smallest element over axes; ties split the gradient.
func Min(x *Node, axes ...int) *Node {
	return extreme("Min", tensor.Min, tensor.MinKeep, x, axes, false)
}

// MinKeep is Min keeping the reduced axes with size 1.
func MinKeep(x *Node, axes ...int) *Node {
	return extreme("Min", tensor.Min, tensor.MinKeep, x, axes, true)
}

type reducer func(*tensor.Tensor, ...int) *tensor.Tensor

func reduceValue(drop, keep reducer, x *tensor.Tensor, axes []int, keepDims bool) *tensor.Tensor {
	if keepDims {
		return keep(x, axes...)
	}
	return drop(x, axes...)
}

func extreme(op string, drop, keep reducer, x *Node, axes []int, keepDims bool) *Node {
	axes = slices.Clone(axes)
	return Apply(op, reduceValue(drop, keep, x.value, axes, keepDims), func(g *Node, in []*Node, out *Node, _ []bool) []*Node {
		shape := in[0].Shape()
		ks := keptShape(shape, axes)
		hit := tensor.Equal(in[0].value, tensor.Reshape(out.value, ks...))
		w := tensor.Div(hit, tensor.SumKeep(hit, axes...)) // 1/ties at each extreme
		return []*Node{Mul(BroadcastTo(Reshape(g, ks...), shape...), Const(w))}
	}, x)
}

// keptShape is shape with the reduced axes set to 1 (all of them when axes
// is empty).
func keptShape(shape, axes []int) []int {
	out := slices.Clone(shape)
	if len(axes) == 0 {
		for i := range out {
			out[i] = 1
		}
		return out
	}
	for _, a := range axes {
		if a < 0 {
			a += len(shape)
		}
		out[a] = 1
	}
	return out
}
