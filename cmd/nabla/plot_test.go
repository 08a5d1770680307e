package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

// pngSize decodes the PNG at path and returns its size and how many of its
// pixels are not white.
func pngSize(t *testing.T, path string) (w, h, inked int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if cr, cg, cb, _ := img.At(x, y).RGBA(); cr < 0xf000 || cg < 0xf000 || cb < 0xf000 {
				inked++
			}
		}
	}
	return r.Dx(), r.Dy(), inked
}

// saveMLP writes a freshly initialised MLP taking in features to a model
// file, as nabla train would.
func saveMLP(t *testing.T, in int) string {
	t.Helper()
	cfg := nn.MLPConfig{In: in, Hidden: []int{16}, Out: 3, Activation: "relu"}
	m, err := nn.NewMLP(cfg, tensor.NewRand(2))
	if err != nil {
		t.Fatal(err)
	}
	arch, _ := json.Marshal(cfg)
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := train.SaveModel(path, m, map[string]string{train.MetaMLP: string(arch)}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPlotActivations(t *testing.T) {
	out := filepath.Join(t.TempDir(), "act.png")
	stdout, stderr, code := nabla(t, "plot", "activations", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// 9 panels, 3 to a row of 3.2×2.6-inch panels at 96 dpi.
	if w, h, inked := pngSize(t, out); w != 922 || h != 749 || inked < 20000 {
		t.Errorf("%s: %d×%d with %d inked pixels", out, w, h, inked)
	}
	rows := map[string][]string{}
	for _, l := range strings.Split(stdout, "\n") {
		if f := strings.Fields(l); len(f) == 10 {
			rows[f[0]] = f
		}
	}
	for _, name := range nn.ActivationNames() {
		if rows[name] == nil {
			t.Errorf("no row for %s in\n%s", name, stdout)
		}
	}
	// Columns: name, [min, max], true (lo, hi), max f', at x, saturates, zero-centred, f'(0).
	for name, want := range map[string][]string{
		"sigmoid":    {"0.25", "0", "both", "no", "0.25"},
		"tanh":       {"1", "0", "both", "yes", "1"},
		"relu":       {"1", "0.025", "left", "no", "0"},
		"leaky-relu": {"1", "0.025", "no", "yes", "0.01"},
	} {
		if got := rows[name]; got != nil && strings.Join(got[5:], " ") != strings.Join(want, " ") {
			t.Errorf("%s: %v, want … %v", name, got, want)
		}
	}
	if !strings.Contains(stdout, "wrote "+out) {
		t.Errorf("stdout does not name the file:\n%s", stdout)
	}

	svg := filepath.Join(t.TempDir(), "act.svg")
	stdout, stderr, code = nabla(t, "plot", "activations", "--functions", "relu, gelu", "--range", "-3,3", "--points", "61", "--out", svg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(svg); !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("%s is not an SVG", svg)
	}
	if n := strings.Count(stdout, "\n"); n != 6 { // header, 2 rows, blank, note, wrote
		t.Errorf("want a 2-row table:\n%s", stdout)
	}
}

func TestPlotBoundary(t *testing.T) {
	model := saveMLP(t, 2)
	out := filepath.Join(t.TempDir(), "b.png")
	stdout, stderr, code := nabla(t, "plot", "boundary", "--model", model, "--data", "spiral", "--resolution", "50", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`on spiral \(900 points\): accuracy \d+\.\d\d%`).MatchString(stdout) {
		t.Errorf("stdout:\n%s", stdout)
	}
	if w, h, inked := pngSize(t, out); w != 576 || h != 576 || inked < 576*576/2 {
		t.Errorf("%s: %d×%d with %d inked pixels", out, w, h, inked)
	}
}

func TestGraphDOT(t *testing.T) {
	stdout, stderr, code := nabla(t, "graph", "--hidden", "3", "--activation", "tanh", "--out", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	node := regexp.MustCompile(`(?m)^  n(\d+) \[label="([^"]*)"`)
	edge := regexp.MustCompile(`(?m)^  n(\d+) -> n(\d+);$`)
	ids := map[string]string{}
	for _, m := range node.FindAllStringSubmatch(stdout, -1) {
		ids[m[1]] = m[2]
	}
	// The same graph, built here: the DOT has its every node and edge, and
	// a gradient norm on every node that holds a gradient.
	root, err := buildGraph(3, "tanh", 1)
	if err != nil {
		t.Fatal(err)
	}
	nodes, nEdges, withGrad := 0, 0, 0
	seen := map[*ag.Node]bool{root: true}
	for todo := []*ag.Node{root}; len(todo) > 0; {
		n := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		nodes++
		if n.Grad() != nil {
			withGrad++
		}
		for _, in := range n.Inputs() {
			nEdges++
			if !seen[in] {
				seen[in] = true
				todo = append(todo, in)
			}
		}
	}
	if len(ids) != nodes || nodes < 9 {
		t.Fatalf("%d nodes in the DOT, %d in the graph:\n%s", len(ids), nodes, stdout)
	}
	edges := edge.FindAllStringSubmatch(stdout, -1)
	if len(edges) != nEdges {
		t.Errorf("%d edges in the DOT, %d in the graph:\n%s", len(edges), nEdges, stdout)
	}
	for _, e := range edges {
		if ids[e[1]] == "" || ids[e[2]] == "" {
			t.Errorf("edge %s -> %s to a missing node", e[1], e[2])
		}
	}
	grads := 0
	for _, l := range ids {
		if strings.Contains(l, `|grad| = `) {
			grads++
		}
	}
	if grads != withGrad || grads != nodes-1 { // every node but the input batch
		t.Errorf("%d nodes show a gradient, %d hold one, of %d:\n%s", grads, withGrad, nodes, stdout)
	}
	if !strings.Contains(stdout, `h = tanh(z1)\nTanh\n[4 3]`) {
		t.Errorf("no hidden layer node:\n%s", stdout)
	}

	file := filepath.Join(t.TempDir(), "g.dot")
	if _, stderr, code := nabla(t, "graph", "--out", file, "--seed", "3"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil || !bytes.HasPrefix(b, []byte("digraph nabla {")) {
		t.Errorf("%s: %v\n%s", file, err, b)
	}
}

// Bad input to plot and graph gives one line on stderr and a non-zero exit.
func TestPlotBadInputGivesOneLine(t *testing.T) {
	dir := t.TempDir()
	model3 := saveMLP(t, 3)
	model2 := saveMLP(t, 2)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plot"}, "no figure given"},
		{[]string{"plot", "pie"}, "unknown figure"},
		{[]string{"plot", "activations", "--functions", "relu,swishy"}, "valid: relu, leaky-relu"},
		{[]string{"plot", "activations", "--range", "5,-5"}, "lo < hi"},
		{[]string{"plot", "activations", "--range", "nope"}, "lo,hi"},
		{[]string{"plot", "activations", "--range", "-1,x"}, "not a number"},
		{[]string{"plot", "activations", "--points", "1"}, "at least 2"},
		{[]string{"plot", "activations", "--out", filepath.Join(dir, "a.jpg")}, ".png or .svg"},
		{[]string{"plot", "activations", "--bogus"}, "bogus"},
		{[]string{"plot", "boundary"}, "--model is required"},
		{[]string{"plot", "boundary", "--model", filepath.Join(dir, "none.safetensors")}, "no such file"},
		{[]string{"plot", "boundary", "--model", model3}, "decision boundaries need 2-D data"},
		{[]string{"plot", "boundary", "--model", model2, "--data", "nope"}, "unknown data set"},
		{[]string{"plot", "boundary", "--model", model2, "--activation", "swishy"}, "unknown activation"},
		{[]string{"graph", "--activation", "swishy"}, "unknown activation"},
		{[]string{"graph", "--hidden", "0"}, "--hidden"},
		{[]string{"graph", "--out", filepath.Join(dir, "no", "such", "g.dot")}, "no such file"},
	} {
		_, errOut, code := nabla(t, tc.args...)
		if code == 0 {
			t.Errorf("nabla %v: exit 0", tc.args)
		}
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		last := lines[len(lines)-1]
		if len(lines) != 1 || !strings.HasPrefix(last, "nabla: ") || !strings.Contains(last, tc.want) {
			t.Errorf("nabla %v: want one line 'nabla: …%s…' on stderr, got:\n%s", tc.args, tc.want, errOut)
		}
		if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
			t.Errorf("nabla %v: stack trace:\n%s", tc.args, errOut)
		}
	}
}

// saveCNN writes an untrained small CNN for MNIST, as nabla train would.
func saveCNN(t *testing.T, arch string) string {
	t.Helper()
	s, err := nn.ParseSpec(arch)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err = nn.Resolve(s, []int{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build(s, tensor.Float32, tensor.NewRand(3))
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(train.Input{Shape: []int{1, 28, 28}, Classes: 10, Data: "mnist"})
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := train.SaveModel(path, m, map[string]string{train.MetaInput: string(in)}); err != nil {
		t.Fatal(err)
	}
	return path
}

// Filters, feature maps and saliency maps of a CNN, and the filters of
// an MLP over images, are drawn beside the model; models without images
// are refused in one line.
func TestPlotCNNFigures(t *testing.T) {
	cnn := saveCNN(t, "conv(4,3,pad=1)-relu-maxpool(2)-conv(6,3)-relu-flatten-linear(10)")
	dir := filepath.Dir(cnn)
	for _, c := range []struct {
		args  []string
		file  string
		words []string
	}{
		{[]string{"plot", "filters", "--model", cnn}, "filters.png", []string{"4 filters of 3×3"}},
		{[]string{"plot", "features", "--model", cnn, "--index", "5"}, "features.png", []string{"mnist/test #5", "predicted", "3 layers"}},
		{[]string{"plot", "saliency", "--model", cnn, "--index", "5"}, "saliency.png", []string{"predicted", "gradient"}},
	} {
		out, e, code := nabla(t, c.args...)
		if code != 0 {
			t.Fatalf("nabla %v: exit %d\n%s", c.args, code, e)
		}
		for _, w := range c.words {
			if !strings.Contains(out, w) {
				t.Errorf("nabla %v: output lacks %q:\n%s", c.args, w, out)
			}
		}
		if w, h, inked := pngSize(t, filepath.Join(dir, c.file)); w < 100 || h < 100 || inked == 0 {
			t.Errorf("%s: %d×%d, %d inked pixels", c.file, w, h, inked)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "saliency-signed.png")); err != nil {
		t.Error(err)
	}
	mlp := saveCNN(t, "flatten-linear(12)-relu-linear(10)")
	if out, e, code := nabla(t, "plot", "filters", "--model", mlp); code != 0 || !strings.Contains(out, "28×28") {
		t.Errorf("filters of an MLP over images: exit %d\n%s%s", code, out, e)
	}
	for _, args := range [][]string{
		{"plot", "features", "--model", mlp},
		{"plot", "saliency", "--model", saveMLP(t, 2)},
		{"plot", "features", "--model", cnn, "--index", "10000"},
	} {
		_, e, code := nabla(t, args...)
		if code == 0 || strings.Count(strings.TrimSpace(e), "\n") != 0 {
			t.Errorf("nabla %v: exit %d, %q", args, code, e)
		}
	}
}
