package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

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
	if err := dispatch("nabla plot", "figure", plotCommands, args, stdout, stderr); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
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
	fs := newFlags("plot boundary", "plot boundary --model FILE [--data spiral] [--out boundary.png] [flags]", stderr)
	model := fs.String("model", "", "model file (safetensors) written by nabla train, taking 2 inputs")
	activation := fs.String("activation", "", "the activation between layers, for a file that does not record it (a plain PyTorch file)")
	dataName := fs.String("data", "spiral", "data set: spiral, moons, circles, xor, blobs, or a CSV file of 2 features")
	labelCol := fs.Int("label-col", -1, "CSV: column of the class label")
	header := fs.Bool("header", false, "CSV: the first line is a header")
	seed := fs.Uint64("seed", 1, "seed of a synthetic data set")
	resolution := fs.Int("resolution", 200, "grid cells along each axis")
	out := fs.String("out", "boundary.png", "the figure (.png or .svg)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return errors.New("plot boundary: --model is required")
	}
	if *resolution < 2 || *resolution > 2000 {
		return fmt.Errorf("plot boundary: --resolution must be in [2, 2000], not %d", *resolution)
	}
	m, cfg, err := train.LoadMLP(*model, *activation)
	if err != nil {
		return err
	}
	if cfg.In != 2 {
		return fmt.Errorf("plot boundary: decision boundaries need 2-D data, but the model takes %d inputs", cfg.In)
	}
	ds, _, err := loadData(*dataName, "", *labelCol, *header, false, *seed)
	if err != nil {
		return fmt.Errorf("plot boundary: %v", err)
	}
	if ds.Features() != 2 {
		return fmt.Errorf("plot boundary: decision boundaries need 2-D data, but %s has %d features", *dataName, ds.Features())
	}
	if ds.Classes() > cfg.Out {
		return fmt.Errorf("plot boundary: the model has %d outputs but %s has %d classes", cfg.Out, *dataName, ds.Classes())
	}
	fig, err := plot.Boundary(m, ds, plot.BoundaryOptions{Resolution: *resolution, Title: describeMLP(cfg) + " on " + *dataName})
	if err != nil {
		return err
	}
	if err := fig.Save(*out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s on %s (%d points): accuracy %.2f%%\nwrote %s\n", describeMLP(cfg), *dataName, ds.Len(), 100*fig.Accuracy, *out)
	return nil
}
