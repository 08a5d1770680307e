package nn

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// The convolutional layer kinds (issue 10): Conv2d, ConvTranspose2d,
// MaxPool2d, AvgPool2d, AdaptiveAvgPool2d and Dropout2d, named and laid
// out as PyTorch's modules. Their input example is [C, H, W]; a batch is
// [N, C, H, W].
func init() {
	convSettings := func(withOutPad bool) []Setting {
		st := []Setting{
			{Name: "in", Type: Int, Min: 1, Max: maxDim, Inferred: true, Doc: "input channels (inferred)"},
			{Name: "out", Type: Int, Min: 1, Max: maxDim, Doc: "output channels"},
			{Name: "kernel", Type: Int, Min: 1, Max: 1 << 16, Doc: "kernel height and width"},
			{Name: "stride", Type: Int, Default: 1, Min: 1, Max: 1 << 16, Doc: "step between windows"},
			{Name: "pad", Type: Int, Default: 0, Min: 0, Max: 1 << 16, Doc: "zero padding on every side"},
		}
		if withOutPad {
			st = append(st, Setting{Name: "output_padding", Type: Int, Default: 0, Min: 0, Max: 1 << 16, Doc: "rows and columns added at the bottom and right of the output (less than stride or dilation)"})
		} else {
			st = append(st, Setting{Name: "same", Type: Bool, Default: false, Doc: `PyTorch's padding="same": pad so that the output has the input's size (stride 1, pad 0)`})
		}
		return append(st,
			Setting{Name: "dilation", Type: Int, Default: 1, Min: 1, Max: 1 << 16, Doc: "spacing between kernel taps"},
			Setting{Name: "groups", Type: Int, Default: 1, Min: 1, Max: maxDim, Doc: "channel groups convolved separately (groups = in: depthwise)"},
			Setting{Name: "bias", Type: Bool, Default: true, Doc: "add a learnt bias"},
			Setting{Name: "init", Type: String, Default: "default", Choices: initSchemes, Doc: "weight initialisation scheme"},
		)
	}
	mustRegister(Kind{
		Name: "Conv2d", Text: "conv",
		Doc:      "2-D convolution of [C, H, W] examples: weight [out, in/groups, kernel, kernel], bias [out]",
		Settings: convSettings(false),
		Shape: func(s *Spec, in []int) ([]int, error) {
			c, err := convInput(s, in)
			if err != nil {
				return nil, err
			}
			if s.Bool("same") && (s.Int("stride") != 1 || s.Int("pad") != 0) {
				return nil, errors.New(`"same" padding needs stride 1 and pad 0`)
			}
			m := convFromSpec(*s, c)
			oh, ow := convOut(in[1], m.params().Padding[0]+m.params().Padding[1], m.Kernel, m.Stride, m.Dilation),
				convOut(in[2], m.params().Padding[2]+m.params().Padding[3], m.Kernel, m.Stride, m.Dilation)
			if oh < 1 || ow < 1 {
				return nil, fmt.Errorf("a %d×%d kernel (dilation %d, padding %d) does not fit a %d×%d input", m.Kernel, m.Kernel, m.Dilation, m.Pad, in[1], in[2])
			}
			return []int{s.Int("out"), oh, ow}, nil
		},
		Size: func(s Spec) (int64, error) {
			k := int64(s.Int("kernel"))
			return sizeOf(int64(s.Int("out"))*b2i(s.Bool("bias")), int64(s.Int("out")), int64(s.Int("in")/s.Int("groups")), k, k)
		},
		Build: func(s Spec, b *Builder) (Module, error) {
			m := convFromSpec(s, s.Int("in"))
			m.Weight = ag.Var(tensor.New(b.DType, m.Out, m.In/m.Groups, m.Kernel, m.Kernel))
			return m, m.initParams(b.RNG, b.DType, s.Bool("bias"))
		},
	})
	mustRegister(Kind{
		Name: "ConvTranspose2d", Text: "convt",
		Doc:      "2-D transposed convolution of [C, H, W] examples: weight [in, out/groups, kernel, kernel], bias [out]",
		Settings: convSettings(true),
		Shape: func(s *Spec, in []int) ([]int, error) {
			c, err := convInput(s, in)
			if err != nil {
				return nil, err
			}
			m := convTFromSpec(*s, c)
			if m.OutputPadding >= m.Stride && m.OutputPadding >= m.Dilation {
				return nil, fmt.Errorf("output_padding %d must be smaller than the stride %d or the dilation %d", m.OutputPadding, m.Stride, m.Dilation)
			}
			o := func(h int) int {
				return (h-1)*m.Stride - 2*m.Pad + m.Dilation*(m.Kernel-1) + m.OutputPadding + 1
			}
			if o(in[1]) < 1 || o(in[2]) < 1 {
				return nil, fmt.Errorf("the output would be %d×%d", o(in[1]), o(in[2]))
			}
			return []int{s.Int("out"), o(in[1]), o(in[2])}, nil
		},
		Size: func(s Spec) (int64, error) {
			k := int64(s.Int("kernel"))
			return sizeOf(int64(s.Int("out"))*b2i(s.Bool("bias")), int64(s.Int("in")), int64(s.Int("out")/s.Int("groups")), k, k)
		},
		Build: func(s Spec, b *Builder) (Module, error) {
			m := convTFromSpec(s, s.Int("in"))
			m.Weight = ag.Var(tensor.New(b.DType, m.In, m.Out/m.Groups, m.Kernel, m.Kernel))
			return m, m.initParams(b.RNG, b.DType, s.Bool("bias"))
		},
	})
	poolSettings := []Setting{
		{Name: "kernel", Type: Int, Min: 1, Max: 1 << 16, Doc: "window height and width"},
		{Name: "stride", Type: Int, Default: 0, Min: 0, Max: 1 << 16, Doc: "step between windows (0: the kernel size, PyTorch's default)"},
		{Name: "pad", Type: Int, Default: 0, Min: 0, Max: 1 << 16, Doc: "padding on every side (at most half the kernel)"},
	}
	mustRegister(Kind{
		Name: "MaxPool2d", Text: "maxpool",
		Doc: "the maximum of each window; ties send the gradient to the first element (PyTorch's rule)",
		Settings: append(poolSettings[:3:3],
			Setting{Name: "dilation", Type: Int, Default: 1, Min: 1, Max: 1 << 16, Doc: "spacing between window taps"},
			Setting{Name: "ceil_mode", Type: Bool, Default: false, Doc: "round the output size up"}),
		Shape: func(s *Spec, in []int) ([]int, error) { return poolShape(poolFromSpec(*s, true), in, ag.MaxPool2D) },
		Build: func(s Spec, _ *Builder) (Module, error) { return poolFromSpec(s, true), nil },
	})
	mustRegister(Kind{
		Name: "AvgPool2d", Text: "avgpool",
		Doc: "the average of each window",
		Settings: append(poolSettings[:3:3],
			Setting{Name: "ceil_mode", Type: Bool, Default: false, Doc: "round the output size up"},
			Setting{Name: "count_include_pad", Type: Bool, Default: true, Doc: "count padded positions in the divisor"},
			Setting{Name: "divisor", Type: Int, Default: 0, Min: 0, Max: 1 << 30, Doc: "divide by this instead (PyTorch's divisor_override; 0: none)"}),
		Shape: func(s *Spec, in []int) ([]int, error) { return poolShape(poolFromSpec(*s, false), in, ag.AvgPool2D) },
		Build: func(s Spec, _ *Builder) (Module, error) { return poolFromSpec(s, false), nil },
	})
	mustRegister(Kind{
		Name: "AdaptiveAvgPool2d", Text: "adaptiveavgpool",
		Doc: "averages each channel down to h×w (1: global average pooling)",
		Settings: []Setting{
			{Name: "h", Type: Int, Min: 1, Max: 1 << 16, Doc: "output height"},
			{Name: "w", Type: Int, Default: 0, Min: 0, Max: 1 << 16, Doc: "output width (0: h)"},
		},
		Shape: func(s *Spec, in []int) ([]int, error) {
			if len(in) != 3 {
				return nil, errors.New("want examples [C, H, W]")
			}
			a := adaptiveFromSpec(*s)
			return []int{in[0], a.H, a.W}, nil
		},
		Build: func(s Spec, _ *Builder) (Module, error) { return adaptiveFromSpec(s), nil },
	})
	mustRegister(Kind{
		Name: "Dropout2d", Text: "dropout2d",
		Doc: "zeroes whole channels with probability p in training, scaling the rest by 1/(1−p)",
		Settings: []Setting{
			{Name: "p", Type: Float, Default: 0.5, Min: 0, Max: 1, MaxOpen: true, Doc: "probability of zeroing a channel"},
		},
		Shape: func(s *Spec, in []int) ([]int, error) {
			if len(in) < 2 {
				return nil, errors.New("want examples [C, H, W] (or [C, L])")
			}
			return in, nil
		},
		Build: func(s Spec, b *Builder) (Module, error) { return NewDropout2d(s.Float("p"), b.RNG), nil },
	})
}

// sizeOf returns extra + Π factors, or an error when that passes 2⁶²
// (no model that large can be built; the check keeps the product from
// overflowing).
func sizeOf(extra int64, factors ...int64) (int64, error) {
	n := int64(1)
	for _, f := range factors {
		if f < 0 || (f > 0 && n > (1<<62)/f) {
			return 0, errors.New("more than 2⁶² parameters")
		}
		n *= f
	}
	if n > (1<<62)-extra {
		return 0, errors.New("more than 2⁶² parameters")
	}
	return n + extra, nil
}

// convInput checks a convolution's input example [C, H, W] against the
// spec's channels and groups, and fills in "in".
func convInput(s *Spec, in []int) (int, error) {
	if len(in) != 3 {
		return 0, errors.New("want examples [C, H, W]")
	}
	c := in[0]
	if n, ok := s.Settings["in"]; ok && n.(int) != c {
		return 0, &SpecError{Type: s.Type, Setting: "in", Msg: fmt.Sprintf("%d, but the input has %d channels (shape %v)", n, c, in)}
	}
	if g := s.Int("groups"); c%g != 0 || s.Int("out")%g != 0 {
		return 0, &SpecError{Type: s.Type, Setting: "groups", Msg: fmt.Sprintf("%d does not divide %d input and %d output channels", g, c, s.Int("out"))}
	}
	s.Settings["in"] = c
	return c, nil
}

func convOut(h, pad, k, stride, dil int) int {
	e := h + pad - dil*(k-1) - 1
	if e < 0 {
		return 0
	}
	return e/stride + 1
}

// Conv2d is a 2-D convolution layer, as PyTorch's nn.Conv2d with square
// kernels: Weight [Out, In/Groups, Kernel, Kernel], Bias [Out] (nil
// without bias), initialised as PyTorch does by default (weight and bias
// U(−1/√fan_in, 1/√fan_in), fan_in = In/Groups·Kernel²).
type Conv2d struct {
	Weight, Bias                                   *ag.Node
	In, Out, Kernel, Stride, Pad, Dilation, Groups int
	// Same pads so that the output keeps the input's size (PyTorch's
	// padding="same"; stride 1): the odd row and column go at the bottom
	// and right.
	Same bool
	init string
}

func convFromSpec(s Spec, in int) *Conv2d {
	return &Conv2d{In: in, Out: s.Int("out"), Kernel: s.Int("kernel"), Stride: s.Int("stride"), Pad: s.Int("pad"),
		Dilation: s.Int("dilation"), Groups: s.Int("groups"), Same: s.Bool("same"), init: s.Str("init")}
}

func (c *Conv2d) params() ag.ConvParams {
	p := ag.ConvParams{Stride: [2]int{c.Stride, c.Stride}, Padding: ag.Pad(c.Pad), Dilation: [2]int{c.Dilation, c.Dilation}, Groups: c.Groups}
	if c.Same {
		p.Padding = ag.SamePadding(c.Kernel, c.Kernel, c.Dilation, c.Dilation)
	}
	return p
}

func (c *Conv2d) initParams(rng *rand.Rand, dt tensor.DType, withBias bool) error {
	var bias *tensor.Tensor
	if withBias {
		c.Bias = ag.Var(tensor.New(dt, c.Out))
		bias = c.Bias.Value()
	}
	return Init(c.Weight.Value(), bias, c.init, rng)
}

// NewConv2d returns a Conv2d layer with a bias, PyTorch's default
// initialisation drawn from rng, and the given settings (stride, pad: as
// the spec's; dilation and groups 1).
func NewConv2d(in, out, kernel, stride, pad int, dt tensor.DType, rng *rand.Rand) *Conv2d {
	if in < 1 || out < 1 || kernel < 1 || stride < 1 || pad < 0 {
		panic(&tensor.ShapeError{Op: "NewConv2d", Shapes: [][]int{{out, in, kernel, kernel}}, Msg: "sizes must be at least 1, padding not negative"})
	}
	c := &Conv2d{In: in, Out: out, Kernel: kernel, Stride: stride, Pad: pad, Dilation: 1, Groups: 1, init: "default"}
	c.Weight = ag.Var(tensor.New(dt, out, in, kernel, kernel))
	if err := c.initParams(rng, dt, true); err != nil {
		panic(err) // unreachable: "default" is a known scheme
	}
	return c
}

// Forward convolves x [N, In, H, W] (or one example [In, H, W]) with the
// fused ag.Conv2D.
func (c *Conv2d) Forward(x *ag.Node) *ag.Node { return c.forward(x, ag.Conv2D) }

// Fuse runs the convolution as one op with what follows it, among: a
// BatchNorm2d in evaluation mode, folded into the convolution's weight and
// bias as PyTorch's fuse_conv_bn_eval does (w·s and b·s + β −
// running_mean·s with s = γ/√(running_var + eps): one convolution instead
// of a convolution and a pass, equal to the two layers up to rounding, and
// written with ag ops, so gradients still reach w, b, γ and β); then a
// ReLU (ag.Conv2DReLU); then a MaxPool2d (ag.Conv2DMaxPool and
// Conv2DReLUMaxPool, which pool each image's output while it is in cache
// and never store the convolution's output whole). The fused ops give the
// values and gradients of the layers in turn.
func (c *Conv2d) Fuse(next []Module) (func(*ag.Node) *ag.Node, int) {
	n := 0
	var bn *BatchNorm
	if len(next) > 0 {
		if b, ok := next[0].(*BatchNorm); ok && !b.training && b.RunningMean != nil && b.Kind == "BatchNorm2d" && b.Features == c.Out {
			bn, n = b, 1
		}
	}
	relu := isReLU(next, n)
	if relu {
		n++
	}
	var pool *Pool2d
	if n < len(next) {
		if p, ok := next[n].(*Pool2d); ok && p.Max {
			pool = p
			n++
		}
	}
	if n == 0 {
		return nil, 0
	}
	return func(x *ag.Node) *ag.Node {
		w, b := c.Weight, c.Bias
		if bn != nil {
			w, b = c.foldBatchNorm(bn)
		}
		return unbatched(x, func(x *ag.Node) *ag.Node {
			switch {
			case pool != nil && relu:
				return ag.Conv2DReLUMaxPool(x, w, b, c.params(), pool.P)
			case pool != nil:
				return ag.Conv2DMaxPool(x, w, b, c.params(), pool.P)
			case relu:
				return ag.Conv2DReLU(x, w, b, c.params())
			}
			return ag.Conv2D(x, w, b, c.params())
		})
	}, n
}

// foldBatchNorm returns the weight and bias of this convolution followed
// by the evaluation-mode BatchNorm bn: w·scale and b·scale + shift, with
// bn's scale and shift (BatchNorm.evalAffine).
func (c *Conv2d) foldBatchNorm(bn *BatchNorm) (w, b *ag.Node) {
	scale, shift := bn.evalAffine()
	w = ag.Mul(c.Weight, ag.Reshape(scale, c.Out, 1, 1, 1))
	b = shift
	if c.Bias != nil {
		b = ag.Add(ag.Mul(c.Bias, scale), shift)
	}
	return w, b
}

func (c *Conv2d) forward(x *ag.Node, op func(x, w, b *ag.Node, p ag.ConvParams) *ag.Node) *ag.Node {
	return unbatched(x, func(x *ag.Node) *ag.Node { return op(x, c.Weight, c.Bias, c.params()) })
}

// unbatched applies f to x [N, C, H, W], or to one example [C, H, W] as a
// batch of one, as PyTorch's 2-D layers accept both.
func unbatched(x *ag.Node, f func(*ag.Node) *ag.Node) *ag.Node {
	if sh := x.Shape(); len(sh) == 3 {
		y := f(ag.Reshape(x, 1, sh[0], sh[1], sh[2]))
		return ag.Reshape(y, y.Shape()[1:]...)
	}
	return f(x)
}

// Params returns "weight" and, when there is one, "bias".
func (c *Conv2d) Params() []Param { return weightBias(c.Weight, c.Bias) }

func weightBias(w, b *ag.Node) []Param {
	ps := []Param{{Name: "weight", Node: w}}
	if b != nil {
		ps = append(ps, Param{Name: "bias", Node: b})
	}
	return ps
}

// Spec describes the layer.
func (c *Conv2d) Spec() Spec {
	return L("Conv2d", "in", c.In, "out", c.Out, "kernel", c.Kernel, "stride", c.Stride, "pad", c.Pad, "same", c.Same,
		"dilation", c.Dilation, "groups", c.Groups, "bias", c.Bias != nil, "init", initName(c.init))
}

func initName(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

func (c *Conv2d) String() string {
	return fmt.Sprintf("Conv2d(%d, %d, kernel_size=%d, stride=%d, padding=%d)", c.In, c.Out, c.Kernel, c.Stride, c.Pad)
}

// ConvTranspose2d is a 2-D transposed convolution layer, as PyTorch's
// nn.ConvTranspose2d with square kernels: Weight [In, Out/Groups, Kernel,
// Kernel], Bias [Out], initialised as PyTorch does (U(±1/√fan_in) with
// fan_in = Out/Groups·Kernel², PyTorch's reading of this layout).
type ConvTranspose2d struct {
	Weight, Bias                                                  *ag.Node
	In, Out, Kernel, Stride, Pad, OutputPadding, Dilation, Groups int
	init                                                          string
}

func convTFromSpec(s Spec, in int) *ConvTranspose2d {
	return &ConvTranspose2d{In: in, Out: s.Int("out"), Kernel: s.Int("kernel"), Stride: s.Int("stride"), Pad: s.Int("pad"),
		OutputPadding: s.Int("output_padding"), Dilation: s.Int("dilation"), Groups: s.Int("groups"), init: s.Str("init")}
}

func (c *ConvTranspose2d) initParams(rng *rand.Rand, dt tensor.DType, withBias bool) error {
	var bias *tensor.Tensor
	if withBias {
		c.Bias = ag.Var(tensor.New(dt, c.Out))
		bias = c.Bias.Value()
	}
	return Init(c.Weight.Value(), bias, c.init, rng)
}

// Forward applies the transposed convolution to x [N, In, H, W] (or one
// example [In, H, W]).
func (c *ConvTranspose2d) Forward(x *ag.Node) *ag.Node {
	p := ag.ConvParams{Stride: [2]int{c.Stride, c.Stride}, Padding: ag.Pad(c.Pad), Dilation: [2]int{c.Dilation, c.Dilation},
		Groups: c.Groups, OutputPadding: [2]int{c.OutputPadding, c.OutputPadding}}
	return unbatched(x, func(x *ag.Node) *ag.Node { return ag.ConvTranspose2D(x, c.Weight, c.Bias, p) })
}

// Params returns "weight" and, when there is one, "bias".
func (c *ConvTranspose2d) Params() []Param { return weightBias(c.Weight, c.Bias) }

// Spec describes the layer.
func (c *ConvTranspose2d) Spec() Spec {
	return L("ConvTranspose2d", "in", c.In, "out", c.Out, "kernel", c.Kernel, "stride", c.Stride, "pad", c.Pad,
		"output_padding", c.OutputPadding, "dilation", c.Dilation, "groups", c.Groups, "bias", c.Bias != nil, "init", initName(c.init))
}

func (c *ConvTranspose2d) String() string {
	return fmt.Sprintf("ConvTranspose2d(%d, %d, kernel_size=%d, stride=%d, padding=%d)", c.In, c.Out, c.Kernel, c.Stride, c.Pad)
}

// Pool2d is a max or average pooling layer (PyTorch's nn.MaxPool2d and
// nn.AvgPool2d): Max selects which, P holds the settings (square windows).
type Pool2d struct {
	Max bool
	P   ag.PoolParams
	// specStride is the spec's stride (0: the kernel size), kept so that
	// Spec gives back the spec the layer was built from.
	specStride int
}

func poolFromSpec(s Spec, isMax bool) *Pool2d {
	k, st, pad := s.Int("kernel"), s.Int("stride"), s.Int("pad")
	if st == 0 {
		st = k
	}
	p := ag.PoolParams{Kernel: [2]int{k, k}, Stride: [2]int{st, st}, Padding: [2]int{pad, pad}, CeilMode: s.Bool("ceil_mode")}
	if isMax {
		d := s.Int("dilation")
		p.Dilation = [2]int{d, d}
		return &Pool2d{Max: true, P: p, specStride: s.Int("stride")}
	}
	p.ExcludePad = !s.Bool("count_include_pad")
	p.Divisor = s.Int("divisor")
	return &Pool2d{P: p, specStride: s.Int("stride")}
}

// poolShape runs the op on a zero-sized stand-in to learn the output
// shape, turning its shape panic into an error.
func poolShape(m *Pool2d, in []int, op func(*ag.Node, ag.PoolParams) *ag.Node) ([]int, error) {
	if len(in) != 3 {
		return nil, errors.New("want examples [C, H, W]")
	}
	var out []int
	err := tensor.Try(func() {
		out = op(ag.Const(tensor.New(tensor.Float32, 1, 1, in[1], in[2])), m.P).Shape()
	})
	if err != nil {
		return nil, err
	}
	return []int{in[0], out[2], out[3]}, nil
}

// Forward pools x [N, C, H, W] (or one example [C, H, W]).
func (m *Pool2d) Forward(x *ag.Node) *ag.Node {
	return unbatched(x, func(x *ag.Node) *ag.Node {
		if m.Max {
			return ag.MaxPool2D(x, m.P)
		}
		return ag.AvgPool2D(x, m.P)
	})
}

// Params is empty.
func (m *Pool2d) Params() []Param { return nil }

// Spec describes the layer.
func (m *Pool2d) Spec() Spec {
	p := m.P
	stride := m.specStride
	if stride == 0 && p.Stride[0] != 0 && p.Stride[0] != p.Kernel[0] {
		stride = p.Stride[0] // built by hand with another stride
	}
	if m.Max {
		return L("MaxPool2d", "kernel", p.Kernel[0], "stride", stride, "pad", p.Padding[0], "dilation", max(p.Dilation[0], 1), "ceil_mode", p.CeilMode)
	}
	return L("AvgPool2d", "kernel", p.Kernel[0], "stride", stride, "pad", p.Padding[0], "ceil_mode", p.CeilMode,
		"count_include_pad", !p.ExcludePad, "divisor", p.Divisor)
}

func (m *Pool2d) String() string {
	name := "AvgPool2d"
	if m.Max {
		name = "MaxPool2d"
	}
	return fmt.Sprintf("%s(kernel_size=%d, stride=%d, padding=%d)", name, m.P.Kernel[0], m.P.Stride[0], m.P.Padding[0])
}

// AdaptiveAvgPool2d averages each channel down to H×W (PyTorch's
// nn.AdaptiveAvgPool2d); 1×1 is global average pooling.
type AdaptiveAvgPool2d struct {
	H, W  int
	specW int // the spec's w (0: H), for Spec
}

func adaptiveFromSpec(s Spec) *AdaptiveAvgPool2d {
	h, w := s.Int("h"), s.Int("w")
	a := &AdaptiveAvgPool2d{H: h, W: w, specW: w}
	if w == 0 {
		a.W = h
	}
	return a
}

// Forward pools x [N, C, H, W] (or one example [C, H, W]).
func (a *AdaptiveAvgPool2d) Forward(x *ag.Node) *ag.Node {
	return unbatched(x, func(x *ag.Node) *ag.Node { return ag.AdaptiveAvgPool2D(x, a.H, a.W) })
}

// Params is empty.
func (a *AdaptiveAvgPool2d) Params() []Param { return nil }

// Spec describes the layer.
func (a *AdaptiveAvgPool2d) Spec() Spec { return L("AdaptiveAvgPool2d", "h", a.H, "w", a.specW) }

func (a *AdaptiveAvgPool2d) String() string {
	return fmt.Sprintf("AdaptiveAvgPool2d(output_size=(%d, %d))", a.H, a.W)
}

// Dropout2d zeroes whole channels: in training, each channel of each
// example ([N, C, …], dimension 1) is kept with probability 1−P and scaled
// by 1/(1−P), as PyTorch's nn.Dropout2d. In evaluation it is the identity.
// A new Dropout2d is in training mode.
type Dropout2d struct {
	P        float64
	rng      *rand.Rand
	training bool
}

// NewDropout2d returns a Dropout2d layer drawing from rng; p must be in
// [0, 1) (anything else panics).
func NewDropout2d(p float64, rng *rand.Rand) *Dropout2d {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("nn: NewDropout2d: probability %v is not in [0, 1)", p))
	}
	return &Dropout2d{P: p, rng: rng, training: true}
}

// SetTraining switches between training and evaluation.
func (d *Dropout2d) SetTraining(on bool) { d.training = on }

// Training reports whether d is in training mode.
func (d *Dropout2d) Training() bool { return d.training }

// Forward draws one uniform number per (example, channel), in row-major
// order, and keeps the channel, scaled by 1/(1−P), where it is at least
// P. An input of fewer than 2 dimensions panics with a *tensor.ShapeError
// naming "Dropout2d".
func (d *Dropout2d) Forward(x *ag.Node) *ag.Node {
	sh := x.Shape()
	if len(sh) < 2 {
		panic(&tensor.ShapeError{Op: "Dropout2d", Shapes: [][]int{sh}, Msg: "want input [N, C, …]"})
	}
	if !d.training || d.P == 0 {
		return x
	}
	ms := make([]int, len(sh))
	for i := range ms {
		ms[i] = 1
	}
	ms[0], ms[1] = sh[0], sh[1]
	mask := make([]float64, sh[0]*sh[1])
	keep := 1 / (1 - d.P)
	for i := range mask {
		if d.rng.Float64() >= d.P {
			mask[i] = keep
		}
	}
	return ag.Mul(x, ag.Const(tensor.FromValues(x.DType(), mask, ms...)))
}

// Params is empty.
func (d *Dropout2d) Params() []Param { return nil }

// Spec describes the layer.
func (d *Dropout2d) Spec() Spec { return L("Dropout2d", "p", d.P) }

func (d *Dropout2d) String() string { return fmt.Sprintf("Dropout2d(p=%v)", d.P) }
