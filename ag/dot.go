package ag

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteDOT writes the graph that computed root in Graphviz's DOT language
// (render it with `dot -Tsvg`): one node for every value reachable from
// root through Inputs, constants included, and an edge from each input to
// the op that used it (twice when it was used twice, as in Mul(x, x)).
//
// A node's label gives its name (when SetName gave one), its op ("leaf"
// for a leaf), its shape, and, when it holds a gradient (a leaf after
// Backward, or a node marked RetainGrad), the gradient's L2 norm as
// "|grad| = …". Node ids are n0, n1, … in topological order (every input
// before the nodes that use it, inputs in argument order), so the same
// graph gives the same text. Leaves that require a gradient are drawn as
// filled boxes, constants as plain boxes, ops as ellipses.
//
// The error is the first one w returned, or one for a nil root.
func WriteDOT(w io.Writer, root *Node) error {
	if root == nil {
		return errors.New("ag: WriteDOT: nil root")
	}
	order := graphOrder(root)
	id := make(map[*Node]int, len(order))
	for i, n := range order {
		id[n] = i
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "digraph nabla {")
	fmt.Fprintln(bw, `  node [fontname="Helvetica", fontsize=10];`)
	for i, n := range order {
		var lines []string
		if n.name != "" {
			lines = append(lines, n.name)
		}
		op, attrs := n.op, ""
		switch {
		case op != "":
			attrs = "shape=ellipse"
		case n.requiresGrad:
			op, attrs = "leaf", `shape=box, style=filled, fillcolor="#dbe9f6"`
		default:
			op, attrs = "leaf", "shape=box"
		}
		lines = append(lines, op, shapeText(n.Shape()))
		if g := n.Grad(); g != nil {
			lines = append(lines, fmt.Sprintf("|grad| = %.6g", l2(g.Values())))
		}
		fmt.Fprintf(bw, "  n%d [label=%s, %s];\n", i, dotQuote(strings.Join(lines, "\n")), attrs)
	}
	for _, n := range order {
		for _, in := range n.inputs {
			fmt.Fprintf(bw, "  n%d -> n%d;\n", id[in], id[n])
		}
	}
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}

// graphOrder lists every node reachable from root through inputs, each
// after all of its inputs, visiting inputs in argument order.
func graphOrder(root *Node) []*Node { return walk(root, func(*Node) bool { return true }) }

// shapeText writes a shape as "[4 2]", and "scalar" for [].
func shapeText(s []int) string {
	if len(s) == 0 {
		return "scalar"
	}
	return fmt.Sprint(s)
}

func l2(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

// dotQuote makes s a DOT quoted string: backslashes and quotes escaped,
// line breaks written as \n (Graphviz's centred line break).
func dotQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
