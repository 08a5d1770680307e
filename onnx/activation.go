package onnx

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/nn"
)

// elementwise are the ops an activation is made of: each maps every
// element alone (with scalar constants).
var elementwise = map[string]bool{
	"Add": true, "Sub": true, "Mul": true, "Div": true, "Pow": true, "Erf": true,
	"Relu": true, "LeakyRelu": true, "Sigmoid": true, "Tanh": true, "Elu": true, "Softplus": true,
	"Gelu": true, // opset 20
}

// maxActivationNodes bounds the nodes one activation may take (PyTorch's
// tanh GELU takes nine).
const maxActivationNodes = 32

// single maps the one-node activations to their layer.
func single(im *importer, op string, i int) (nn.Spec, bool) {
	n := im.g.GetNode()[i]
	switch op {
	case "Relu":
		return nn.L("ReLU"), true
	case "Sigmoid":
		return nn.L("Sigmoid"), true
	case "Tanh":
		return nn.L("Tanh"), true
	case "Softplus":
		return nn.L("Softplus"), true
	case "LeakyRelu":
		return nn.L("LeakyReLU", "negative_slope", shortest(floatAttrOf(n, "alpha", 0.01))), true
	case "Elu":
		return nn.L("ELU", "alpha", shortest(floatAttrOf(n, "alpha", 1))), true
	case "Gelu":
		if a := findAttr(n, "approximate"); a != nil && string(a.GetS()) == "tanh" {
			return nn.L("GELU", "approximate", "tanh"), true
		}
		if a := findAttr(n, "approximate"); a != nil && string(a.GetS()) != "none" {
			return nn.Spec{}, false
		}
		return nn.L("GELU", "approximate", "none"), true
	}
	return nn.Spec{}, false
}

// composed are the activations recognised from a group of element-wise
// nodes by their values (so that any arrangement an exporter picks, such
// as PyTorch's x·(1 + erf(x/√2))·0.5 for GELU, is read).
var composed = []struct {
	spec nn.Spec
	f    func(float64) float64
}{
	{nn.L("GELU", "approximate", "none"), func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }},
	{nn.L("GELU", "approximate", "tanh"), func(x float64) float64 {
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}},
	{nn.L("SiLU"), func(x float64) float64 { return x / (1 + math.Exp(-x)) }},
	{nn.L("ReLU"), func(x float64) float64 { return max(x, 0) }},
	{nn.L("Sigmoid"), func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }},
	{nn.L("Tanh"), math.Tanh},
	{nn.L("Softplus"), func(x float64) float64 { return math.Log1p(math.Exp(x)) }},
}

// probes are the points where a group of nodes is compared with the
// composed activations.
var probes = func() []float64 {
	var p []float64
	for k := -80; k <= 80; k++ {
		p = append(p, float64(k)/10+0.013)
	}
	return p
}()

// activation reads the element-wise nodes that follow cur as one
// activation layer: the smallest group of them, starting at cur, whose
// only value read outside the group is its last, and which is either one
// activation op or computes one of the composed activations.
func (im *importer) activation(cur string, shape []int) (step, error) {
	nodes := im.g.GetNode()
	rank := len(shape) + 1
	// Grow the region of element-wise nodes fed by cur and scalar
	// constants, in an order that follows the graph.
	var region []int
	inRegion := map[string]bool{cur: true}
	for grown := true; grown && len(region) < maxActivationNodes; {
		grown = false
		for _, v := range slices.Sorted(maps.Keys(inRegion)) {
			for _, u := range im.pending(v) {
				if slices.Contains(region, u) || !elementwise[nodes[u].GetOpType()] || len(nodes[u].GetOutput()) != 1 {
					continue
				}
				ok := true
				for _, in := range nodes[u].GetInput() {
					if inRegion[in] {
						continue
					}
					c := im.consts[in]
					if c == nil || c.isInt() || c.len() != 1 || len(c.shape) > rank {
						ok = false
					}
				}
				if ok {
					region = append(region, u)
					inRegion[nodes[u].GetOutput()[0]] = true
					grown = true
				}
			}
		}
	}
	if len(region) == 0 {
		var ops []string
		for _, u := range im.pending(cur) {
			ops = append(ops, nodeName(nodes[u], u))
		}
		return step{}, fmt.Errorf("nodes %s read %q; nabla reads no layer from them", clipList(ops), cur)
	}
	for k := 1; k <= len(region); k++ {
		sub := region[:k]
		last := nodes[sub[k-1]].GetOutput()[0]
		if !im.closed(cur, sub, last) {
			continue
		}
		var spec nn.Spec
		found := false
		if k == 1 {
			spec, found = single(im, nodes[sub[0]].GetOpType(), sub[0])
		}
		if !found {
			ys, ok := im.evalScalar(cur, sub, last)
			if !ok {
				continue
			}
			for _, c := range composed {
				if matches(ys, c.f) {
					spec, found = c.spec, true
					break
				}
			}
		}
		if found {
			for _, u := range sub {
				im.done[u] = true
			}
			return step{layer: &spec, out: last}, nil
		}
	}
	var names []string
	for _, u := range region {
		names = append(names, nodeName(nodes[u], u))
	}
	return step{}, fmt.Errorf("nodes %s compute an element-wise function of %q that is no nabla activation", clipList(names), cur)
}

// closed reports whether the nodes sub, fed by cur, form a layer: cur
// and every value they give except last are read by them alone.
func (im *importer) closed(cur string, sub []int, last string) bool {
	nodes := im.g.GetNode()
	vals := []string{cur}
	for _, u := range sub {
		if o := nodes[u].GetOutput()[0]; o != last {
			vals = append(vals, o)
		}
	}
	for _, v := range vals {
		if v == im.output {
			return false
		}
		for _, u := range im.pending(v) {
			if !slices.Contains(sub, u) {
				return false
			}
		}
	}
	// last must depend on cur through the group.
	return true
}

// evalScalar evaluates the group at every probe point.
func (im *importer) evalScalar(cur string, sub []int, last string) ([]float64, bool) {
	nodes := im.g.GetNode()
	ys := make([]float64, len(probes))
	env := map[string]float64{}
	for p, x := range probes {
		clear(env)
		env[cur] = x
		for _, u := range sub {
			n := nodes[u]
			var a []float64
			for _, in := range n.GetInput() {
				if v, ok := env[in]; ok {
					a = append(a, v)
				} else if c := im.consts[in]; c != nil && c.len() == 1 && !c.isInt() {
					a = append(a, c.f[0])
				} else {
					return nil, false
				}
			}
			y, ok := scalarOp(n.GetOpType(), a, func(name string, def float64) float64 { return floatAttrOf(n, name, def) },
				func(name string) string { return string(findAttr(n, name).GetS()) })
			if !ok {
				return nil, false
			}
			env[n.GetOutput()[0]] = y
		}
		ys[p] = env[last]
	}
	return ys, true
}

func scalarOp(op string, a []float64, attr func(string, float64) float64, attrS func(string) string) (float64, bool) {
	arity := 1
	if strings.Contains("Add Sub Mul Div Pow", op) {
		arity = 2
	}
	if len(a) != arity {
		return 0, false
	}
	x := a[0]
	switch op {
	case "Add":
		return x + a[1], true
	case "Sub":
		return x - a[1], true
	case "Mul":
		return x * a[1], true
	case "Div":
		return x / a[1], true
	case "Pow":
		return math.Pow(x, a[1]), true
	case "Erf":
		return math.Erf(x), true
	case "Relu":
		return max(x, 0), true
	case "LeakyRelu":
		if x < 0 {
			return attr("alpha", 0.01) * x, true
		}
		return x, true
	case "Sigmoid":
		return 1 / (1 + math.Exp(-x)), true
	case "Tanh":
		return math.Tanh(x), true
	case "Elu":
		if x <= 0 {
			return attr("alpha", 1) * (math.Exp(x) - 1), true
		}
		return x, true
	case "Softplus":
		return math.Log1p(math.Exp(x)), true
	case "Gelu":
		if attrS("approximate") == "tanh" {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x))), true
		}
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)), true
	}
	return 0, false
}

// matches reports whether ys are f at the probes, to the precision of
// float32 constants.
func matches(ys []float64, f func(float64) float64) bool {
	for p, x := range probes {
		want := f(x)
		if !(math.Abs(ys[p]-want) <= 1e-5*(1+math.Abs(want))) {
			return false
		}
	}
	return true
}

// shortest returns the float32 attribute v as the shortest decimal that
// reads back as the same float32 (0.2, not 0.20000000298023224).
func shortest(v float64) float64 {
	f, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', -1, 32), 64)
	if err != nil {
		return v
	}
	return f
}
