package ag

import (
	"fmt"
	"slices"

	"github.com/nabla-go/nabla/kernels"
	"github.com/nabla-go/nabla/tensor"
)

// PoolParams are the settings of MaxPool2D and AvgPool2D, as PyTorch's
// nn.MaxPool2d and nn.AvgPool2d take them. Kernel is required; the zero
// value of every other field is PyTorch's default.
type PoolParams struct {
	// Kernel is the window's height and width.
	Kernel [2]int
	// Stride is the step between windows (0: the kernel size, PyTorch's
	// default).
	Stride [2]int
	// Padding is added on both sides of each axis: −∞ for max pooling,
	// zeros for average pooling. At most half the (dilated) kernel, as
	// PyTorch requires.
	Padding [2]int
	// Dilation is the spacing between the window's taps (0: 1); max
	// pooling only.
	Dilation [2]int
	// CeilMode rounds the output size up rather than down, so that the
	// last, partial window is kept, unless it would start in the bottom
	// or right padding (PyTorch's rule).
	CeilMode bool
	// ExcludePad leaves padded positions out of the divisor of an average
	// (PyTorch's count_include_pad=False); by default they count.
	ExcludePad bool
	// Divisor, when not 0, replaces every average's divisor (PyTorch's
	// divisor_override).
	Divisor int
}

func (p PoolParams) norm() PoolParams {
	for i := range 2 {
		if p.Stride[i] == 0 {
			p.Stride[i] = p.Kernel[i]
		}
		if p.Dilation[i] == 0 {
			p.Dilation[i] = 1
		}
	}
	return p
}

// poolOutSize is PyTorch's pooling_output_shape.
func poolOutSize(in, k, pad, stride, dil int, ceil bool) int {
	num := in + 2*pad - dil*(k-1) - 1
	if ceil {
		num += stride - 1
	}
	out := floorDiv(num, stride) + 1
	if ceil && (out-1)*stride >= in+pad {
		out--
	}
	return out
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// poolSizes checks p against x [N, C, H, W] and returns the output size.
func poolSizes(op string, xs []int, p PoolParams) (int, int) {
	if len(xs) != 4 {
		panic(convShapeError(op, "want input [N, C, H, W]", xs))
	}
	var out [2]int
	for i := range 2 {
		k, s, pad, d := p.Kernel[i], p.Stride[i], p.Padding[i], p.Dilation[i]
		if k < 1 || s < 1 || d < 1 || pad < 0 {
			panic(convShapeError(op, fmt.Sprintf("kernel %v, stride %v and dilation %v must be positive, padding %v not negative", p.Kernel, p.Stride, p.Dilation, p.Padding), xs))
		}
		if pad > (d*(k-1)+1)/2 {
			panic(convShapeError(op, fmt.Sprintf("padding %v must be at most half the kernel %v", p.Padding, p.Kernel), xs))
		}
		out[i] = poolOutSize(xs[2+i], k, pad, s, d, p.CeilMode)
		if out[i] < 1 {
			panic(convShapeError(op, fmt.Sprintf("the output would be empty (kernel %v, padding %v, dilation %v)", p.Kernel, p.Padding, p.Dilation), xs))
		}
	}
	return out[0], out[1]
}

// MaxPool2D returns the maximum over each window of x [N, C, H, W], as
// torch.nn.functional.max_pool2d: an output [N, C, OH, OW] with OH =
// ⌊(H + 2·pad − dilation·(k−1) − 1)/stride⌋ + 1 (⌈…⌉ with CeilMode, less
// one when the last window would start in the padding). Padding counts as
// −∞. It is a primitive for speed; it records which element each window
// took, and its VJP sends each g to that element (a scatter, whose own
// VJP is the matching gather, so second derivatives work).
//
// Ties: where several elements of a window share the maximum, the whole
// gradient goes to one of them, the first in row-major window order, as
// PyTorch's CPU kernel does (TensorFlow and some GPU kernels pick
// differently; splitting the gradient would be another valid
// subgradient). A NaN in a window is its maximum and takes the gradient.
func MaxPool2D(x *Node, p PoolParams) *Node {
	xs := x.Shape()
	g := maxPoolGeom("MaxPool2D", xs, p)
	planes := xs[0] * xs[1]
	y := tensor.New(x.DType(), xs[0], xs[1], g.OH, g.OW)
	var idx []int // kept for the VJP only when the op is recorded
	if willRecord([]*Node{x}) {
		idx = make([]int, y.Len())
	}
	switch x.DType() {
	case tensor.Float32:
		kernels.MaxPool2D(g, planes, tensor.Data[float32](x.value), tensor.Data[float32](y), idx)
	default:
		kernels.MaxPool2D(g, planes, tensor.Data[float64](x.value), tensor.Data[float64](y), idx)
	}
	return Apply("MaxPool2D", y, func(gr *Node, _ []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{scatterAt(gr, idx, xs, planes)}
	}, x)
}

// maxPoolGeom checks p against x [N, C, H, W] and returns the geometry of
// its max pooling, or panics with a *tensor.ShapeError naming op.
func maxPoolGeom(op string, xs []int, p PoolParams) kernels.PoolGeom {
	p = p.norm()
	oh, ow := poolSizes(op, xs, p)
	return kernels.PoolGeom{H: xs[2], W: xs[3], OH: oh, OW: ow, KH: p.Kernel[0], KW: p.Kernel[1],
		SH: p.Stride[0], SW: p.Stride[1], PH: p.Padding[0], PW: p.Padding[1], DH: p.Dilation[0], DW: p.Dilation[1]}
}

// scatterAt adds g's elements into zeros of shape at the flat indices idx
// (one per element of g; those of each of the planes runs of g fall in
// the same plane of the result, as MaxPool2D's do, so that planes are
// spread over the worker pool). It is linear; its VJP is gatherAt.
func scatterAt(g *Node, idx []int, shape []int, planes int) *Node {
	out := tensor.New(g.DType(), shape...)
	switch g.DType() {
	case tensor.Float32:
		kernels.ScatterPlanes(planes, tensor.Data[float32](g.value), idx, tensor.Data[float32](out))
	default:
		kernels.ScatterPlanes(planes, tensor.Data[float64](g.value), idx, tensor.Data[float64](out))
	}
	gshape := slices.Clone(g.Shape())
	return Apply("scatterAt", out, func(gg *Node, _ []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{gatherAt(gg, idx, gshape, planes)}
	}, g)
}

// gatherAt picks x's elements at the flat indices idx into a tensor of
// shape. It is linear; its VJP is scatterAt.
func gatherAt(x *Node, idx []int, shape []int, planes int) *Node {
	out := tensor.New(x.DType(), shape...)
	switch x.DType() {
	case tensor.Float32:
		kernels.GatherPlanes(planes, tensor.Data[float32](x.value), idx, tensor.Data[float32](out))
	default:
		kernels.GatherPlanes(planes, tensor.Data[float64](x.value), idx, tensor.Data[float64](out))
	}
	xshape := slices.Clone(x.Shape())
	return Apply("gatherAt", out, func(gg *Node, _ []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{scatterAt(gg, idx, xshape, planes)}
	}, x)
}

// AvgPool2D returns the average over each window of x [N, C, H, W], as
// torch.nn.functional.avg_pool2d: output sizes as MaxPool2D's (Dilation
// must be 1). The divisor is the window's size with the padding counted
// (PyTorch's count_include_pad=True, clipped to the padded input in
// CeilMode), or without it with ExcludePad, or Divisor when set. It is a
// primitive for speed; it is linear, and its VJP is its adjoint, spreading
// each g over its window, whose own VJP is the average again.
func AvgPool2D(x *Node, p PoolParams) *Node {
	const op = "AvgPool2D"
	p = p.norm()
	if p.Dilation != [2]int{1, 1} {
		panic(convShapeError(op, fmt.Sprintf("dilation %v: average pooling has none", p.Dilation), x.Shape()))
	}
	if p.Divisor < 0 {
		panic(convShapeError(op, fmt.Sprintf("divisor %d must not be negative", p.Divisor), x.Shape()))
	}
	xs := x.Shape()
	oh, ow := poolSizes(op, xs, p)
	plan := &kernels.AvgPlan{H: xs[2], W: xs[3], OH: oh, OW: ow, Div: float64(p.Divisor)}
	plan.HS, plan.HE, plan.DivH = avgWindows(xs[2], oh, p.Kernel[0], p.Stride[0], p.Padding[0], !p.ExcludePad)
	plan.WS, plan.WE, plan.DivW = avgWindows(xs[3], ow, p.Kernel[1], p.Stride[1], p.Padding[1], !p.ExcludePad)
	return avgPool(op, x, plan)
}

// avgWindows returns PyTorch's average-pooling windows along one axis:
// start and end of the in-bounds part, and the divisor's factor.
func avgWindows(in, out, k, s, pad int, includePad bool) (start, end []int, div []float64) {
	start, end, div = make([]int, out), make([]int, out), make([]float64, out)
	for o := range out {
		a := o*s - pad
		b := min(a+k, in+pad)
		size := b - a
		a, b = max(a, 0), min(b, in)
		start[o], end[o] = a, b
		if includePad {
			div[o] = float64(size)
		} else {
			div[o] = float64(b - a)
		}
	}
	return start, end, div
}

// AdaptiveAvgPool2D averages x [N, C, H, W] down to [N, C, oh, ow], as
// torch.nn.functional.adaptive_avg_pool2d: output row i averages input
// rows ⌊i·H/oh⌋ to ⌈(i+1)·H/oh⌉ − 1 (columns likewise), so windows may
// overlap or differ in size. AdaptiveAvgPool2D(x, 1, 1) is global average
// pooling. A primitive for speed, linear, with its adjoint as VJP (see
// AvgPool2D).
func AdaptiveAvgPool2D(x *Node, oh, ow int) *Node {
	const op = "AdaptiveAvgPool2D"
	xs := x.Shape()
	if len(xs) != 4 || oh < 1 || ow < 1 {
		panic(convShapeError(op, fmt.Sprintf("want input [N, C, H, W] and a positive output size, got %d×%d", oh, ow), xs))
	}
	plan := &kernels.AvgPlan{H: xs[2], W: xs[3], OH: oh, OW: ow}
	plan.HS, plan.HE, plan.DivH = adaptiveWindows(xs[2], oh)
	plan.WS, plan.WE, plan.DivW = adaptiveWindows(xs[3], ow)
	return avgPool(op, x, plan)
}

func adaptiveWindows(in, out int) (start, end []int, div []float64) {
	start, end, div = make([]int, out), make([]int, out), make([]float64, out)
	for o := range out {
		start[o] = o * in / out
		end[o] = ((o+1)*in + out - 1) / out
		div[o] = float64(end[o] - start[o])
	}
	return start, end, div
}

// avgPool applies an average-pooling plan (a primitive; its VJP is
// avgPoolAdjoint).
func avgPool(op string, x *Node, plan *kernels.AvgPlan) *Node {
	xs := slices.Clone(x.Shape())
	y := tensor.New(x.DType(), xs[0], xs[1], plan.OH, plan.OW)
	planes := xs[0] * xs[1]
	switch x.DType() {
	case tensor.Float32:
		kernels.AvgPool2D(plan, planes, tensor.Data[float32](x.value), tensor.Data[float32](y))
	default:
		kernels.AvgPool2D(plan, planes, tensor.Data[float64](x.value), tensor.Data[float64](y))
	}
	return Apply(op, y, func(g *Node, _ []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{avgPoolAdjoint(g, plan, xs)}
	}, x)
}

// avgPoolAdjoint spreads g [N, C, OH, OW] over the windows of plan, into
// [N, C, H, W]. Linear; its VJP is the pooling itself.
func avgPoolAdjoint(g *Node, plan *kernels.AvgPlan, xs []int) *Node {
	dx := tensor.New(g.DType(), xs...)
	planes := xs[0] * xs[1]
	switch g.DType() {
	case tensor.Float32:
		kernels.AvgPool2DBackward(plan, planes, tensor.Data[float32](g.value), tensor.Data[float32](dx))
	default:
		kernels.AvgPool2DBackward(plan, planes, tensor.Data[float64](g.value), tensor.Data[float64](dx))
	}
	return Apply("avgPoolAdjoint", dx, func(gg *Node, _ []*Node, _ *Node, _ []bool) []*Node {
		return []*Node{avgPool("avgPool", gg, plan)}
	}, g)
}
