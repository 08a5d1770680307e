package main

// The chain-rule stepper's and the activation explorer's computations, all
// by package ag: the page parses nothing and differentiates nothing.

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// An expr is a node of a parsed expression: a variable, a constant, or an
// op applied to its arguments. Each becomes one node of the graph.
type expr struct {
	op    string // "var", "const", "+", "-", "*", "/", "@", "neg", "^", "index", or a function name
	name  string // a variable's name
	num   float64
	index int
	args  []*expr
}

// unaryFuncs are the functions an expression may call, each one ag op (or
// a fixed composition of them, as index is).
var unaryFuncs = map[string]func(*ag.Node) *ag.Node{
	"sigmoid":  ag.Sigmoid,
	"tanh":     ag.Tanh,
	"relu":     ag.ReLU,
	"exp":      ag.Exp,
	"log":      ag.Log,
	"sqrt":     ag.Sqrt,
	"abs":      ag.Abs,
	"square":   ag.Square,
	"sin":      ag.Sin,
	"cos":      ag.Cos,
	"softplus": ag.Softplus,
	"gelu":     ag.GELU,
	"silu":     ag.SiLU,
	"sum":      func(x *ag.Node) *ag.Node { return ag.Sum(x) },
	"mean":     func(x *ag.Node) *ag.Node { return ag.Mean(x) },
}

// elementwise ops have a diagonal Jacobian when their input has the
// output's shape: the page shows the diagonal as the local derivative.
var elementwise = map[string]bool{"+": true, "-": true, "*": true, "/": true, "neg": true, "^": true,
	"sigmoid": true, "tanh": true, "relu": true, "exp": true, "log": true, "sqrt": true, "abs": true,
	"square": true, "sin": true, "cos": true, "softplus": true, "gelu": true, "silu": true}

// apply computes e's op on its inputs' nodes.
func (e *expr) apply(in []*ag.Node) *ag.Node {
	switch e.op {
	case "+":
		return ag.Add(in[0], in[1])
	case "-":
		return ag.Sub(in[0], in[1])
	case "*":
		return ag.Mul(in[0], in[1])
	case "/":
		return ag.Div(in[0], in[1])
	case "@":
		return ag.MatMul(in[0], in[1])
	case "neg":
		return ag.Neg(in[0])
	case "^":
		return ag.PowScalar(in[0], e.num)
	case "index":
		return ag.Reshape(ag.Slice(in[0], 0, e.index, e.index+1), in[0].Shape()[1:]...)
	}
	return unaryFuncs[e.op](in[0])
}

func (e *expr) label() string {
	switch e.op {
	case "var":
		return e.name
	case "const":
		return strconv.FormatFloat(e.num, 'g', -1, 64)
	case "neg":
		return "−x"
	case "^":
		return "x^" + strconv.FormatFloat(e.num, 'g', -1, 64)
	case "index":
		if e.args[0].op == "var" {
			return fmt.Sprintf("%s[%d]", e.args[0].name, e.index)
		}
		return fmt.Sprintf("[%d]", e.index)
	case "*":
		return "×"
	}
	return e.op
}

// exprParser is a recursive-descent parser of
//
//	sum   = prod {("+"|"-") prod}
//	prod  = unary {("*"|"/"|"@") unary}
//	unary = "-" unary | pow
//	pow   = post ["^" number]
//	post  = atom {"[" integer "]"}
//	atom  = number | name | name "(" sum ")" | "(" sum ")"
type exprParser struct {
	s     string
	pos   int
	nodes int
}

const maxExprNodes = 120

func parseExpr(s string) (*expr, error) {
	p := &exprParser{s: s}
	e, err := p.sum()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.s) {
		return nil, fmt.Errorf("expression: unexpected %q at column %d", p.s[p.pos:], p.pos+1)
	}
	return e, nil
}

func (p *exprParser) space() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

func (p *exprParser) peek() byte {
	p.space()
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *exprParser) node(e *expr) (*expr, error) {
	p.nodes++
	if p.nodes > maxExprNodes {
		return nil, fmt.Errorf("expression: more than %d nodes", maxExprNodes)
	}
	return e, nil
}

func (p *exprParser) sum() (*expr, error) {
	e, err := p.prod()
	for err == nil && (p.peek() == '+' || p.peek() == '-') {
		op := string(p.s[p.pos])
		p.pos++
		var r *expr
		if r, err = p.prod(); err == nil {
			e, err = p.node(&expr{op: op, args: []*expr{e, r}})
		}
	}
	return e, err
}

func (p *exprParser) prod() (*expr, error) {
	e, err := p.unary()
	for err == nil && (p.peek() == '*' || p.peek() == '/' || p.peek() == '@') {
		op := string(p.s[p.pos])
		p.pos++
		var r *expr
		if r, err = p.unary(); err == nil {
			e, err = p.node(&expr{op: op, args: []*expr{e, r}})
		}
	}
	return e, err
}

func (p *exprParser) unary() (*expr, error) {
	if p.peek() == '-' {
		p.pos++
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		if e.op == "const" {
			e.num = -e.num
			return e, nil
		}
		return p.node(&expr{op: "neg", args: []*expr{e}})
	}
	return p.pow()
}

func (p *exprParser) pow() (*expr, error) {
	e, err := p.post()
	if err != nil || p.peek() != '^' {
		return e, err
	}
	p.pos++
	neg := p.peek() == '-'
	if neg {
		p.pos++
	}
	n, ok := p.number()
	if !ok {
		return nil, fmt.Errorf("expression: ^ takes a number, at column %d", p.pos+1)
	}
	if neg {
		n = -n
	}
	return p.node(&expr{op: "^", num: n, args: []*expr{e}})
}

func (p *exprParser) post() (*expr, error) {
	e, err := p.atom()
	for err == nil && p.peek() == '[' {
		p.pos++
		p.space()
		start := p.pos
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			p.pos++
		}
		i, aerr := strconv.Atoi(p.s[start:p.pos])
		if aerr != nil || p.peek() != ']' {
			return nil, fmt.Errorf("expression: an index is [integer], at column %d", start+1)
		}
		p.pos++
		e, err = p.node(&expr{op: "index", index: i, args: []*expr{e}})
	}
	return e, err
}

func (p *exprParser) number() (float64, bool) {
	p.space()
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] >= '0' && p.s[p.pos] <= '9' || p.s[p.pos] == '.' ||
		(p.s[p.pos] == 'e' || p.s[p.pos] == 'E') && p.pos > start) {
		if (p.s[p.pos] == 'e' || p.s[p.pos] == 'E') && p.pos+1 < len(p.s) && (p.s[p.pos+1] == '-' || p.s[p.pos+1] == '+') {
			p.pos++
		}
		p.pos++
	}
	v, err := strconv.ParseFloat(p.s[start:p.pos], 64)
	if err != nil {
		p.pos = start
		return 0, false
	}
	return v, true
}

func (p *exprParser) atom() (*expr, error) {
	c := p.peek()
	switch {
	case c == '(':
		p.pos++
		e, err := p.sum()
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, fmt.Errorf("expression: missing ) at column %d", p.pos+1)
		}
		p.pos++
		return e, nil
	case c >= '0' && c <= '9' || c == '.':
		n, ok := p.number()
		if !ok {
			return nil, fmt.Errorf("expression: bad number at column %d", p.pos+1)
		}
		return p.node(&expr{op: "const", num: n})
	case c == '_' || unicode.IsLetter(rune(c)):
		start := p.pos
		for p.pos < len(p.s) && (p.s[p.pos] == '_' || unicode.IsLetter(rune(p.s[p.pos])) || p.s[p.pos] >= '0' && p.s[p.pos] <= '9') {
			p.pos++
		}
		name := p.s[start:p.pos]
		if p.peek() != '(' {
			return p.node(&expr{op: "var", name: name})
		}
		if _, ok := unaryFuncs[name]; !ok {
			return nil, fmt.Errorf("expression: unknown function %s (known: %s)", name, strings.Join(slices.Sorted(maps.Keys(unaryFuncs)), ", "))
		}
		p.pos++
		arg, err := p.sum()
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, fmt.Errorf("expression: missing ) after the argument of %s, at column %d", name, p.pos+1)
		}
		p.pos++
		return p.node(&expr{op: name, args: []*expr{arg}})
	case c == 0:
		return nil, errors.New("expression: ends too early")
	}
	return nil, fmt.Errorf("expression: unexpected %q at column %d", c, p.pos+1)
}

// graphNode is one node as the page draws it.
type graphNode struct {
	ID     int       `json:"id"`
	Op     string    `json:"op"` // "var", "const" or the op
	Label  string    `json:"label"`
	Inputs []int     `json:"inputs"`
	Shape  []int     `json:"shape"`
	Value  []float64 `json:"value"`
	Grad   []float64 `json:"grad"` // ∂f/∂node, from ag.Backward
	// For variables: the central-difference gradient and its relative
	// error against Grad.
	NumGrad []float64 `json:"num_grad,omitempty"`
	RelErr  *float64  `json:"rel_err,omitempty"`
	// For ops: one edge per input.
	Edges []graphEdge `json:"edges,omitempty"`
}

// graphEdge is the chain rule at one input of an op: the VJP maps the
// upstream gradient (∂f/∂out) to this input's share of ∂f/∂in.
type graphEdge struct {
	From int `json:"from"`
	// Const is set for an input that needs no gradient (a constant): the
	// backward pass sends it nothing, and Downstream is empty.
	Const bool `json:"const,omitempty"`
	// Local is ∂out/∂in where it is a number per element: a scalar, or
	// the diagonal of an element-wise op's Jacobian (then Downstream =
	// Upstream × Local element by element); nil otherwise.
	Local      []float64 `json:"local,omitempty"`
	Downstream []float64 `json:"downstream"`
	// Jacobian is the full ∂out/∂in (rows: out elements, columns: in
	// elements), built by ag.Jacobian for the page to show on request;
	// nil when it would be larger than maxJacobian entries.
	Jacobian    []float64 `json:"jacobian,omitempty"`
	JacobianDim [2]int    `json:"jacobian_dim"`
}

const (
	maxVarElems = 64
	maxJacobian = 4096
)

// graphResult is the stepper's answer.
type graphResult struct {
	Nodes  []graphNode `json:"nodes"`
	Output int         `json:"output"`
	// Backward is the order the backward pass visits the ops: reverse
	// topological, output first.
	Backward []int `json:"backward"`
}

// parseVars reads the variables: a JSON object of numbers, vectors and
// matrices.
func parseVars(s string) (map[string]*tensor.Tensor, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("vars: not a JSON object of numbers and arrays: %v", err)
	}
	out := map[string]*tensor.Tensor{}
	for name, r := range raw {
		var num float64
		var vec []float64
		var mat [][]float64
		switch {
		case json.Unmarshal(r, &num) == nil:
			out[name] = tensor.Scalar(tensor.Float64, num)
		case json.Unmarshal(r, &vec) == nil:
			if len(vec) == 0 || len(vec) > maxVarElems {
				return nil, fmt.Errorf("vars: %s has %d elements (1 to %d)", name, len(vec), maxVarElems)
			}
			out[name] = tensor.FromValues(tensor.Float64, vec, len(vec))
		case json.Unmarshal(r, &mat) == nil:
			if len(mat) == 0 || len(mat[0]) == 0 || len(mat)*len(mat[0]) > maxVarElems {
				return nil, fmt.Errorf("vars: %s must be a matrix of 1 to %d elements", name, maxVarElems)
			}
			var flat []float64
			for _, row := range mat {
				if len(row) != len(mat[0]) {
					return nil, fmt.Errorf("vars: the rows of %s differ in length", name)
				}
				flat = append(flat, row...)
			}
			out[name] = tensor.FromValues(tensor.Float64, flat, len(mat), len(mat[0]))
		default:
			return nil, fmt.Errorf("vars: %s is not a number, a vector or a matrix", name)
		}
		for _, v := range out[name].Values() {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("vars: %s is not finite", name)
			}
		}
	}
	return out, nil
}

// computeGraph evaluates the expression with ag, runs the backward pass,
// and for every op recomputes its VJP on its own (fresh leaves, the
// output's gradient as upstream) to show the chain rule edge by edge.
func computeGraph(src string, vars map[string]*tensor.Tensor) (res *graphResult, err error) {
	root, err := parseExpr(src)
	if err != nil {
		return nil, err
	}
	// Shapes come from the page: a mismatch is the page's error, not ours.
	var gerr error
	if err := tensor.Try(func() { res, gerr = stepperGraph(root, vars) }); err != nil {
		return nil, fmt.Errorf("expression: %v", err)
	}
	return res, gerr
}

func stepperGraph(root *expr, vars map[string]*tensor.Tensor) (*graphResult, error) {
	var order []*expr // topological: inputs first
	ids := map[*expr]int{}
	varExpr := map[string]*expr{} // one node per variable, however often it is used
	var visit func(e *expr) *expr
	visit = func(e *expr) *expr {
		if e.op == "var" {
			if v, ok := varExpr[e.name]; ok {
				return v
			}
			varExpr[e.name] = e
		}
		for i, a := range e.args {
			e.args[i] = visit(a)
		}
		if _, ok := ids[e]; !ok {
			ids[e] = len(order)
			order = append(order, e)
		}
		return e
	}
	root = visit(root)
	for name := range varExpr {
		if vars[name] == nil {
			return nil, fmt.Errorf("variable %s has no value (give it in vars)", name)
		}
	}
	eval := func(vals map[string]*tensor.Tensor) []*ag.Node {
		nodes := make([]*ag.Node, len(order))
		for i, e := range order {
			switch e.op {
			case "var":
				nodes[i] = ag.Var(vals[e.name])
			case "const":
				nodes[i] = ag.Const(tensor.Scalar(tensor.Float64, e.num))
			default:
				in := make([]*ag.Node, len(e.args))
				for k, a := range e.args {
					in[k] = nodes[ids[a]]
				}
				nodes[i] = e.apply(in)
			}
		}
		return nodes
	}
	nodes := eval(vars)
	out := nodes[ids[root]]
	if out.Value().Len() != 1 {
		return nil, fmt.Errorf("the expression gives shape %v; it must give one number (wrap it in sum())", out.Shape())
	}
	for _, n := range nodes {
		if n.RequiresGrad() {
			n.RetainGrad()
		}
	}
	ag.Backward(out)
	res := &graphResult{Output: ids[root]}
	gradOf := func(n *ag.Node) *tensor.Tensor {
		if g := n.Grad(); g != nil {
			return g
		}
		return tensor.ZerosLike(n.Value())
	}
	for i, e := range order {
		n := nodes[i]
		gn := graphNode{ID: i, Op: e.op, Label: e.label(), Inputs: []int{}, Shape: slices.Clone(n.Shape()),
			Value: n.Value().Values(), Grad: gradOf(n).Values()}
		if e.op == "var" {
			gn.NumGrad = numericalGrad(eval, vars, e.name, ids[root])
			gn.RelErr = ptrTo(relErr(gn.Grad, gn.NumGrad))
		}
		for k, a := range e.args {
			gn.Inputs = append(gn.Inputs, ids[a])
			gn.Edges = append(gn.Edges, opEdge(e, nodes, ids, k, gradOf(n)))
		}
		res.Nodes = append(res.Nodes, gn)
	}
	for i := len(order) - 1; i >= 0; i-- {
		if len(order[i].args) > 0 {
			res.Backward = append(res.Backward, i)
		}
	}
	return res, nil
}

// opEdge is the chain rule at input k of e: its VJP with the output's
// gradient, the local derivative where it is one number per element, and
// the Jacobian when small.
func opEdge(e *expr, nodes []*ag.Node, ids map[*expr]int, k int, upstream *tensor.Tensor) graphEdge {
	vals := make([]*tensor.Tensor, len(e.args))
	for i, a := range e.args {
		vals[i] = nodes[ids[a]].Value()
	}
	// The op alone, on fresh leaves: its VJP is exactly the step of the
	// backward pass at this node.
	fresh := make([]*ag.Node, len(vals))
	for i, v := range vals {
		fresh[i] = ag.Var(v)
	}
	y := e.apply(fresh)
	edge := graphEdge{From: ids[e.args[k]], Downstream: []float64{}}
	if !nodes[ids[e.args[k]]].RequiresGrad() {
		edge.Const = true
		return edge
	}
	edge.Downstream = ag.Grad(y, fresh[k:k+1], ag.WithUpstream(upstream))[0].Value().Values()
	in := vals[k]
	f := func(x *ag.Node) *ag.Node {
		ins := make([]*ag.Node, len(vals))
		for i, v := range vals {
			ins[i] = ag.Const(v)
		}
		ins[k] = x
		return e.apply(ins)
	}
	edge.JacobianDim = [2]int{y.Value().Len(), in.Len()}
	if y.Value().Len()*in.Len() <= maxJacobian {
		edge.Jacobian = ag.Jacobian(f, in).Values()
	}
	switch {
	case y.Value().Len() == 1:
		// A scalar output: ∂out/∂in is the Jacobian's one row.
		edge.Local = edge.Jacobian
	case elementwise[e.op] && slices.Equal(in.Shape(), y.Shape()):
		// The diagonal, by one VJP with ones: the Jacobian is diagonal.
		_, d := ag.VJP(f, in, tensor.OnesLike(y.Value()))
		edge.Local = d.Values()
	}
	return edge
}

// numericalGrad is ∂f/∂name by central differences, f evaluated by ag.
func numericalGrad(eval func(map[string]*tensor.Tensor) []*ag.Node, vars map[string]*tensor.Tensor, name string, out int) []float64 {
	base := vars[name].Values()
	g := make([]float64, len(base))
	f := func(i int, d float64) float64 {
		v := slices.Clone(base)
		v[i] += d
		m := map[string]*tensor.Tensor{}
		for k, t := range vars {
			m[k] = t
		}
		m[name] = tensor.FromValues(tensor.Float64, v, vars[name].Shape()...)
		var r float64
		ag.NoGrad(func() { r = eval(m)[out].Item() })
		return r
	}
	for i := range base {
		h := 1e-6 * max(1, math.Abs(base[i]))
		g[i] = (f(i, h) - f(i, -h)) / (2 * h)
	}
	return g
}

// relErr is max |a − n| / max(|a| + |n|, 1e-12) over the elements.
func relErr(a, n []float64) float64 {
	var worst float64
	for i := range a {
		worst = max(worst, math.Abs(a[i]-n[i])/max(math.Abs(a[i])+math.Abs(n[i]), 1e-12))
	}
	return worst
}

func ptrTo(v float64) *float64 { return &v }

// Default stepper examples: the notes' sigmoid neuron, the same neuron
// with σ spelled out, and a two-layer network on one example.
var graphExamples = []struct{ Name, Expr, Vars string }{
	{"sigmoid neuron", "sigmoid(w[0]*x[0] + w[1]*x[1] + w[2])", `{"w":[2,-3,-3],"x":[-1,-2]}`},
	{"sigmoid spelled out", "1 / (1 + exp(-(w[0]*x[0] + w[1]*x[1] + w[2])))", `{"w":[2,-3,-3],"x":[-1,-2]}`},
	{"two-layer network", "sum(square(W2 @ tanh(W1 @ x + b1) + b2 - y))",
		`{"x":[1,-2],"W1":[[0.5,-0.3],[0.8,0.2],[-0.4,0.6]],"b1":[0.1,0,-0.1],"W2":[[1.0,-0.7,0.4]],"b2":[0.2],"y":[1]}`},
}

func (s *server) handleGraph(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if k != "expr" && k != "vars" {
			badRequest(w, http.StatusBadRequest, fmt.Sprintf("unknown parameter %q (known: expr, vars)", k))
			return
		}
	}
	src, vs := q.Get("expr"), q.Get("vars")
	if src == "" {
		writeJSON(w, map[string]any{"examples": graphExamples})
		return
	}
	if len(src) > 500 || len(vs) > 4000 {
		badRequest(w, http.StatusBadRequest, "expression or vars too long (500 and 4000 bytes at most)")
		return
	}
	if vs == "" {
		vs = "{}"
	}
	vars, err := parseVars(vs)
	if err != nil {
		badRequest(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := computeGraph(src, vars)
	if err != nil {
		badRequest(w, http.StatusBadRequest, err.Error())
		return
	}
	for _, n := range res.Nodes {
		for _, v := range slices.Concat(n.Value, n.Grad) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				badRequest(w, http.StatusBadRequest, fmt.Sprintf("node %d (%s) is not finite at these values", n.ID, n.Label))
				return
			}
		}
	}
	writeJSON(w, res)
}

// handleActivations gives each activation and its derivative on a grid,
// both from ag: the derivative is the VJP of the activation with ones
// (its Jacobian is diagonal).
func (s *server) handleActivations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lo, hi, n := -5.0, 5.0, 201
	for k, v := range q {
		var err error
		switch k {
		case "lo":
			lo, err = strconv.ParseFloat(v[0], 64)
		case "hi":
			hi, err = strconv.ParseFloat(v[0], 64)
		case "n":
			n, err = strconv.Atoi(v[0])
		default:
			err = fmt.Errorf("unknown parameter %q (known: lo, hi, n)", k)
		}
		if err != nil {
			badRequest(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	if !(lo < hi) || math.Abs(lo) > 1e3 || math.Abs(hi) > 1e3 || n < 2 || n > 2001 {
		badRequest(w, http.StatusBadRequest, "need lo < hi within ±1000 and 2 ≤ n ≤ 2001")
		return
	}
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	x := tensor.FromValues(tensor.Float64, xs, n)
	type curve struct {
		Name string    `json:"name"`
		Y    []float64 `json:"y"`
		DY   []float64 `json:"dy"`
	}
	var out []curve
	for _, name := range nn.ActivationNames() {
		act, err := nn.ActivationByName(name)
		if err != nil {
			panic(err)
		}
		y, dy := ag.VJP(act.Forward, x, tensor.OnesLike(x))
		out = append(out, curve{name, y.Values(), dy.Values()})
	}
	writeJSON(w, map[string]any{"x": xs, "activations": out})
}
