package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/nabla-go/nabla/plot"
	"github.com/nabla-go/nabla/train"
)

// runPlotRun is `nabla plot run DIR`: the figures of one run folder.
func runPlotRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plot run", "plot run DIR [--out-dir DIR] [--format png|svg]", stderr)
	outDir := fs.String("out-dir", "", "folder for the figures (default: the run folder)")
	format := fs.String("format", "png", "image format: png or svg")
	pos, err := parseFlagsArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("plot run: name one run folder (nabla plot run DIR)")
	}
	dir := pos[0]
	if *format != "png" && *format != "svg" {
		return fmt.Errorf("plot run: --format must be png or svg, not %q", *format)
	}
	if *outDir == "" {
		*outDir = dir
	}
	ms, err := train.ReadMetrics(filepath.Join(dir, "metrics.jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("plot run: %s has no metrics.jsonl (is it a run folder of 'nabla train'?)", dir)
	}
	if err != nil {
		return fmt.Errorf("plot run: %w", err)
	}
	if len(ms) == 0 {
		return fmt.Errorf("plot run: %s/metrics.jsonl is empty (the run finished no epoch)", dir)
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return fmt.Errorf("plot run: %w", err)
	}
	name := func(base string) string { return filepath.Join(*outDir, base+"."+*format) }
	var opts plot.CurveOptions
	for _, m := range ms {
		if m.TestLoss != nil && m.TestAcc != nil {
			opts.Test = append(opts.Test, plot.EpochEval{Epoch: m.Epoch, Loss: *m.TestLoss, Acc: *m.TestAcc})
		}
	}
	if err := plot.SaveCurvesWith(ms, opts, name("curves")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (loss, accuracy and learning rate over %d epochs)\n", name("curves"), len(ms))

	recs, err := train.ReadRecords(filepath.Join(dir, train.RecordsFile))
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(recs) == 0) {
		fmt.Fprintf(stdout, "no gradient-flow records in %s: gradient flow and activation histograms need a run trained with 'nabla train --record'\n", dir)
		return nil
	}
	if err != nil {
		return fmt.Errorf("plot run: %w", err)
	}
	if err := plot.SaveGradFlow(recs, name("gradflow")); err != nil {
		return err
	}
	last := recs[len(recs)-1]
	// A layer fused into the next (a Linear before a ReLU) has no output
	// of its own to draw: the next layer's panel shows the fused result.
	shown := last
	shown.Layers = nil
	for _, l := range last.Layers {
		if !l.Fused {
			shown.Layers = append(shown.Layers, l)
		}
	}
	if err := plot.SaveActivationHist(shown, name("activations-hist")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (weight-gradient norm per layer, %d records from step %d to %d)\n", name("gradflow"), len(recs), recs[0].Step, last.Step)
	fmt.Fprintf(stdout, "wrote %s (each layer's outputs at step %d)\n", name("activations-hist"), last.Step)
	writeFlowTable(stdout, recs[0], last)
	return nil
}

// writeFlowTable prints, per layer, the weight-gradient norm at the first
// and last record and the activation statistics at the last.
func writeFlowTable(w io.Writer, first, last train.StepRecord) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "layer\t‖∂L/∂W‖ step %d\t‖∂L/∂W‖ step %d\tmean\tstd\tdead/saturated\n", first.Step, last.Step)
	for i, l := range last.Layers {
		g0, g1 := "", ""
		if l.WeightGradNorm != nil {
			g1 = fmt.Sprintf("%.3g", *l.WeightGradNorm)
			if i < len(first.Layers) && first.Layers[i].WeightGradNorm != nil {
				g0 = fmt.Sprintf("%.3g", *first.Layers[i].WeightGradNorm)
			}
		}
		ds := ""
		switch {
		case l.Fused:
			fmt.Fprintf(tw, "%d %s\t%s\t%s\t(fused with the next layer)\t\t\n", l.Index, l.Layer, g0, g1)
			continue
		case l.Dead != nil:
			ds = fmt.Sprintf("dead %.1f%%", 100**l.Dead)
		case l.Saturated != nil:
			ds = fmt.Sprintf("saturated %.1f%%", 100**l.Saturated)
		}
		fmt.Fprintf(tw, "%d %s\t%s\t%s\t%.3g\t%.3g\t%s\n", l.Index, l.Layer, g0, g1, l.Mean, l.Std, ds)
	}
	tw.Flush()
}

// parseFlagsArgs parses flags that may come before, between or after
// positional arguments, and returns the positional ones. Errors read as
// parseFlags's do.
func parseFlagsArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	usage := fs.Usage
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v (see 'nabla %s -h')", fs.Name(), err, fs.Name())
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
