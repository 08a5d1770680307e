package ag_test

import (
	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// The golden cases of the convolutional ops (issue 10), added to
// goldenOps. Their attrs are named as in testdata/golden/gen_golden.py.
func init() {
	pair := func(a goldenAttrs, key string) [2]int {
		v := a.ints(key)
		return [2]int{v[0], v[1]}
	}
	convParams := func(a goldenAttrs) ag.ConvParams {
		pad := a.ints("padding")
		p := ag.ConvParams{Stride: pair(a, "stride"), Padding: [4]int{pad[0], pad[1], pad[2], pad[3]},
			Dilation: pair(a, "dilation"), Groups: a.int("groups")}
		if _, ok := a["output_padding"]; ok {
			p.OutputPadding = pair(a, "output_padding")
		}
		return p
	}
	bias := func(in []*ag.Node) *ag.Node {
		if len(in) > 2 {
			return in[2]
		}
		return nil
	}
	affine := func(in []*ag.Node) (w, b *ag.Node) {
		if len(in) > 1 {
			return in[1], in[2]
		}
		return nil, nil
	}
	poolParams := func(a goldenAttrs) ag.PoolParams {
		p := ag.PoolParams{Kernel: pair(a, "kernel"), Stride: pair(a, "stride"), Padding: pair(a, "padding")}
		a.get("ceil_mode", &p.CeilMode)
		if _, ok := a["dilation"]; ok {
			p.Dilation = pair(a, "dilation")
		}
		if _, ok := a["count_include_pad"]; ok {
			var incl bool
			a.get("count_include_pad", &incl)
			p.ExcludePad = !incl
			var div *int
			a.get("divisor", &div)
			if div != nil {
				p.Divisor = *div
			}
		}
		return p
	}
	// The pooling of Conv2DMaxPool: its stride and padding are named
	// apart from the convolution's.
	convPool := func(a goldenAttrs) ag.PoolParams {
		return ag.PoolParams{Kernel: pair(a, "kernel"), Stride: pair(a, "pool_stride"), Padding: pair(a, "pool_padding")}
	}
	ops := map[string]goldenOp{
		"Conv2D": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
			return ag.Conv2D(in[0], in[1], bias(in), convParams(a))
		},
		"Conv2DReLU": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
			return ag.Conv2DReLU(in[0], in[1], bias(in), convParams(a))
		},
		"Conv2DMaxPool": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
			return ag.Conv2DMaxPool(in[0], in[1], bias(in), convParams(a), convPool(a))
		},
		"Conv2DReLUMaxPool": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
			return ag.Conv2DReLUMaxPool(in[0], in[1], bias(in), convParams(a), convPool(a))
		},
		"ChannelAffine": func(in []*ag.Node, _ goldenAttrs, _ tensor.DType) *ag.Node {
			return ag.ChannelAffine(in[0], in[1], bias(in))
		},
		"ChannelAffineReLU": func(in []*ag.Node, _ goldenAttrs, _ tensor.DType) *ag.Node {
			return ag.ChannelAffineReLU(in[0], in[1], bias(in))
		},
		"ConvTranspose2D": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
			return ag.ConvTranspose2D(in[0], in[1], bias(in), convParams(a))
		},
		"MaxPool2D": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
			return ag.MaxPool2D(in[0], poolParams(a))
		},
		"AvgPool2D": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
			return ag.AvgPool2D(in[0], poolParams(a))
		},
		"AdaptiveAvgPool2D": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
			out := a.ints("out")
			return ag.AdaptiveAvgPool2D(in[0], out[0], out[1])
		},
		"BatchNorm": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
			w, b := affine(in)
			return ag.BatchNorm(in[0], w, b, a.float("eps"))
		},
		"BatchNormReLU": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
			w, b := affine(in)
			return ag.BatchNormReLU(in[0], w, b, a.float("eps"))
		},
		"LayerNorm": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
			w, b := affine(in)
			return ag.LayerNorm(in[0], w, b, a.int("dims"), a.float("eps"))
		},
		"GroupNorm": func(in []*ag.Node, a goldenAttrs, _ tensor.DType) *ag.Node {
			w, b := affine(in)
			return ag.GroupNorm(in[0], a.int("groups"), w, b, a.float("eps"))
		},
	}
	for name, f := range ops {
		goldenOps[name] = f
	}
}
