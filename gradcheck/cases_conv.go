package gradcheck

import (
	"math/rand/v2"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// convCases covers the convolutional ops (issue 10): odd sizes, strides
// above 1, symmetric and asymmetric padding, dilation, groups (depthwise
// included), 1×1 kernels, ceil mode, and every average-pooling divisor.
func convCases() []Case {
	conv := func(name string, xs, ws []int, bias bool, p ag.ConvParams) Case {
		ins := []func(*rand.Rand) *tensor.Tensor{randn(xs...), randn(ws...)}
		if bias {
			ins = append(ins, randn(ws[0]))
		}
		return Case{Op: "Conv2D", Name: name, Inputs: gen(ins...), F: func(x []*ag.Node) *ag.Node {
			var b *ag.Node
			if bias {
				b = x[2]
			}
			return ag.Conv2D(x[0], x[1], b, p)
		}}
	}
	convT := func(name string, xs, ws []int, bias bool, p ag.ConvParams) Case {
		ins := []func(*rand.Rand) *tensor.Tensor{randn(xs...), randn(ws...)}
		if bias {
			ins = append(ins, randn(ws[1]*max(p.Groups, 1)))
		}
		return Case{Op: "ConvTranspose2D", Name: name, Inputs: gen(ins...), F: func(x []*ag.Node) *ag.Node {
			var b *ag.Node
			if bias {
				b = x[2]
			}
			return ag.ConvTranspose2D(x[0], x[1], b, p)
		}}
	}
	pool := func(op, name string, xs []int, f func(*ag.Node, ag.PoolParams) *ag.Node, p ag.PoolParams) Case {
		in := randn(xs...)
		if op == "MaxPool2D" {
			in = distinct(xs...)
		}
		return unary(op, name, in, func(x *ag.Node) *ag.Node { return f(x, p) })
	}
	norm3 := func(op, name string, xs, ps []int, affine bool, f func(x, w, b *ag.Node) *ag.Node) Case {
		ins := []func(*rand.Rand) *tensor.Tensor{randn(xs...)}
		if affine {
			ins = append(ins, uniform(0.5, 1.5, ps...), randn(ps...))
		}
		return Case{Op: op, Name: name, Inputs: gen(ins...), F: func(x []*ag.Node) *ag.Node {
			if affine {
				return f(x[0], x[1], x[2])
			}
			return f(x[0], nil, nil)
		}}
	}
	return []Case{
		conv("3×3, bias", []int{2, 3, 5, 6}, []int{4, 3, 3, 3}, true, ag.ConvParams{}),
		conv("stride 2, padding 1", []int{2, 2, 7, 5}, []int{3, 2, 3, 3}, true, ag.ConvParams{Stride: [2]int{2, 2}, Padding: ag.Pad(1)}),
		conv("asymmetric padding, 2×3 kernel, stride (1,2)", []int{1, 2, 5, 6}, []int{3, 2, 2, 3}, false, ag.ConvParams{Stride: [2]int{1, 2}, Padding: [4]int{1, 0, 2, 1}}),
		conv("dilation 2, padding 2", []int{1, 2, 7, 7}, []int{2, 2, 3, 3}, true, ag.ConvParams{Dilation: [2]int{2, 2}, Padding: ag.Pad(2)}),
		conv("groups 2, stride 2", []int{2, 4, 5, 5}, []int{6, 2, 3, 3}, false, ag.ConvParams{Groups: 2, Stride: [2]int{2, 2}}),
		conv("depthwise, same padding", []int{1, 3, 6, 5}, []int{3, 1, 3, 3}, true, ag.ConvParams{Groups: 3, Padding: ag.SamePadding(3, 3, 1, 1)}),
		conv("even kernel, same padding (odd row at the bottom)", []int{1, 2, 5, 5}, []int{2, 2, 4, 2}, false, ag.ConvParams{Padding: ag.SamePadding(4, 2, 1, 1)}),
		conv("1×1 pointwise", []int{2, 4, 3, 3}, []int{5, 4, 1, 1}, true, ag.ConvParams{}),
		{Op: "Conv2DReLU", Name: "3×3, padding 1", Inputs: gen(randn(2, 2, 4, 5), randn(3, 2, 3, 3), randn(3)),
			F: func(x []*ag.Node) *ag.Node { return ag.Conv2DReLU(x[0], x[1], x[2], ag.ConvParams{Padding: ag.Pad(1)}) }},
		convT("stride 2, padding 1, output padding 1", []int{2, 3, 3, 4}, []int{3, 2, 3, 3}, true, ag.ConvParams{Stride: [2]int{2, 2}, Padding: ag.Pad(1), OutputPadding: [2]int{1, 1}}),
		convT("groups 2, dilation 2", []int{1, 4, 3, 3}, []int{4, 3, 2, 2}, true, ag.ConvParams{Groups: 2, Dilation: [2]int{2, 2}}),
		convT("asymmetric padding, stride (2,1)", []int{1, 2, 4, 3}, []int{2, 3, 3, 2}, false, ag.ConvParams{Stride: [2]int{2, 1}, Padding: [4]int{1, 0, 0, 1}}),
		pool("MaxPool2D", "2×2", []int{2, 3, 6, 6}, ag.MaxPool2D, ag.PoolParams{Kernel: [2]int{2, 2}}),
		pool("MaxPool2D", "3×3, stride 2, padding 1, odd sizes", []int{1, 2, 7, 6}, ag.MaxPool2D, ag.PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}),
		pool("MaxPool2D", "ceil mode", []int{1, 2, 5, 7}, ag.MaxPool2D, ag.PoolParams{Kernel: [2]int{2, 2}, CeilMode: true}),
		pool("MaxPool2D", "dilation 2, 3×2 kernel", []int{1, 1, 7, 7}, ag.MaxPool2D, ag.PoolParams{Kernel: [2]int{3, 2}, Stride: [2]int{1, 2}, Dilation: [2]int{2, 2}}),
		pool("AvgPool2D", "2×2", []int{2, 3, 6, 6}, ag.AvgPool2D, ag.PoolParams{Kernel: [2]int{2, 2}}),
		pool("AvgPool2D", "3×3, stride 2, padding 1, padding counted", []int{1, 2, 7, 6}, ag.AvgPool2D, ag.PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}),
		pool("AvgPool2D", "padding excluded, ceil mode", []int{1, 2, 5, 7}, ag.AvgPool2D, ag.PoolParams{Kernel: [2]int{3, 2}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, CeilMode: true, ExcludePad: true}),
		pool("AvgPool2D", "divisor 5", []int{1, 2, 5, 5}, ag.AvgPool2D, ag.PoolParams{Kernel: [2]int{2, 3}, Stride: [2]int{1, 2}, Divisor: 5}),
		unary("AdaptiveAvgPool2D", "7×5 to 3×2 (overlapping windows)", randn(2, 2, 7, 5), func(x *ag.Node) *ag.Node { return ag.AdaptiveAvgPool2D(x, 3, 2) }),
		unary("AdaptiveAvgPool2D", "global", randn(2, 3, 3, 4), func(x *ag.Node) *ag.Node { return ag.AdaptiveAvgPool2D(x, 1, 1) }),
		norm3("BatchNorm", "[4,3,2,3], affine", []int{4, 3, 2, 3}, []int{3}, true, func(x, w, b *ag.Node) *ag.Node { return ag.BatchNorm(x, w, b, 1e-5) }),
		norm3("BatchNorm", "[5,4], no affine", []int{5, 4}, nil, false, func(x, w, b *ag.Node) *ag.Node { return ag.BatchNorm(x, w, b, 1e-5) }),
		norm3("BatchNormReLU", "[4,3,2,3], affine", []int{4, 3, 2, 3}, []int{3}, true, func(x, w, b *ag.Node) *ag.Node { return ag.BatchNormReLU(x, w, b, 1e-5) }),
		norm3("BatchNormReLU", "[6,4], no affine", []int{6, 4}, nil, false, func(x, w, b *ag.Node) *ag.Node { return ag.BatchNormReLU(x, w, b, 1e-5) }),
		norm3("LayerNorm", "last axis", []int{3, 5}, []int{5}, true, func(x, w, b *ag.Node) *ag.Node { return ag.LayerNorm(x, w, b, 1, 1e-5) }),
		norm3("LayerNorm", "last 2 axes", []int{2, 3, 4}, []int{3, 4}, true, func(x, w, b *ag.Node) *ag.Node { return ag.LayerNorm(x, w, b, 2, 1e-5) }),
		norm3("GroupNorm", "6 channels, 3 groups", []int{2, 6, 3, 2}, []int{6}, true, func(x, w, b *ag.Node) *ag.Node { return ag.GroupNorm(x, 3, w, b, 1e-5) }),
		norm3("GroupNorm", "no affine, 1 group", []int{2, 4, 3}, nil, false, func(x, w, b *ag.Node) *ag.Node { return ag.GroupNorm(x, 1, w, b, 1e-5) }),
		// Added last, so that the inputs drawn for the cases above stay as they were.
		norm3("ChannelAffine", "[3,4,2,3]", []int{3, 4, 2, 3}, []int{4}, true, ag.ChannelAffine),
		{Op: "ChannelAffine", Name: "[5,3], no shift", Inputs: gen(randn(5, 3), randn(3)),
			F: func(x []*ag.Node) *ag.Node { return ag.ChannelAffine(x[0], x[1], nil) }},
		norm3("ChannelAffineReLU", "[2,3,4]", []int{2, 3, 4}, []int{3}, true, ag.ChannelAffineReLU),
		{Op: "Conv2DMaxPool", Name: "3×3 padding 1, 2×2 pooling", Inputs: gen(randn(2, 2, 6, 6), randn(3, 2, 3, 3), randn(3)),
			F: func(x []*ag.Node) *ag.Node {
				return ag.Conv2DMaxPool(x[0], x[1], x[2], ag.ConvParams{Padding: ag.Pad(1)}, ag.PoolParams{Kernel: [2]int{2, 2}})
			}},
		{Op: "Conv2DMaxPool", Name: "no bias, stride 2, 3×3 pooling with padding, odd sizes", Inputs: gen(randn(1, 3, 9, 8), randn(2, 3, 2, 2)),
			F: func(x []*ag.Node) *ag.Node {
				return ag.Conv2DMaxPool(x[0], x[1], nil, ag.ConvParams{Stride: [2]int{2, 1}},
					ag.PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}})
			}},
		{Op: "Conv2DReLUMaxPool", Name: "3×3 padding 1, 2×2 pooling, odd width", Inputs: gen(randn(2, 2, 6, 7), randn(4, 2, 3, 3), randn(4)),
			F: func(x []*ag.Node) *ag.Node {
				return ag.Conv2DReLUMaxPool(x[0], x[1], x[2], ag.ConvParams{Padding: ag.Pad(1)}, ag.PoolParams{Kernel: [2]int{2, 2}})
			}},
	}
}
