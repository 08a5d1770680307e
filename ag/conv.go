package ag

import (
	"fmt"

	"github.com/nabla-go/nabla/kernels"
	"github.com/nabla-go/nabla/tensor"
)

// Convolutions follow PyTorch's conventions: NCHW data, cross-correlation
// (the kernel is not flipped), weights [out, in/groups, kh, kw] for
// Conv2D and [in, out/groups, kh, kw] for ConvTranspose2D.
//
// Three bilinear primitives do all the work, each computed with the GEMM
// (kernels.Conv2D and friends, im2col in cache-sized tiles), and each
// one's VJP is written with the other two, so that gradients of any order
// exist:
//
//	conv(x, w)        y = x ⋆ w                      (Conv2D)
//	convData(dy, w)   dx = the adjoint of x ↦ x ⋆ w   (ConvTranspose2D)
//	convWeight(x, dy) dw = the adjoint of w ↦ x ⋆ w
//
// ⟨dy, conv(x, w)⟩ = ⟨convData(dy, w), x⟩ = ⟨convWeight(x, dy), w⟩ gives
// every VJP: conv's are convData(g, w) and convWeight(x, g); convData's
// are conv(g, w) and convWeight(g, dy); convWeight's are convData(dy, g)
// and conv(x, g).

// ConvParams are the settings of a 2-D convolution. The zero value is
// PyTorch's default: stride 1, no padding, dilation 1, one group.
type ConvParams struct {
	// Stride is the step between windows along height and width (0: 1).
	Stride [2]int
	// Padding is the number of zero rows and columns added at the top,
	// bottom, left and right: asymmetric padding is allowed (PyTorch
	// needs F.pad for it). Pad(p) and SamePadding fill it.
	Padding [4]int
	// Dilation is the spacing between kernel taps (0: 1).
	Dilation [2]int
	// Groups splits the channels into groups convolved separately (0: 1);
	// Groups equal to the input channels is a depthwise convolution.
	Groups int
	// OutputPadding adds rows and columns at the bottom and right of a
	// ConvTranspose2D's output (PyTorch's output_padding), to pick among
	// the input sizes that a strided convolution maps to the same output
	// size. Each must be less than the stride or the dilation. Conv2D
	// ignores it.
	OutputPadding [2]int
}

// Pad returns symmetric padding p on every side, for ConvParams.Padding.
func Pad(p int) [4]int { return [4]int{p, p, p, p} }

// SamePadding returns the padding that keeps a stride-1 convolution's
// output the size of its input (PyTorch's padding="same"): d·(k−1) rows
// and columns in all, half at the top and left, the odd one at the bottom
// and right, as PyTorch splits them.
func SamePadding(kh, kw, dh, dw int) [4]int {
	th, tw := max(dh, 1)*(kh-1), max(dw, 1)*(kw-1)
	return [4]int{th / 2, th - th/2, tw / 2, tw - tw/2}
}

func (p ConvParams) norm() ConvParams {
	for i := range 2 {
		if p.Stride[i] == 0 {
			p.Stride[i] = 1
		}
		if p.Dilation[i] == 0 {
			p.Dilation[i] = 1
		}
	}
	if p.Groups == 0 {
		p.Groups = 1
	}
	return p
}

func convShapeError(op string, msg string, shapes ...[]int) *tensor.ShapeError {
	return &tensor.ShapeError{Op: op, Shapes: shapes, Msg: msg}
}

// checkConvParams panics when a setting is negative or zero where it
// must not be.
func checkConvParams(op string, p ConvParams, shapes ...[]int) {
	for _, v := range p.Stride {
		if v < 1 {
			panic(convShapeError(op, fmt.Sprintf("stride %v must be positive", p.Stride), shapes...))
		}
	}
	for _, v := range p.Dilation {
		if v < 1 {
			panic(convShapeError(op, fmt.Sprintf("dilation %v must be positive", p.Dilation), shapes...))
		}
	}
	for _, v := range p.Padding {
		if v < 0 {
			panic(convShapeError(op, fmt.Sprintf("padding %v must not be negative", p.Padding), shapes...))
		}
	}
	if p.Groups < 1 {
		panic(convShapeError(op, fmt.Sprintf("groups %d must be positive", p.Groups), shapes...))
	}
}

// convGeom returns the geometry of conv(x, w) for x [N, C, H, W] and w
// [K, C/groups, kh, kw], or panics with a *tensor.ShapeError naming op.
func convGeom(op string, x, w []int, p ConvParams) kernels.ConvGeom {
	p = p.norm()
	checkConvParams(op, p, x, w)
	if len(x) != 4 || len(w) != 4 {
		panic(convShapeError(op, "want input [N, C, H, W] and weight [out, in/groups, kh, kw]", x, w))
	}
	if x[1]%p.Groups != 0 || w[0]%p.Groups != 0 || w[1]*p.Groups != x[1] {
		panic(convShapeError(op, fmt.Sprintf("%d input channels, %d groups and weight [%d, %d, …] do not fit (want weight [out, %d/groups, kh, kw], out divisible by groups)",
			x[1], p.Groups, w[0], w[1], x[1]), x, w))
	}
	g := kernels.ConvGeom{
		N: x[0], C: x[1], H: x[2], W: x[3], K: w[0], KH: w[2], KW: w[3],
		SH: p.Stride[0], SW: p.Stride[1], PT: p.Padding[0], PL: p.Padding[2],
		DH: p.Dilation[0], DW: p.Dilation[1], Groups: p.Groups,
	}
	eh := x[2] + p.Padding[0] + p.Padding[1] - p.Dilation[0]*(w[2]-1) - 1
	ew := x[3] + p.Padding[2] + p.Padding[3] - p.Dilation[1]*(w[3]-1) - 1
	if eh < 0 || ew < 0 || w[2] < 1 || w[3] < 1 {
		panic(convShapeError(op, fmt.Sprintf("kernel %d×%d (dilation %v) is larger than the padded input %d×%d",
			w[2], w[3], p.Dilation, x[2]+p.Padding[0]+p.Padding[1], x[3]+p.Padding[2]+p.Padding[3]), x, w))
	}
	g.OH, g.OW = eh/g.SH+1, ew/g.SW+1
	return g
}

func (p ConvParams) String() string {
	p = p.norm()
	return fmt.Sprintf("stride %v, padding %v, dilation %v, groups %d", p.Stride, p.Padding, p.Dilation, p.Groups)
}

// Conv2D returns the 2-D convolution (cross-correlation) of x [N, C, H, W]
// with the weight w [out, C/groups, kh, kw], plus the bias b [out] (nil:
// none), as torch.nn.functional.conv2d: an output [N, out, OH, OW] with
// OH = ⌊(H + top + bottom − dilation·(kh−1) − 1)/stride⌋ + 1 (and OW
// likewise). It is a primitive for speed (im2col and the GEMM, the bias
// added in the product). Its VJP is the transposed convolution of g by w
// for x, the correlation of x with g for w (both primitives whose own VJPs
// are convolutions again, so second derivatives work) and the sum of g
// over N, OH and OW for b.
func Conv2D(x, w, b *Node, p ConvParams) *Node {
	return conv2D("Conv2D", x, w, b, p, false)
}

// Conv2DReLU returns max(0, Conv2D(x, w, b, p)): a convolution and its
// ReLU as one primitive, for speed (the activation is applied to each
// image's output as it is computed: no second tensor, no second pass). Its
// VJP masks g where the output is not positive and continues as Conv2D's.
func Conv2DReLU(x, w, b *Node, p ConvParams) *Node {
	return conv2D("Conv2DReLU", x, w, b, p, true)
}

func conv2D(op string, x, w, b *Node, p ConvParams, relu bool) *Node {
	g := convGeom(op, x.Shape(), w.Shape(), p)
	inputs, bv := convInputs(op, x, w, b, g)
	val := convForward(g, x.value, w.value, bv, relu)
	return Apply(op, val, func(gr *Node, in []*Node, out *Node, need []bool) []*Node {
		vjp := func(gr *Node) []*Node { return convVJP(gr, in, need, g) }
		if relu {
			return afterReLU(gr, out.value, vjp)
		}
		return vjp(gr)
	}, inputs...)
}

// convInputs checks the inputs of a convolution of geometry g named op
// and returns them as Apply takes them, and the bias's value (nil: none).
func convInputs(op string, x, w, b *Node, g kernels.ConvGeom) ([]*Node, *tensor.Tensor) {
	checkSameDType(op, x, w)
	if b == nil {
		return []*Node{x, w}, nil
	}
	checkSameDType(op, x, b)
	if b.value.Dims() != 1 || b.value.Dim(0) != g.K {
		panic(convShapeError(op, fmt.Sprintf("bias must be [%d]", g.K), x.Shape(), w.Shape(), b.Shape()))
	}
	return []*Node{x, w, b}, b.value
}

// convVJP is the VJP of a convolution of geometry g with inputs in (x, w
// and perhaps b) for the gradient gr of its output.
func convVJP(gr *Node, in []*Node, need []bool, g kernels.ConvGeom) []*Node {
	gs := make([]*Node, len(in))
	if need[0] {
		gs[0] = convData(gr, in[1], g)
	}
	if need[1] {
		gs[1] = convWeight(in[0], gr, g)
	}
	if len(in) == 3 && need[2] {
		gs[2] = channelSum(gr)
	}
	return gs
}

// Conv2DMaxPool returns MaxPool2D(Conv2D(x, w, b, p), pool): a
// convolution and the max pooling after it as one primitive, for speed
// and memory (each image's convolution output is pooled while it is in
// cache and never stored whole: at batch 1000 the MNIST CNN's first
// layer holds 25 MB of pooled output instead of 100 MB). The values,
// gradients and tie rule are MaxPool2D's and Conv2D's: its VJP sends g to
// the element each window took (scatterAt) and continues as Conv2D's.
func Conv2DMaxPool(x, w, b *Node, p ConvParams, pool PoolParams) *Node {
	return conv2DMaxPool("Conv2DMaxPool", x, w, b, p, pool, false)
}

// Conv2DReLUMaxPool returns MaxPool2D(ReLU(Conv2D(x, w, b, p)), pool),
// the three as one primitive (see Conv2DMaxPool). The ReLU is applied
// after the pooling, to a quarter of the elements for a 2×2 window: max
// and max(0, ·) commute, and where the result is positive the element
// taken is the same, so values and gradients are those of the three ops
// in turn.
func Conv2DReLUMaxPool(x, w, b *Node, p ConvParams, pool PoolParams) *Node {
	return conv2DMaxPool("Conv2DReLUMaxPool", x, w, b, p, pool, true)
}

func conv2DMaxPool(op string, x, w, b *Node, p ConvParams, pool PoolParams, relu bool) *Node {
	g := convGeom(op, x.Shape(), w.Shape(), p)
	inputs, bv := convInputs(op, x, w, b, g)
	convShape := []int{g.N, g.K, g.OH, g.OW}
	pg := maxPoolGeom(op, convShape, pool)
	y := tensor.New(x.DType(), g.N, g.K, pg.OH, pg.OW)
	var idx []int // kept for the VJP only when the op is recorded
	if willRecord(inputs) {
		idx = make([]int, y.Len())
	}
	switch x.DType() {
	case tensor.Float32:
		kernels.Conv2DMaxPool(g, pg, tensor.Data[float32](x.value), tensor.Data[float32](w.value), dataOrNil[float32](bv),
			tensor.Data[float32](y), idx, relu)
	default:
		kernels.Conv2DMaxPool(g, pg, tensor.Data[float64](x.value), tensor.Data[float64](w.value), dataOrNil[float64](bv),
			tensor.Data[float64](y), idx, relu)
	}
	return Apply(op, y, func(gr *Node, in []*Node, out *Node, need []bool) []*Node {
		vjp := func(gr *Node) []*Node {
			gc := scatterAt(gr, idx, convShape, g.N*g.K)
			gs := convVJP(gc, in, need, g)
			if !gc.RequiresGrad() {
				// Dead: the convolution's VJP made new tensors from it.
				tensor.Recycle(gc.value)
			}
			return gs
		}
		if relu {
			return afterReLU(gr, out.value, vjp)
		}
		return vjp(gr)
	}, inputs...)
}

// ConvTranspose2D returns the transposed convolution of x [N, in, H, W]
// by w [in, out/groups, kh, kw], plus b [out] (nil: none), as
// torch.nn.functional.conv_transpose2d: the adjoint (gradient) of Conv2D
// with the same weight and settings, an output [N, out, OH, OW] with
// OH = (H−1)·stride − top − bottom + dilation·(kh−1) + output padding + 1.
// It is a primitive for speed (the GEMM, then col2im); its VJP is Conv2D
// of g by w for x and the correlation of g with x for w.
func ConvTranspose2D(x, w, b *Node, p ConvParams) *Node {
	const op = "ConvTranspose2D"
	p = p.norm()
	xs, ws := x.Shape(), w.Shape()
	checkConvParams(op, p, xs, ws)
	if len(xs) != 4 || len(ws) != 4 || xs[1] != ws[0] || ws[0]%p.Groups != 0 {
		panic(convShapeError(op, "want input [N, in, H, W] and weight [in, out/groups, kh, kw], in divisible by groups", xs, ws))
	}
	for i := range 2 {
		if op := p.OutputPadding[i]; op < 0 || (op >= p.Stride[i] && op >= p.Dilation[i]) {
			panic(convShapeError("ConvTranspose2D", fmt.Sprintf("output padding %v must be smaller than the stride %v or the dilation %v", p.OutputPadding, p.Stride, p.Dilation), xs, ws))
		}
	}
	oh := (xs[2]-1)*p.Stride[0] - p.Padding[0] - p.Padding[1] + p.Dilation[0]*(ws[2]-1) + p.OutputPadding[0] + 1
	ow := (xs[3]-1)*p.Stride[1] - p.Padding[2] - p.Padding[3] + p.Dilation[1]*(ws[3]-1) + p.OutputPadding[1] + 1
	if oh < 1 || ow < 1 {
		panic(convShapeError(op, fmt.Sprintf("the output would be %d×%d", oh, ow), xs, ws))
	}
	// The convolution that this is the adjoint of: from [N, out, oh, ow]
	// to x's shape.
	g := convGeom(op, []int{xs[0], ws[1] * p.Groups, oh, ow}, ws, p)
	if g.OH != xs[2] || g.OW != xs[3] {
		panic(convShapeError(op, "internal: transposed sizes do not round-trip", xs, ws))
	}
	checkSameDType(op, x, w)
	inputs := []*Node{x, w}
	val := convDataValue(g, x.value, w.value)
	if b != nil {
		checkSameDType(op, x, b)
		if b.value.Dims() != 1 || b.value.Dim(0) != g.C {
			panic(convShapeError(op, fmt.Sprintf("bias must be [%d]", g.C), xs, ws, b.Shape()))
		}
		inputs = append(inputs, b)
		addChannelBias(val, b.value)
	}
	return Apply(op, val, func(gr *Node, in []*Node, _ *Node, need []bool) []*Node {
		gs := make([]*Node, len(in))
		if need[0] {
			gs[0] = conv(gr, in[1], g)
		}
		if need[1] {
			gs[1] = convWeight(gr, in[0], g)
		}
		if len(in) == 3 && need[2] {
			gs[2] = channelSum(gr)
		}
		return gs
	}, inputs...)
}

// conv is the plain convolution primitive of geometry g (no bias).
func conv(x, w *Node, g kernels.ConvGeom) *Node {
	return Apply("conv2d", convForward(g, x.value, w.value, nil, false), func(gr *Node, in []*Node, _ *Node, need []bool) []*Node {
		gs := make([]*Node, 2)
		if need[0] {
			gs[0] = convData(gr, in[1], g)
		}
		if need[1] {
			gs[1] = convWeight(in[0], gr, g)
		}
		return gs
	}, x, w)
}

// convData is the adjoint of x ↦ conv(x, w): the gradient of a
// convolution with respect to its input.
func convData(dy, w *Node, g kernels.ConvGeom) *Node {
	return Apply("conv2dBackwardData", convDataValue(g, dy.value, w.value), func(gr *Node, in []*Node, _ *Node, need []bool) []*Node {
		gs := make([]*Node, 2)
		if need[0] {
			gs[0] = conv(gr, in[1], g)
		}
		if need[1] {
			gs[1] = convWeight(gr, in[0], g)
		}
		return gs
	}, dy, w)
}

// convWeight is the adjoint of w ↦ conv(x, w): the gradient of a
// convolution with respect to its weight.
func convWeight(x, dy *Node, g kernels.ConvGeom) *Node {
	return Apply("conv2dBackwardWeight", convWeightValue(g, x.value, dy.value), func(gr *Node, in []*Node, _ *Node, need []bool) []*Node {
		gs := make([]*Node, 2)
		if need[0] {
			gs[0] = convData(in[1], gr, g)
		}
		if need[1] {
			gs[1] = conv(in[0], gr, g)
		}
		return gs
	}, x, dy)
}

func checkSameDType(op string, a, b *Node) {
	if a.DType() != b.DType() {
		panic(&tensor.DTypeError{Op: op, DTypes: []tensor.DType{a.DType(), b.DType()}})
	}
}

func convForward(g kernels.ConvGeom, x, w, b *tensor.Tensor, relu bool) *tensor.Tensor {
	y := tensor.New(x.DType(), g.N, g.K, g.OH, g.OW)
	switch x.DType() {
	case tensor.Float32:
		kernels.Conv2D(g, tensor.Data[float32](x), tensor.Data[float32](w), dataOrNil[float32](b), tensor.Data[float32](y), relu)
	default:
		kernels.Conv2D(g, tensor.Data[float64](x), tensor.Data[float64](w), dataOrNil[float64](b), tensor.Data[float64](y), relu)
	}
	return y
}

// dataOrNil is t's elements, or nil for a nil t (an absent bias).
func dataOrNil[T float32 | float64](t *tensor.Tensor) []T {
	if t == nil {
		return nil
	}
	return tensor.Data[T](t)
}

func convDataValue(g kernels.ConvGeom, dy, w *tensor.Tensor) *tensor.Tensor {
	dx := tensor.New(dy.DType(), g.N, g.C, g.H, g.W)
	switch dy.DType() {
	case tensor.Float32:
		kernels.Conv2DBackwardData(g, tensor.Data[float32](dy), tensor.Data[float32](w), tensor.Data[float32](dx))
	default:
		kernels.Conv2DBackwardData(g, tensor.Data[float64](dy), tensor.Data[float64](w), tensor.Data[float64](dx))
	}
	return dx
}

func convWeightValue(g kernels.ConvGeom, x, dy *tensor.Tensor) *tensor.Tensor {
	dw := tensor.New(x.DType(), g.K, g.C/g.Groups, g.KH, g.KW)
	switch x.DType() {
	case tensor.Float32:
		kernels.Conv2DBackwardWeight(g, tensor.Data[float32](x), tensor.Data[float32](dy), tensor.Data[float32](dw))
	default:
		kernels.Conv2DBackwardWeight(g, tensor.Data[float64](x), tensor.Data[float64](dy), tensor.Data[float64](dw))
	}
	return dw
}

// channelSum is the sum of g [N, C, H, W] over N, H and W: a bias's
// gradient. The positions are summed first, along contiguous rows, then
// the images (one tensor.Sum over axes 0, 2 and 3 would copy g to bring
// them together).
func channelSum(g *Node) *Node {
	sh := g.Shape()
	return Sum(Sum(Reshape(g, sh[0], sh[1], -1), 2), 0)
}

// addChannelBias adds b[c] to every element of channel c of y [N, C, …]
// (contiguous) in place.
func addChannelBias(y, b *tensor.Tensor) {
	n, c := y.Dim(0), y.Dim(1)
	per := y.Len() / max(n*c, 1)
	switch y.DType() {
	case tensor.Float32:
		addBias(tensor.Data[float32](y), tensor.Data[float32](b), n, c, per)
	default:
		addBias(tensor.Data[float64](y), tensor.Data[float64](b), n, c, per)
	}
}

func addBias[T float32 | float64](y, b []T, n, c, per int) {
	for i := range n * c {
		v := b[i%c]
		row := y[i*per : (i+1)*per]
		for j := range row {
			row[j] += v
		}
	}
}
