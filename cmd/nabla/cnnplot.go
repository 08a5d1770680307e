package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/plot"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

func init() {
	plotCommands["filters"] = command{"a model's first-layer filters (conv kernels, or a Linear layer's rows as images)", runPlotFilters}
	plotCommands["features"] = command{"each layer's feature maps for one example of the model's data", runPlotFeatures}
	plotCommands["saliency"] = command{"the gradient of a class score with respect to the input pixels, for one example", runPlotSaliency}
}

// modelFlags are the flags of the figures drawn from a saved model and one
// example of its data.
type modelFlags struct {
	model  *string
	data   dataFlags
	seed   *uint64
	index  *int
	out    *string
	fs     *flag.FlagSet
	figure string
}

func defineModelFlags(fs *flag.FlagSet, figure string, withIndex bool) *modelFlags {
	f := &modelFlags{fs: fs, figure: figure}
	f.model = fs.String("model", "", "a model file written by nabla train, a run's checkpoint, or a run folder")
	defineDataFlags(fs, &f.data, "")
	f.seed = fs.Uint64("seed", 1, "seed of a synthetic data set")
	if withIndex {
		f.index = fs.Int("index", 0, "which example of the data set (its test split where there is one)")
	}
	f.out = fs.String("out", "", "the figure (.png or .svg; default: "+figure+".png beside the model)")
	return f
}

// parseAndLoad parses args, checks --max (most), and loads the model.
func (f *modelFlags) parseAndLoad(args []string, most *int) (*train.Model, error) {
	if err := parseFlags(f.fs, args); err != nil {
		return nil, err
	}
	if most != nil && *most < 1 {
		return nil, fmt.Errorf("--max must be at least 1, not %d", *most)
	}
	return f.load()
}

func (f *modelFlags) load() (*train.Model, error) {
	if *f.model == "" {
		return nil, errors.New("--model is required")
	}
	m, err := loadModel(*f.model, train.LoadOptions{})
	if err != nil {
		return nil, err
	}
	nn.SetTraining(m.Module, false)
	if *f.out == "" {
		*f.out = filepath.Join(filepath.Dir(m.Path), f.figure+".png")
	}
	return m, nil
}

// example returns example --index of the model's data, as a batch of one
// in the model's dtype, with its label.
func (f *modelFlags) example(m *train.Model) (*tensor.Tensor, int, string, error) {
	ds, split, err := modelData(m, f.data, *f.seed, f.fs)
	if err != nil {
		return nil, 0, "", err
	}
	if *f.index < 0 || *f.index >= ds.Len() {
		return nil, 0, "", fmt.Errorf("--index %d is outside %s's %d examples", *f.index, split, ds.Len())
	}
	x, y := ds.Batch([]int{*f.index})
	return x.AsType(nn.DTypeOf(m.Module)), y[0], fmt.Sprintf("%s #%d, class %d", ds.Name, *f.index, y[0]), nil
}

// imageShape is the [H, W] of one channel of the model's input, or false
// when the input is not an image.
func imageShape(m *train.Model) (int, int, bool) {
	sh := m.Input.Shape
	if len(sh) == 3 {
		return sh[1], sh[2], true
	}
	return 0, 0, false
}

func runPlotFilters(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plot filters", "plot filters --model FILE|RUN-FOLDER [--max 64] [--out FILE]", stderr)
	f := defineModelFlags(fs, "filters", false)
	most := fs.Int("max", 64, "draw at most this many filters")
	m, err := f.parseAndLoad(args, most)
	if err != nil {
		return err
	}
	fl := firstImageFilters(m.Module, m.Input)
	var tiles []plot.Tile
	var what string
	if fl != nil {
		for o, pix := range fl.images(fl.Weight.Value().Values(), *most) {
			tiles = append(tiles, plot.Tile{Pix: pix, H: fl.H, W: fl.W, Label: fmt.Sprint(o)})
		}
		what = fl.What
	}
	if tiles == nil {
		return fmt.Errorf("%s has no first layer whose weights are images (a Conv2d, or a Linear over a one-channel image input)", m.Path)
	}
	if err := plot.SaveImageGrid(tiles, plot.GridOptions{Diverging: true}, *f.out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\nwrote %s (red positive, blue negative, one scale for all)\n", what, *f.out)
	return nil
}

func runPlotFeatures(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plot features", "plot features --model FILE|RUN-FOLDER [--index N] [--max 16] [--out FILE]", stderr)
	f := defineModelFlags(fs, "features", true)
	most := fs.Int("max", 16, "draw at most this many channels of each layer")
	m, err := f.parseAndLoad(args, most)
	if err != nil {
		return err
	}
	x, label, desc, err := f.example(m)
	if err != nil {
		return err
	}
	logits, traced := nn.Trace(m.Module, ag.Untracked(x))
	var rows [][]plot.Tile
	if h, w, ok := imageShape(m); ok {
		rows = append(rows, []plot.Tile{{Pix: x.Values()[:h*w], H: h, W: w, Label: "input"}})
	}
	layers := 0
	for _, fl := range featureLayers(traced, *most) {
		var row []plot.Tile
		for c, pix := range fl.Maps {
			label := fmt.Sprint(c)
			if c == 0 {
				label = fmt.Sprintf("%s %s: 0", fl.Path, fl.Kind)
			}
			row = append(row, plot.Tile{Pix: pix, H: fl.H, W: fl.W, Label: label})
		}
		rows = append(rows, row)
		layers++
	}
	if layers == 0 {
		return fmt.Errorf("%s has no layer with [C, H, W] outputs to draw (feature maps need a convolutional model)", m.Path)
	}
	probs := softmaxRow(logits.Value().Values())
	if err := plot.SaveImageRows(rows, plot.GridOptions{Title: desc}, *f.out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: predicted %d (p = %.3f), true %d\nclass probabilities %s\nwrote %s (%d layers, each map scaled from its own minimum to maximum)\n",
		desc, argmax(probs), probs[argmax(probs)], label, formatProbs(probs), *f.out, layers)
	return nil
}

func runPlotSaliency(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plot saliency", "plot saliency --model FILE|RUN-FOLDER [--index N] [--class C] [--out FILE]", stderr)
	f := defineModelFlags(fs, "saliency", true)
	class := fs.Int("class", -1, "the class whose score is differentiated (default: the predicted one)")
	m, err := f.parseAndLoad(args, nil)
	if err != nil {
		return err
	}
	h, w, ok := imageShape(m)
	if !ok {
		return fmt.Errorf("saliency maps need image inputs [C, H, W], but the model takes %v", m.Input.Shape)
	}
	x, label, desc, err := f.example(m)
	if err != nil {
		return err
	}
	probs, c, g, ok := saliency(m.Module, x, *class)
	if !ok {
		return fmt.Errorf("--class %d: the model has %d classes", c, len(probs))
	}
	abs, signed := foldSaliency(g, m.Input.Shape[0], h*w)
	image := x.Values()[:h*w]
	tiles := []plot.Tile{{Pix: image, H: h, W: w, Label: "input"}, {Pix: abs, H: h, W: w, Label: fmt.Sprintf("|∂score%d/∂x|", c)}}
	if err := plot.SaveImageGrid(tiles, plot.GridOptions{Cols: 2, Title: desc, TileMM: 45}, *f.out); err != nil {
		return err
	}
	signedOut := strings.TrimSuffix(*f.out, filepath.Ext(*f.out)) + "-signed" + filepath.Ext(*f.out)
	if err := plot.SaveImageGrid([]plot.Tile{{Pix: signed, H: h, W: w, Label: fmt.Sprintf("∂score%d/∂x", c)}}, plot.GridOptions{Diverging: true, TileMM: 45}, signedOut); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: predicted %d (p = %.3f), true %d; gradient of the class-%d score with respect to each pixel\nwrote %s and %s (red: raising the pixel raises the score)\n",
		desc, argmax(probs), probs[argmax(probs)], label, c, *f.out, signedOut)
	return nil
}

func kindOf(m nn.Module) string {
	if s, ok := m.(nn.Specer); ok {
		return s.Spec().Type
	}
	return fmt.Sprintf("%T", m)
}

func softmaxRow(z []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, v)
	}
	out := make([]float64, len(z))
	var s float64
	for i, v := range z {
		out[i] = math.Exp(v - mx)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

func argmax(p []float64) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

func formatProbs(p []float64) string {
	parts := make([]string, len(p))
	for i, v := range p {
		parts[i] = fmt.Sprintf("%d:%.3f", i, v)
	}
	return strings.Join(parts, " ")
}
