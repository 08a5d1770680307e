package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"

	"github.com/nabla-go/nabla/plot"
	"github.com/nabla-go/nabla/train"
)

func init() {
	commands["plot"] = command{"draw a figure: activations, boundary (of a model), run (a run's curves)", runPlot}
}

// plotCommands are the figures `nabla plot` draws.
var plotCommands = map[string]command{
	"activations": {"each activation and its derivative (by autodiff), with a table", runPlotActivations},
	"boundary":    {"a 2-D classifier's decision regions over its data", runPlotBoundary},
	"run":         {"a training run's curves, gradient flow and activations", runPlotRun},
}

func runPlot(args []string, stdout, stderr io.Writer) error {
	return dispatch("nabla plot", "figure", plotCommands, args, stdout, stderr)
}

func runPlotActivations(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plot activations", "plot activations [--functions relu,tanh,…] [--range -5,5] [--points 401] [--out activations.png]", stderr)
	functions := fs.String("functions", "", "activations to draw, comma-separated (default: all: "+strings.Join(plot.ActivationNames(), ",")+")")
	rangeFlag := fs.String("range", "-5,5", "the x range to draw, lo,hi")
	points := fs.Int("points", 401, "points on the x grid")
	out := fs.String("out", "activations.png", "the figure (.png or .svg)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	lo, hi, err := parseRange(*rangeFlag)
	if err != nil {
		return fmt.Errorf("plot activations: --range %q: %v", *rangeFlag, err)
	}
	if *points < 2 {
		return fmt.Errorf("plot activations: --points must be at least 2, not %d", *points)
	}
	var names []string
	for _, n := range strings.Split(*functions, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	curves, err := plot.Activations(names, lo, hi, *points)
	if err != nil {
		return err
	}
	if err := plot.SaveActivations(curves, *out); err != nil {
		return err
	}
	if err := plot.WriteActivationTable(stdout, curves); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}

// parseRange reads "lo,hi" with finite lo < hi.
func parseRange(s string) (lo, hi float64, err error) {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return 0, 0, errors.New("want lo,hi (for example -5,5)")
	}
	if lo, err = strconv.ParseFloat(strings.TrimSpace(a), 64); err != nil {
		return 0, 0, fmt.Errorf("%q is not a number", a)
	}
	if hi, err = strconv.ParseFloat(strings.TrimSpace(b), 64); err != nil {
		return 0, 0, fmt.Errorf("%q is not a number", b)
	}
	if !(lo < hi) || lo-hi == lo || hi-lo == hi { // NaN, reversed, or infinite
		return 0, 0, errors.New("want finite lo < hi")
	}
	return lo, hi, nil
}

func runPlotBoundary(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plot boundary", "plot boundary --model FILE|RUN-FOLDER [--data NAME] [--out FILE] [flags]", stderr)
	model := fs.String("model", "", "a model taking 2 inputs: a file written by nabla train, a run's checkpoint, a run folder, an ONNX file, or a PyTorch file")
	activation := fs.String("activation", "", "the activation between layers, for a file that does not record it (a plain PyTorch file)")
	var d dataFlags
	defineDataFlags(fs, &d, "")
	seed := fs.Uint64("seed", 1, "seed of a synthetic data set")
	resolution := fs.Int("resolution", 200, "grid cells along each axis")
	out := fs.String("out", "", "the figure (.png or .svg; default: boundary.png beside the model)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return errors.New("--model is required")
	}
	if *resolution < 2 || *resolution > 2000 {
		return fmt.Errorf("--resolution must be in [2, 2000], not %d", *resolution)
	}
	m, err := loadModel(*model, train.LoadOptions{Activation: *activation})
	if err != nil {
		return err
	}
	if m.Input.Features() != 2 {
		return fmt.Errorf("decision boundaries need 2-D data, but the model takes examples of shape %v", m.Input.Shape)
	}
	raw, _, _, err := modelDataSets(m, d, *seed, fs)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(filepath.Dir(m.Path), "boundary.png")
	}
	// The figure's grid is in the data's own coordinates; a model trained
	// on standardised features gets them standardised.
	net := m.Module
	if m.Input.Mean != nil {
		net = standardised{net, m.Input}
	}
	fig, err := plot.Boundary(net, raw, plot.BoundaryOptions{Resolution: *resolution, Title: describeModel(m) + " on " + raw.Name})
	if err != nil {
		return err
	}
	if err := fig.Save(*out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s on %s (%d points): accuracy %.2f%%\nwrote %s\n", describeModel(m), raw.Name, raw.Len(), 100*fig.Accuracy, *out)
	return nil
}

// standardised applies a model's input normalisation before the model, so
// that it can be fed data in its own coordinates.
type standardised struct {
	nn.Module
	in train.Input
}

func (s standardised) Forward(x *ag.Node) *ag.Node {
	dt := x.DType()
	mean := tensor.FromValues(dt, s.in.Mean, len(s.in.Mean))
	std := tensor.FromValues(dt, s.in.Std, len(s.in.Std))
	return s.Module.Forward(ag.Div(ag.Sub(x, ag.Const(mean)), ag.Const(std)))
}

// Children makes the wrapped model reachable by nn.SetTraining.
func (s standardised) Children() []nn.Child { return []nn.Child{{Name: "", Module: s.Module}} }
