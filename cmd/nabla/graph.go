package main

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/internal/fsutil"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

func init() {
	commands["graph"] = command{"write a tiny network's computation graph, with gradient norms, as Graphviz DOT", runGraph}
}

// graphBatch is the fixed batch `nabla graph` pushes through its network:
// four 2-D points in two classes.
var (
	graphX = []float64{
		1.0, 2.0,
		-1.0, 0.5,
		0.5, -1.5,
		-2.0, -1.0,
	}
	graphY = []int{0, 1, 1, 0}
)

// buildGraph builds the 2-hidden-2 network on the fixed batch, its mean
// softmax cross-entropy, and runs Backward. Every node that needs a
// gradient keeps it (parameters as leaves, every op's output through
// RetainGrad), so the DOT shows the gradient flowing back through each
// step of the chain rule. It returns the loss node.
func buildGraph(hidden int, activation string, seed uint64) (*ag.Node, error) {
	act, err := nn.ActivationByName(activation)
	if err != nil {
		return nil, err
	}
	rng := tensor.NewRand(seed)
	l1 := nn.NewLinear(2, hidden, tensor.Float64, rng)
	l2 := nn.NewLinear(hidden, 2, tensor.Float64, rng)
	l1.Weight.SetName("W1")
	l1.Bias.SetName("b1")
	l2.Weight.SetName("W2")
	l2.Bias.SetName("b2")
	x := ag.Const(tensor.FromFloat64(append([]float64(nil), graphX...), len(graphY), 2)).SetName("x (batch)")
	z1 := l1.Forward(x).SetName("z1 = x·W1ᵀ + b1")
	h := act.Forward(z1).SetName("h = " + activation + "(z1)")
	scores := l2.Forward(h).SetName("scores = h·W2ᵀ + b2")
	l := loss.CrossEntropy(scores, graphY, 0).SetName("loss (softmax cross-entropy)")
	retainAll(l)
	ag.Backward(l)
	return l, nil
}

// retainAll marks every op node of root's graph that needs a gradient
// with RetainGrad.
func retainAll(root *ag.Node) {
	seen := map[*ag.Node]bool{}
	todo := []*ag.Node{root}
	for len(todo) > 0 {
		n := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		if n.Op() != "" && n.RequiresGrad() {
			n.RetainGrad()
		}
		todo = append(todo, n.Inputs()...)
	}
}

func runGraph(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("graph", "graph [--model FILE|RUN-FOLDER [--examples 4]] [--hidden 4] [--activation sigmoid] [--out graph.dot|-] [--seed 1]", stderr)
	model := fs.String("model", "", "draw this saved model's graph (a model file, checkpoint or run folder) on the first examples of its data, instead of the tiny network")
	examples := fs.Int("examples", 4, "with --model: how many examples of its data set to push through")
	hidden := fs.Int("hidden", 4, "width of the hidden layer")
	activation := fs.String("activation", "sigmoid", "the hidden layer's activation")
	out := fs.String("out", "", `the DOT file ("-" for standard output; default: graph.dot, beside the model with --model)`)
	seed := fs.Uint64("seed", 1, "seed of the weights")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *hidden < 1 || *hidden > 64 {
		return fmt.Errorf("--hidden must be in [1, 64], not %d", *hidden)
	}
	var root *ag.Node
	var what string
	if *model != "" {
		if *examples < 1 || *examples > 64 {
			return fmt.Errorf("--examples must be in [1, 64], not %d", *examples)
		}
		m, err := loadModel(*model, train.LoadOptions{})
		if err != nil {
			return err
		}
		ds, _, err := modelData(m, dataFlags{LabelCol: -1}, *seed, fs)
		if err != nil {
			return err
		}
		idx := make([]int, min(*examples, ds.Len()))
		for i := range idx {
			idx[i] = i
		}
		x, y := ds.Batch(idx)
		if x.DType() != nn.DTypeOf(m.Module) {
			x = x.AsType(nn.DTypeOf(m.Module))
		}
		nn.SetTraining(m.Module, false)
		for _, p := range m.Module.Params() {
			p.Node.SetName(p.Name)
		}
		l := loss.CrossEntropy(m.Module.Forward(ag.Const(x).SetName("x (batch)")), y, 0).SetName("loss (softmax cross-entropy)")
		retainAll(l)
		ag.Backward(l)
		root, what = l, fmt.Sprintf("%s on %d examples of %s", describeModel(m), len(y), ds.Name)
		if *out == "" {
			*out = filepath.Join(filepath.Dir(m.Path), "graph.dot")
		}
	} else {
		var err error
		if root, err = buildGraph(*hidden, *activation, *seed); err != nil {
			return err
		}
		what = fmt.Sprintf("2-%d-2 %s network on %d points", *hidden, *activation, len(graphY))
		if *out == "" {
			*out = "graph.dot"
		}
	}
	if *out == "-" {
		return ag.WriteDOT(stdout, root)
	}
	var buf bytes.Buffer
	if err := ag.WriteDOT(&buf, root); err != nil {
		return err
	}
	if err := fsutil.WriteFile(*out, 0o644, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: loss %.4f\nwrote %s (render it with: dot -Tsvg %s -o graph.svg)\n", what, root.Item(), *out, *out)
	return nil
}
