package ag_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

type dotGraph struct {
	labels map[int]string // id → label, unescaped
	edges  [][2]int
}

var (
	dotNode = regexp.MustCompile(`^  n(\d+) \[label="((?:[^"\\]|\\.)*)", [^\]]*\];$`)
	dotEdge = regexp.MustCompile(`^  n(\d+) -> n(\d+);$`)
)

// parseDOT reads back what WriteDOT writes, failing on any line it does
// not recognise.
func parseDOT(t *testing.T, s string) dotGraph {
	t.Helper()
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if lines[0] != "digraph nabla {" || lines[len(lines)-1] != "}" {
		t.Fatalf("not a digraph:\n%s", s)
	}
	g := dotGraph{labels: map[int]string{}}
	unescape := strings.NewReplacer(`\\`, `\`, `\"`, `"`, `\n`, "\n")
	for _, l := range lines[1 : len(lines)-1] {
		if m := dotNode.FindStringSubmatch(l); m != nil {
			id, _ := strconv.Atoi(m[1])
			if _, dup := g.labels[id]; dup {
				t.Fatalf("node n%d twice", id)
			}
			g.labels[id] = unescape.Replace(m[2])
		} else if m := dotEdge.FindStringSubmatch(l); m != nil {
			a, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			g.edges = append(g.edges, [2]int{a, b})
		} else if !strings.HasPrefix(l, "  node [") {
			t.Fatalf("unexpected line %q", l)
		}
	}
	return g
}

// reachable lists the nodes of the graph of root, and counts its edges.
func reachable(root *ag.Node) (map[*ag.Node]bool, int) {
	seen := map[*ag.Node]bool{root: true}
	edges := 0
	todo := []*ag.Node{root}
	for len(todo) > 0 {
		n := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for _, in := range n.Inputs() {
			edges++
			if !seen[in] {
				seen[in] = true
				todo = append(todo, in)
			}
		}
	}
	return seen, edges
}

func TestWriteDOT(t *testing.T) {
	rng := tensor.NewRand(5)
	x := ag.Const(tensor.Normal(rng, tensor.Float64, 0, 1, 3, 2)).SetName("x")
	w := ag.Var(tensor.Normal(rng, tensor.Float64, 0, 1, 2, 2)).SetName(`w "weights" \ 1`)
	b := ag.Var(tensor.Normal(rng, tensor.Float64, 0, 1, 2)).SetName("b\nbias")
	z := ag.Add(ag.MatMul(x, w), b).SetName("z").RetainGrad()
	h := ag.Tanh(z).SetName("h").RetainGrad()
	loss := ag.Mean(ag.Mul(h, h)).SetName("loss") // h used twice: two edges
	ag.Backward(loss)

	var buf bytes.Buffer
	if err := ag.WriteDOT(&buf, loss); err != nil {
		t.Fatal(err)
	}
	g := parseDOT(t, buf.String())
	nodes, edges := reachable(loss)
	if len(g.labels) != len(nodes) || len(g.edges) != edges {
		t.Fatalf("%d nodes and %d edges in the DOT, the graph has %d and %d:\n%s", len(g.labels), len(g.edges), len(nodes), edges, buf.String())
	}
	for _, e := range g.edges {
		if _, ok := g.labels[e[0]]; !ok {
			t.Errorf("edge from missing node n%d", e[0])
		}
		if _, ok := g.labels[e[1]]; !ok {
			t.Errorf("edge to missing node n%d", e[1])
		}
		if e[0] >= e[1] {
			t.Errorf("edge n%d -> n%d: ids are not in topological order", e[0], e[1])
		}
	}
	// Every named node is found by its label, with its op, shape and
	// gradient norm (only where it holds a gradient).
	byName := map[string]string{}
	for _, l := range g.labels {
		name, _, _ := strings.Cut(l, "\n")
		if name == "b" { // the name with a line break
			name = "b\nbias"
			l = strings.Replace(l, "b\nbias", "b", 1)
		}
		byName[name] = l
	}
	for n := range nodes {
		if n.Name() == "" {
			continue
		}
		l, ok := byName[n.Name()]
		if !ok {
			t.Errorf("no node labelled %q in\n%s", n.Name(), buf.String())
			continue
		}
		parts := strings.Split(l, "\n")
		op := n.Op()
		if op == "" {
			op = "leaf"
		}
		if parts[1] != op || parts[2] != fmt.Sprint(n.Shape()) && !(len(n.Shape()) == 0 && parts[2] == "scalar") {
			t.Errorf("%q: label %q, want op %s and shape %v", n.Name(), l, op, n.Shape())
		}
		gr := n.Grad()
		if (gr != nil) != (len(parts) == 4) {
			t.Errorf("%q: label %q, gradient %v", n.Name(), l, gr)
			continue
		}
		if gr == nil {
			continue
		}
		var norm float64
		if _, err := fmt.Sscanf(parts[3], "|grad| = %g", &norm); err != nil {
			t.Fatalf("%q: %q: %v", n.Name(), parts[3], err)
		}
		var want float64
		for _, v := range gr.Values() {
			want += v * v
		}
		want = math.Sqrt(want)
		if math.Abs(norm-want) > 1e-5*want {
			t.Errorf("%q: |grad| %g, want %g", n.Name(), norm, want)
		}
	}
	for _, name := range []string{"z", "h", `w "weights" \ 1`, "b\nbias"} {
		if !strings.Contains(byName[name], "|grad|") {
			t.Errorf("%q shows no gradient: %q", name, byName[name])
		}
	}
	if strings.Contains(byName["x"], "|grad|") {
		t.Errorf("the constant x shows a gradient: %q", byName["x"])
	}

	// Same graph, same text.
	var again bytes.Buffer
	ag.WriteDOT(&again, loss)
	if again.String() != buf.String() {
		t.Error("WriteDOT is not deterministic")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteDOTErrors(t *testing.T) {
	if err := ag.WriteDOT(&bytes.Buffer{}, nil); err == nil {
		t.Error("nil root: no error")
	}
	x := ag.Var(tensor.FromFloat64([]float64{1, 2}))
	if err := ag.WriteDOT(failWriter{}, ag.Sum(ag.Exp(x))); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing writer: %v", err)
	}
}

// The graph of the notes' sigmoid neuron, f = σ(w·x), in DOT.
func ExampleWriteDOT() {
	w := ag.Var(tensor.FromFloat64([]float64{2, -3})).SetName("w")
	x := ag.Const(tensor.FromFloat64([]float64{-1, -2})).SetName("x")
	f := ag.Sigmoid(ag.Sum(ag.Mul(w, x)))
	ag.Backward(f)
	ag.WriteDOT(os.Stdout, f)
	// Output:
	// digraph nabla {
	//   node [fontname="Helvetica", fontsize=10];
	//   n0 [label="w\nleaf\n[2]\n|grad| = 0.039495", shape=box, style=filled, fillcolor="#dbe9f6"];
	//   n1 [label="x\nleaf\n[2]", shape=box];
	//   n2 [label="Mul\n[2]", shape=ellipse];
	//   n3 [label="Sum\nscalar", shape=ellipse];
	//   n4 [label="Sigmoid\nscalar", shape=ellipse];
	//   n0 -> n2;
	//   n1 -> n2;
	//   n2 -> n3;
	//   n3 -> n4;
	// }
}
