package onnx

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/onnx/onnxpb"
)

// The convolution, pooling and normalisation ops.
func init() {
	opImports["Conv"] = importConv
	opImports["ConvTranspose"] = importConvTranspose
	opImports["MaxPool"] = importPool
	opImports["AveragePool"] = importPool
	opImports["GlobalAveragePool"] = importGlobalAveragePool
	opImports["Pad"] = importPad
	opImports["BatchNormalization"] = importBatchNorm
	opImports["LayerNormalization"] = importLayerNorm
	for _, op := range []string{"Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "Pad",
		"BatchNormalization", "LayerNormalization", "InstanceNormalization"} {
		importOps[op] = true
	}
}

// square reads an attribute of two equal values (kernel_shape, strides,
// dilations), def when absent.
func square(n *onnxpb.NodeProto, name string, def int64) (int, error) {
	v, ok := intsAttrOf(n, name)
	if !ok {
		return int(def), nil
	}
	if len(v) != 2 || v[0] != v[1] || v[0] < 0 || v[0] > 1<<16 {
		return 0, fmt.Errorf("%s %v: nabla's 2-D layers take two equal values", name, v)
	}
	return int(v[0]), nil
}

// spatial reads the attributes every 2-D op shares: kernel (from the
// attribute or the weight), stride, dilation and pads [top, left, bottom,
// right].
func spatial(n *onnxpb.NodeProto, kernelDef int64) (k, stride, dil int, pads []int64, err error) {
	if a := findAttr(n, "auto_pad"); a != nil && string(a.GetS()) != "NOTSET" && string(a.GetS()) != "" && string(a.GetS()) != "VALID" {
		return 0, 0, 0, nil, fmt.Errorf("auto_pad %s is not read; give pads", printable(string(a.GetS())))
	}
	if k, err = square(n, "kernel_shape", kernelDef); err != nil {
		return
	}
	if stride, err = square(n, "strides", 1); err != nil {
		return
	}
	if dil, err = square(n, "dilations", 1); err != nil {
		return
	}
	pads = []int64{0, 0, 0, 0}
	if p, ok := intsAttrOf(n, "pads"); ok {
		if len(p) != 4 {
			return 0, 0, 0, nil, fmt.Errorf("pads %v: want four", p)
		}
		for _, v := range p {
			if v < 0 || v > 1<<16 {
				return 0, 0, 0, nil, fmt.Errorf("pads %v", p)
			}
		}
		pads = p
	}
	if k < 1 || stride < 1 || dil < 1 {
		return 0, 0, 0, nil, fmt.Errorf("kernel %d, stride %d, dilation %d", k, stride, dil)
	}
	return
}

func equalPads(p []int64) bool { return p[0] == p[1] && p[1] == p[2] && p[2] == p[3] }

// weightOf reads a 4-D float weight [a, b, k, k].
func (im *importer) weightOf(n *onnxpb.NodeProto, k int) (*constant, error) {
	in := n.GetInput()
	if len(in) < 2 {
		return nil, fmt.Errorf("no weight")
	}
	w := im.consts[in[1]]
	if w == nil || w.isInt() || len(w.shape) != 4 || w.shape[2] != w.shape[3] || (k > 0 && w.shape[2] != k) {
		return nil, fmt.Errorf("its weight %q is not a float initialiser [out, in, k, k] with a square kernel", in[1])
	}
	return w, nil
}

func (im *importer) optionalBias(n *onnxpb.NodeProto, out int) (*constant, error) {
	in := n.GetInput()
	if len(in) < 3 || in[2] == "" {
		return nil, nil
	}
	b := im.consts[in[2]]
	if b == nil || b.isInt() || b.len() != out || len(b.shape) != 1 {
		return nil, fmt.Errorf("its bias %q is not a float initialiser [%d]", in[2], out)
	}
	return b, nil
}

func importConv(im *importer, i int, cur string, shape []int) (step, error) {
	n := im.g.GetNode()[i]
	name := nodeName(n, i)
	fail := func(err error) (step, error) { return step{}, fmt.Errorf("node %s: %v", name, err) }
	if n.GetInput()[0] != cur || len(shape) != 3 {
		return fail(fmt.Errorf("a Conv is read as a Conv2d of [C, H, W] examples (the input is %v)", shape))
	}
	w0, err := im.weightOf(n, 0)
	if err != nil {
		return fail(err)
	}
	k, stride, dil, pads, err := spatial(n, int64(w0.shape[2]))
	if err != nil {
		return fail(err)
	}
	w, err := im.weightOf(n, k)
	if err != nil {
		return fail(err)
	}
	groups := int(intAttrOf(n, "group", 1))
	out := w.shape[0]
	if groups < 1 || shape[0]%groups != 0 || w.shape[1]*groups != shape[0] {
		return fail(fmt.Errorf("a weight %v with %d groups for %d input channels", w.shape, groups, shape[0]))
	}
	b, err := im.optionalBias(n, out)
	if err != nil {
		return fail(err)
	}
	s := nn.L("Conv2d", "out", out, "kernel", k, "stride", stride, "dilation", dil, "groups", groups, "bias", b != nil)
	sp := ag.SamePadding(k, k, dil, dil) // top, bottom, left, right
	switch {
	case equalPads(pads):
		s.Settings["pad"] = int(pads[0])
	case stride == 1 && slices.Equal(pads, []int64{int64(sp[0]), int64(sp[2]), int64(sp[1]), int64(sp[3])}):
		s.Settings["same"] = true
	default:
		return fail(fmt.Errorf("pads %v: nabla pads every side alike (or as padding=\"same\")", pads))
	}
	im.done[i] = true
	params := map[string]*constant{"weight": w}
	if b != nil {
		params["bias"] = b
	}
	return step{layer: &s, params: params, out: n.GetOutput()[0]}, nil
}

func importConvTranspose(im *importer, i int, cur string, shape []int) (step, error) {
	n := im.g.GetNode()[i]
	name := nodeName(n, i)
	fail := func(err error) (step, error) { return step{}, fmt.Errorf("node %s: %v", name, err) }
	if n.GetInput()[0] != cur || len(shape) != 3 {
		return fail(fmt.Errorf("a ConvTranspose is read as a ConvTranspose2d of [C, H, W] examples (the input is %v)", shape))
	}
	if findAttr(n, "output_shape") != nil {
		return fail(fmt.Errorf("output_shape is not read; give pads and output_padding"))
	}
	w0, err := im.weightOf(n, 0)
	if err != nil {
		return fail(err)
	}
	k, stride, dil, pads, err := spatial(n, int64(w0.shape[2]))
	if err != nil {
		return fail(err)
	}
	w, err := im.weightOf(n, k)
	if err != nil {
		return fail(err)
	}
	outPad, err := square(n, "output_padding", 0)
	if err != nil {
		return fail(err)
	}
	groups := int(intAttrOf(n, "group", 1))
	if groups < 1 || w.shape[0] != shape[0] || shape[0]%groups != 0 {
		return fail(fmt.Errorf("a weight %v with %d groups for %d input channels", w.shape, groups, shape[0]))
	}
	out := w.shape[1] * groups
	b, err := im.optionalBias(n, out)
	if err != nil {
		return fail(err)
	}
	if !equalPads(pads) {
		return fail(fmt.Errorf("pads %v: nabla pads every side alike", pads))
	}
	s := nn.L("ConvTranspose2d", "out", out, "kernel", k, "stride", stride, "pad", int(pads[0]), "output_padding", outPad,
		"dilation", dil, "groups", groups, "bias", b != nil)
	im.done[i] = true
	params := map[string]*constant{"weight": w}
	if b != nil {
		params["bias"] = b
	}
	return step{layer: &s, params: params, out: n.GetOutput()[0]}, nil
}

// importPool reads MaxPool and AveragePool as MaxPool2d and AvgPool2d;
// extra pads is the zero padding of a Pad before an AveragePool
// (PyTorch's count_include_pad with padding).
func importPool(im *importer, i int, cur string, shape []int) (step, error) {
	return im.pool(i, cur, shape, 0)
}

func (im *importer) pool(i int, cur string, shape []int, extra int) (step, error) {
	n := im.g.GetNode()[i]
	name := nodeName(n, i)
	fail := func(err error) (step, error) { return step{}, fmt.Errorf("node %s: %v", name, err) }
	if n.GetInput()[0] != cur || len(shape) != 3 {
		return fail(fmt.Errorf("a %s is read as a pooling layer of [C, H, W] examples (the input is %v)", n.GetOpType(), shape))
	}
	for _, o := range n.GetOutput()[1:] {
		if o != "" && (len(im.users[o]) > 0 || o == im.output) {
			return fail(fmt.Errorf("its indices output is used"))
		}
	}
	k, stride, dil, pads, err := spatial(n, 0)
	if err != nil {
		return fail(err)
	}
	if findAttr(n, "kernel_shape") == nil {
		return fail(fmt.Errorf("no kernel_shape"))
	}
	if !equalPads(pads) {
		return fail(fmt.Errorf("pads %v: nabla pads every side alike", pads))
	}
	pad := int(pads[0])
	ceil := intAttrOf(n, "ceil_mode", 0) != 0
	specStride := stride
	if stride == k {
		specStride = 0 // the default: the kernel size
	}
	var s nn.Spec
	if n.GetOpType() == "MaxPool" {
		s = nn.L("MaxPool2d", "kernel", k, "stride", specStride, "pad", pad, "dilation", dil, "ceil_mode", ceil)
	} else {
		if dil != 1 {
			return fail(fmt.Errorf("dilations %d", dil))
		}
		count := intAttrOf(n, "count_include_pad", 0) != 0
		if extra > 0 {
			if pad != 0 {
				return fail(fmt.Errorf("pads after a Pad"))
			}
			pad, count = extra, true
		}
		if pad == 0 {
			count = true // no padding to count: nabla's (and PyTorch's) default
		}
		s = nn.L("AvgPool2d", "kernel", k, "stride", specStride, "pad", pad, "ceil_mode", ceil, "count_include_pad", count)
	}
	// nabla's sizes (PyTorch's) must be ONNX's.
	_, out, err := nn.Resolve(s, shape)
	if err != nil {
		return fail(err)
	}
	if ceil && (out[1] != poolSize(shape[1], k, stride, pad, dil, true) || out[2] != poolSize(shape[2], k, stride, pad, dil, true)) {
		return fail(fmt.Errorf("ceil_mode gives %v in ONNX but %v in PyTorch and nabla", []int{poolSize(shape[1], k, stride, pad, dil, true), poolSize(shape[2], k, stride, pad, dil, true)}, out[1:]))
	}
	im.done[i] = true
	return step{layer: &s, out: n.GetOutput()[0]}, nil
}

// importPad reads a zero Pad of H and W alike followed by an
// AveragePool, as PyTorch writes AvgPool2d(padding=p,
// count_include_pad=True).
func importPad(im *importer, i int, cur string, shape []int) (step, error) {
	n := im.g.GetNode()[i]
	name := nodeName(n, i)
	in := n.GetInput()
	fail := func(msg string) (step, error) {
		return step{}, fmt.Errorf("node %s: nabla reads a Pad only as the zero padding of an AveragePool after it: %s", name, msg)
	}
	if len(shape) != 3 || len(in) < 2 || in[0] != cur {
		return fail("not on [C, H, W] examples")
	}
	if m := findAttr(n, "mode"); m != nil && string(m.GetS()) != "constant" {
		return fail("mode " + printable(string(m.GetS())))
	}
	if len(in) > 2 && in[2] != "" {
		if v, ok := im.consts[in[2]].scalar(); !ok || v != 0 {
			return fail("a constant value other than 0")
		}
	}
	if len(in) > 3 && in[3] != "" {
		return fail("axes")
	}
	p := im.consts[in[1]]
	if p == nil || !p.isInt() || len(p.i) != 8 {
		return fail("pads are not 8 integer constants")
	}
	v := p.i
	if v[0] != 0 || v[1] != 0 || v[4] != 0 || v[5] != 0 || v[2] != v[3] || v[3] != v[6] || v[6] != v[7] || v[2] < 1 || v[2] > 1<<16 {
		return fail(fmt.Sprintf("pads %v", v))
	}
	users := im.pending(n.GetOutput()[0])
	if len(users) != 1 || n.GetOutput()[0] == im.output || im.g.GetNode()[users[0]].GetOpType() != "AveragePool" {
		return fail("no AveragePool follows")
	}
	st, err := im.pool(users[0], n.GetOutput()[0], shape, int(v[2]))
	if err != nil {
		return step{}, err
	}
	im.done[i] = true
	return st, nil
}

func importGlobalAveragePool(im *importer, i int, cur string, shape []int) (step, error) {
	n := im.g.GetNode()[i]
	if n.GetInput()[0] != cur || len(shape) != 3 {
		return step{}, fmt.Errorf("node %s: a GlobalAveragePool is read as AdaptiveAvgPool2d(1) of [C, H, W] examples (the input is %v)", nodeName(n, i), shape)
	}
	im.done[i] = true
	s := nn.L("AdaptiveAvgPool2d", "h", 1)
	return step{layer: &s, out: n.GetOutput()[0]}, nil
}

// vector reads input k of n as a float constant of c values.
func (im *importer) vector(n *onnxpb.NodeProto, k, c int) (*constant, error) {
	in := n.GetInput()
	if k >= len(in) || im.consts[in[k]] == nil || im.consts[in[k]].isInt() || im.consts[in[k]].len() != c {
		name := ""
		if k < len(in) {
			name = in[k]
		}
		return nil, fmt.Errorf("input %d (%q) is not a float initialiser of %d values", k, name, c)
	}
	return &constant{shape: []int{c}, f: im.consts[in[k]].f}, nil
}

// round7 rounds to seven significant digits (float32 attributes, and
// sums of them, read back as the decimals they were written from).
func round7(v float64) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 7, 64), 64)
	return f
}

func importBatchNorm(im *importer, i int, cur string, shape []int) (step, error) {
	n := im.g.GetNode()[i]
	name := nodeName(n, i)
	fail := func(err error) (step, error) { return step{}, fmt.Errorf("node %s: %v", name, err) }
	kind := map[int]string{1: "BatchNorm1d", 2: "BatchNorm1d", 3: "BatchNorm2d"}[len(shape)]
	if n.GetInput()[0] != cur || kind == "" {
		return fail(fmt.Errorf("a BatchNormalization is read as BatchNorm1d or BatchNorm2d of [C], [C, L] or [C, H, W] examples (the input is %v)", shape))
	}
	if intAttrOf(n, "training_mode", 0) != 0 || len(n.GetOutput()) > 1 && slices.ContainsFunc(n.GetOutput()[1:], func(o string) bool { return o != "" }) {
		return fail(fmt.Errorf("training mode; nabla imports inference graphs"))
	}
	c := shape[0]
	params := map[string]*constant{}
	for k, key := range []string{"weight", "bias", "running_mean", "running_var"} {
		v, err := im.vector(n, k+1, c)
		if err != nil {
			return fail(err)
		}
		params[key] = v
	}
	for j, v := range params["running_var"].f {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fail(fmt.Errorf("running variance %d is %v", j, v))
		}
	}
	params["num_batches_tracked"] = &constant{f: []float64{0}}
	m := 1 - shortest(floatAttrOf(n, "momentum", 0.9))
	s := nn.L(kind, "features", c, "eps", shortest(floatAttrOf(n, "epsilon", 1e-5)), "momentum", round7(min(max(m, 0), 1)),
		"affine", true, "track_running_stats", true)
	im.done[i] = true
	return step{layer: &s, params: params, out: n.GetOutput()[0]}, nil
}

func importLayerNorm(im *importer, i int, cur string, shape []int) (step, error) {
	n := im.g.GetNode()[i]
	name := nodeName(n, i)
	fail := func(err error) (step, error) { return step{}, fmt.Errorf("node %s: %v", name, err) }
	rank := len(shape) + 1
	axis := intAttrOf(n, "axis", -1)
	if axis < 0 {
		axis += int64(rank)
	}
	if n.GetInput()[0] != cur || axis < 1 || axis >= int64(rank) {
		return fail(fmt.Errorf("a LayerNormalization over axis %d of a batch of %v is not a LayerNorm of the examples", intAttrOf(n, "axis", -1), shape))
	}
	for _, o := range n.GetOutput()[1:] {
		if o != "" && (len(im.users[o]) > 0 || o == im.output) {
			return fail(fmt.Errorf("its mean or inverse deviation output is used"))
		}
	}
	norm := shape[axis-1:]
	c := 1
	parts := make([]string, len(norm))
	for j, d := range norm {
		c *= d
		parts[j] = strconv.Itoa(d)
	}
	w, err := im.vector(n, 1, c)
	if err != nil {
		return fail(err)
	}
	b := &constant{f: make([]float64, c)}
	if len(n.GetInput()) > 2 && n.GetInput()[2] != "" {
		if b, err = im.vector(n, 2, c); err != nil {
			return fail(err)
		}
	}
	w.shape, b.shape = slices.Clone(norm), slices.Clone(norm)
	s := nn.L("LayerNorm", "shape", strings.Join(parts, "x"), "dims", len(norm), "eps", shortest(floatAttrOf(n, "epsilon", 1e-5)), "affine", true)
	im.done[i] = true
	return step{layer: &s, params: map[string]*constant{"weight": w, "bias": b}, out: n.GetOutput()[0]}, nil
}

// isGroupNorm reports whether the readers of cur begin PyTorch's GroupNorm:
// one Reshape of cur (and Shape nodes) whose result goes to
// InstanceNormalization.
func (im *importer) isGroupNorm(cur string, users []int) bool {
	nodes := im.g.GetNode()
	r := -1
	for _, u := range users {
		switch n := nodes[u]; {
		case n.GetOpType() == "Shape":
		case n.GetOpType() == "Reshape" && r < 0 && len(n.GetInput()) == 2 && n.GetInput()[0] == cur:
			r = u
		default:
			return false
		}
	}
	if r < 0 {
		return false
	}
	next := im.pending(nodes[r].GetOutput()[0])
	return len(next) == 1 && nodes[next[0]].GetOpType() == "InstanceNormalization"
}

// groupNorm reads Reshape [N, G, −1], InstanceNormalization (scale 1,
// bias 0), Reshape back to the input's shape, and an optional Mul by the
// weight and Add of the bias ([C, 1, …]), as GroupNorm.
func (im *importer) groupNorm(cur string, users []int, shape []int) (step, error) {
	nodes := im.g.GetNode()
	var r1 int
	for _, u := range users {
		if nodes[u].GetOpType() == "Reshape" {
			r1 = u
		}
	}
	name := nodeName(nodes[r1], r1)
	fail := func(msg string, args ...any) (step, error) {
		return step{}, fmt.Errorf("node %s: read as the start of a GroupNorm: %s", name, fmt.Sprintf(msg, args...))
	}
	if len(shape) < 1 {
		return fail("no channels")
	}
	var owned []int
	calls := 0
	t, err := im.shapeValue(nodes[r1].GetInput()[1], cur, shape, &owned, &calls)
	if err != nil {
		return fail("%v", err)
	}
	total := 1
	for _, d := range shape {
		total *= d
	}
	if len(t) != 3 || (t[0] != 0 && t[0] != -1 && t[0] != batchMark) || t[1] < 1 || int64(shape[0])%t[1] != 0 || (t[2] != -1 && t[2]*t[1] != int64(total)) {
		return fail("target shape %v for examples %v", t, shape)
	}
	groups := int(t[1])
	in := nodes[im.pending(nodes[r1].GetOutput()[0])[0]]
	ini := im.producer[in.GetOutput()[0]]
	if len(in.GetInput()) != 3 || in.GetInput()[0] != nodes[r1].GetOutput()[0] {
		return fail("its InstanceNormalization reads other values")
	}
	sc, err1 := im.vector(in, 1, groups)
	bc, err2 := im.vector(in, 2, groups)
	if err1 != nil || err2 != nil {
		return fail("InstanceNormalization's scale and bias are not constants of %d values", groups)
	}
	for j := range groups {
		if sc.f[j] != 1 || bc.f[j] != 0 {
			return fail("InstanceNormalization's scale and bias are not ones and zeros (nabla's GroupNorm scales channels, not groups)")
		}
	}
	next := im.pending(in.GetOutput()[0])
	if len(next) != 1 || nodes[next[0]].GetOpType() != "Reshape" || nodes[next[0]].GetInput()[0] != in.GetOutput()[0] || in.GetOutput()[0] == im.output {
		return fail("no Reshape back follows the InstanceNormalization")
	}
	r2 := next[0]
	back, err := im.shapeValue(nodes[r2].GetInput()[1], cur, shape, &owned, &calls)
	if err != nil {
		return fail("%v", err)
	}
	if len(back) != len(shape)+1 || (back[0] != 0 && back[0] != -1 && back[0] != batchMark) {
		return fail("the Reshape back gives %v, not the input's shape %v", back, shape)
	}
	for j, d := range shape {
		if back[j+1] != int64(d) && !(back[j+1] == 0) {
			return fail("the Reshape back gives %v, not the input's shape %v", back, shape)
		}
	}
	for _, o := range owned {
		if nodes[o].GetOpType() != "Shape" && nodes[o].GetOpType() != "Slice" && nodes[o].GetOpType() != "Concat" && nodes[o].GetOpType() != "Gather" && nodes[o].GetOpType() != "Unsqueeze" {
			return fail("its shape is computed by %s", nodes[o].GetOpType())
		}
	}
	for _, u := range users {
		if nodes[u].GetOpType() == "Shape" && !slices.Contains(owned, u) {
			return fail("a Shape of the input is read elsewhere")
		}
	}
	c := shape[0]
	out := nodes[r2].GetOutput()[0]
	done := []int{r1, ini, r2}
	done = append(done, owned...)
	params := map[string]*constant{}
	// The per-channel weight and bias, [C, 1, …] (or [C] for [C] examples).
	perChannel := func(k *constant) *constant {
		if k == nil || k.isInt() || k.len() != c || len(k.shape) != len(shape) || k.shape[0] != c {
			return nil
		}
		return &constant{shape: []int{c}, f: k.f}
	}
	for _, op := range []string{"Mul", "Add"} {
		u := im.pending(out)
		if len(u) != 1 || out == im.output || nodes[u[0]].GetOpType() != op {
			break
		}
		o, ok := other(nodes[u[0]], out)
		k := perChannel(im.consts[o])
		if !ok || k == nil {
			break
		}
		params[map[string]string{"Mul": "weight", "Add": "bias"}[op]] = k
		done = append(done, u[0])
		out = nodes[u[0]].GetOutput()[0]
	}
	affine := len(params) > 0
	if affine {
		if params["weight"] == nil {
			params["weight"] = &constant{shape: []int{c}, f: slices.Repeat([]float64{1}, c)}
		}
		if params["bias"] == nil {
			params["bias"] = &constant{shape: []int{c}, f: make([]float64, c)}
		}
	}
	for _, d := range done {
		im.done[d] = true
	}
	s := nn.L("GroupNorm", "groups", groups, "eps", shortest(floatAttrOf(in, "epsilon", 1e-5)), "affine", affine)
	return step{layer: &s, params: params, out: out}, nil
}
