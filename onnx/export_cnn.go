package onnx

import (
	"fmt"
	"slices"

	"github.com/nabla-go/nabla/ag"
)

// The ONNX forms of the convolution, pooling and normalisation kinds.
func init() {
	exporters["Conv2d"] = exportConv
	exporters["ConvTranspose2d"] = exportConvTranspose
	exporters["MaxPool2d"] = exportMaxPool
	exporters["AvgPool2d"] = exportAvgPool
	exporters["AdaptiveAvgPool2d"] = exportAdaptiveAvgPool
	exporters["BatchNorm1d"] = exportBatchNorm
	exporters["BatchNorm2d"] = exportBatchNorm
	exporters["LayerNorm"] = exportLayerNorm
	exporters["GroupNorm"] = exportGroupNorm
	exporters["Dropout2d"] = exporters["Dropout"]
}

func pair(v int) []int64 { return []int64{int64(v), int64(v)} }

// exportConv writes Conv: weight [out, in/groups, k, k], pads [top, left,
// bottom, right] (PyTorch's "same" split, the odd one at the bottom and
// right).
func exportConv(g *graph, l layer, x string) (string, error) {
	s := l.Spec
	in, out, k, groups := s.Int("in"), s.Int("out"), s.Int("kernel"), s.Int("groups")
	w, err := g.param(joinPath(l.Path, "weight"), out, in/groups, k, k)
	if err != nil {
		return "", err
	}
	inputs := []string{x, w}
	if s.Bool("bias") {
		b, err := g.param(joinPath(l.Path, "bias"), out)
		if err != nil {
			return "", err
		}
		inputs = append(inputs, b)
	}
	p := int64(s.Int("pad"))
	pads := []int64{p, p, p, p}
	if s.Bool("same") {
		sp := ag.SamePadding(k, k, s.Int("dilation"), s.Int("dilation")) // top, bottom, left, right
		pads = []int64{int64(sp[0]), int64(sp[2]), int64(sp[1]), int64(sp[3])}
	}
	return g.node(l.name(), "Conv", inputs, intsAttr("dilations", pair(s.Int("dilation"))...), intAttr("group", int64(groups)),
		intsAttr("kernel_shape", pair(k)...), intsAttr("pads", pads...), intsAttr("strides", pair(s.Int("stride"))...)), nil
}

// exportConvTranspose writes ConvTranspose: weight [in, out/groups, k, k]
// as in PyTorch.
func exportConvTranspose(g *graph, l layer, x string) (string, error) {
	s := l.Spec
	in, out, k, groups := s.Int("in"), s.Int("out"), s.Int("kernel"), s.Int("groups")
	w, err := g.param(joinPath(l.Path, "weight"), in, out/groups, k, k)
	if err != nil {
		return "", err
	}
	inputs := []string{x, w}
	if s.Bool("bias") {
		b, err := g.param(joinPath(l.Path, "bias"), out)
		if err != nil {
			return "", err
		}
		inputs = append(inputs, b)
	}
	p := int64(s.Int("pad"))
	return g.node(l.name(), "ConvTranspose", inputs, intsAttr("dilations", pair(s.Int("dilation"))...), intAttr("group", int64(groups)),
		intsAttr("kernel_shape", pair(k)...), intsAttr("output_padding", pair(s.Int("output_padding"))...),
		intsAttr("pads", p, p, p, p), intsAttr("strides", pair(s.Int("stride"))...)), nil
}

// poolSize is a pooling output size: ⌊(h + 2·pad − d·(k−1) − 1)/s⌋ + 1,
// or with ceil, ONNX's ⌈…⌉ + 1 (without PyTorch's rule that the last
// window start inside the input).
func poolSize(h, k, s, pad, d int, ceil bool) int {
	e := h + 2*pad - d*(k-1) - 1
	if ceil {
		return (e+s-1)/s + 1
	}
	return e/s + 1
}

// ceilMode says whether the pooling layer l needs ONNX's ceil_mode: not
// when its output has the floor sizes; yes when it has ONNX's ceil sizes;
// an error when PyTorch's rule makes it differ from both.
func ceilMode(l layer, k, s, pad, d int) (int64, error) {
	if !l.Spec.Bool("ceil_mode") {
		return 0, nil
	}
	h, w := l.In[1], l.In[2]
	oh, ow := l.Out[1], l.Out[2]
	if oh == poolSize(h, k, s, pad, d, false) && ow == poolSize(w, k, s, pad, d, false) {
		return 0, nil
	}
	if l.Spec.Type == "MaxPool2d" && oh == poolSize(h, k, s, pad, d, true) && ow == poolSize(w, k, s, pad, d, true) {
		return 1, nil
	}
	return 0, fmt.Errorf("layer %s: ceil_mode on a %d×%d input has no ONNX form here", l.Path, h, w)
}

func poolStride(l layer) int {
	if s := l.Spec.Int("stride"); s != 0 {
		return s
	}
	return l.Spec.Int("kernel")
}

func exportMaxPool(g *graph, l layer, x string) (string, error) {
	k, s, p, d := l.Spec.Int("kernel"), poolStride(l), l.Spec.Int("pad"), l.Spec.Int("dilation")
	ceil, err := ceilMode(l, k, s, p, d)
	if err != nil {
		return "", err
	}
	pp := int64(p)
	return g.node(l.name(), "MaxPool", []string{x}, intAttr("ceil_mode", ceil), intsAttr("dilations", pair(d)...),
		intsAttr("kernel_shape", pair(k)...), intsAttr("pads", pp, pp, pp, pp), intsAttr("strides", pair(s)...)), nil
}

func exportAvgPool(g *graph, l layer, x string) (string, error) {
	k, s, p := l.Spec.Int("kernel"), poolStride(l), l.Spec.Int("pad")
	if l.Spec.Int("divisor") != 0 {
		return "", fmt.Errorf("layer %s: AvgPool2d's divisor has no ONNX form", l.Path)
	}
	ceil, err := ceilMode(l, k, s, p, 1)
	if err != nil {
		return "", err
	}
	count := int64(0)
	if l.Spec.Bool("count_include_pad") {
		count = 1
	}
	pp := int64(p)
	return g.node(l.name(), "AveragePool", []string{x}, intAttr("ceil_mode", ceil), intAttr("count_include_pad", count),
		intsAttr("kernel_shape", pair(k)...), intsAttr("pads", pp, pp, pp, pp), intsAttr("strides", pair(s)...)), nil
}

// exportAdaptiveAvgPool writes GlobalAveragePool for a 1×1 output, an
// AveragePool when the output divides the input, and refuses the rest
// (opset 17 has no adaptive pooling).
func exportAdaptiveAvgPool(g *graph, l layer, x string) (string, error) {
	h, w, oh, ow := l.In[1], l.In[2], l.Out[1], l.Out[2]
	if oh == 1 && ow == 1 {
		return g.node(l.name(), "GlobalAveragePool", []string{x}), nil
	}
	if h%oh != 0 || w%ow != 0 {
		return "", fmt.Errorf("layer %s: AdaptiveAvgPool2d from %d×%d to %d×%d has no ONNX form (the sizes do not divide)", l.Path, h, w, oh, ow)
	}
	kh, kw := int64(h/oh), int64(w/ow)
	return g.node(l.name(), "AveragePool", []string{x}, intsAttr("kernel_shape", kh, kw), intsAttr("strides", kh, kw)), nil
}

// affine returns the layer's "weight" and "bias" initialisers (shaped
// store in the graph), or constant ones and zeros when it has none.
func (g *graph) affine(l layer, shape, store []int) (string, string, error) {
	if !l.Spec.Bool("affine") {
		n := 1
		for _, d := range shape {
			n *= d
		}
		ones := make([]float64, n)
		for i := range ones {
			ones[i] = 1
		}
		return g.constant(l.name()+"/ones", ones, store...), g.constant(l.name()+"/zeros", make([]float64, n), store...), nil
	}
	w, err := g.paramAs(joinPath(l.Path, "weight"), shape, store)
	if err != nil {
		return "", "", err
	}
	b, err := g.paramAs(joinPath(l.Path, "bias"), shape, store)
	return w, b, err
}

// paramAs is param with the initialiser stored in another shape of the
// same size (a per-channel [C] weight as [C, 1, 1], to broadcast).
func (g *graph) paramAs(key string, shape, store []int) (string, error) {
	if _, err := g.param(key, shape...); err != nil {
		return "", err
	}
	g.inits[len(g.inits)-1].Dims = int64s(store)
	return key, nil
}

// exportBatchNorm writes BatchNormalization with the running statistics
// (evaluation). ONNX's momentum is PyTorch's 1 − momentum.
func exportBatchNorm(g *graph, l layer, x string) (string, error) {
	s := l.Spec
	if !s.Bool("track_running_stats") {
		return "", fmt.Errorf("layer %s: a %s without running statistics normalises with the batch's at inference, which ONNX's BatchNormalization does not", l.Path, s.Type)
	}
	c := s.Int("features")
	w, b, err := g.affine(l, []int{c}, []int{c})
	if err != nil {
		return "", err
	}
	mean, err := g.param(joinPath(l.Path, "running_mean"), c)
	if err != nil {
		return "", err
	}
	v, err := g.param(joinPath(l.Path, "running_var"), c)
	if err != nil {
		return "", err
	}
	g.used[joinPath(l.Path, "num_batches_tracked")] = true
	return g.node(l.name(), "BatchNormalization", []string{x, w, b, mean, v},
		floatAttr("epsilon", s.Float("eps")), floatAttr("momentum", 1-s.Float("momentum"))), nil
}

// exportLayerNorm writes LayerNormalization (in opset 17) over the last
// dims dimensions.
func exportLayerNorm(g *graph, l layer, x string) (string, error) {
	d := l.Spec.Int("dims")
	shape := slices.Clone(l.In[len(l.In)-d:])
	w, b, err := g.affine(l, shape, shape)
	if err != nil {
		return "", err
	}
	return g.node(l.name(), "LayerNormalization", []string{x, w, b}, intAttr("axis", int64(-d)), floatAttr("epsilon", l.Spec.Float("eps"))), nil
}

// exportGroupNorm composes GroupNorm, which opset 17 lacks (it arrives in
// opset 18), as PyTorch 1.13 does: Reshape to [N, groups, −1],
// InstanceNormalization (scale 1, bias 0), Reshape back, then the
// per-channel weight and bias.
func exportGroupNorm(g *graph, l layer, x string) (string, error) {
	s := l.Spec
	c, groups := s.Int("channels"), s.Int("groups")
	p := l.name()
	y := g.node(p, "Reshape", []string{x, g.int64Constant(p+"/groups", []int64{0, int64(groups), -1})})
	ones := make([]float64, groups)
	for i := range ones {
		ones[i] = 1
	}
	y = g.node(p, "InstanceNormalization", []string{y, g.constant(p+"/ones", ones, groups), g.constant(p+"/zeros", make([]float64, groups), groups)},
		floatAttr("epsilon", s.Float("eps")))
	y = g.node(p, "Reshape", []string{y, g.int64Constant(p+"/shape", append([]int64{0}, int64s(l.In)...))})
	if !s.Bool("affine") {
		return y, nil
	}
	store := []int{c}
	for range len(l.In) - 1 {
		store = append(store, 1)
	}
	w, b, err := g.affine(l, []int{c}, store)
	if err != nil {
		return "", err
	}
	y = g.node(p, "Mul", []string{y, w})
	return g.node(p, "Add", []string{y, b}), nil
}
