package plot

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/nabla-go/nabla/train"
)

// GradFlowSeries turns gradient-flow records into one series per Linear
// layer: the norm of its weight gradient, ‖∂L/∂W‖₂, against the step.
// Layers are named "layer k (index i)": k counts Linear layers from 1 at
// the input, i is the position in the Sequential (the name prefix of its
// parameters).
func GradFlowSeries(recs []train.StepRecord) []Series {
	var out []Series
	at := map[int]int{} // Sequential index → series
	for _, r := range recs {
		for _, l := range r.Layers {
			if l.WeightGradNorm == nil {
				continue
			}
			k, ok := at[l.Index]
			if !ok {
				k = len(out)
				at[l.Index] = k
				out = append(out, Series{Name: fmt.Sprintf("layer %d (index %d)", k+1, l.Index)})
			}
			out[k].X = append(out[k].X, float64(r.Step))
			out[k].Y = append(out[k].Y, *l.WeightGradNorm)
		}
	}
	return out
}

// LayerProfile is the weight-gradient norm of every Linear layer at one
// record, against the layer's number (1 at the input): how the gradient
// shrinks or grows on its way back.
func LayerProfile(r train.StepRecord) Series {
	s := Series{Name: "step " + strconv.Itoa(r.Step)}
	for _, l := range r.Layers {
		if l.WeightGradNorm != nil {
			s.X = append(s.X, float64(len(s.X)+1))
			s.Y = append(s.Y, *l.WeightGradNorm)
		}
	}
	return s
}

// SaveGradFlow draws gradient flow from a run's records to path (.png or
// .svg): on the left the weight-gradient norm of each Linear layer over
// the steps, on the right the norm against the layer at the first, middle
// and last recorded steps; both with a log y axis. Records without any
// Linear layer are an error.
func SaveGradFlow(recs []train.StepRecord, path string) error {
	series := GradFlowSeries(recs)
	if len(series) == 0 {
		return fmt.Errorf("plot: %s: the records hold no weight gradients", path)
	}
	left, err := LinePlot(series, LineOptions{Title: "weight-gradient norm per layer", XLabel: "step", YLabel: "‖∂L/∂W‖₂", LogY: true, Points: len(recs) < 30})
	if err != nil {
		return err
	}
	picks := []int{0}
	if len(recs) > 2 {
		picks = append(picks, len(recs)/2)
	}
	if len(recs) > 1 {
		picks = append(picks, len(recs)-1)
	}
	var prof []Series
	for _, i := range picks {
		prof = append(prof, LayerProfile(recs[i]))
	}
	right, err := LinePlot(prof, LineOptions{Title: "by layer (1 = input side)", XLabel: "layer", YLabel: "‖∂L/∂W‖₂", LogY: true, Points: true})
	if err != nil {
		return err
	}
	integerTicks(right, len(series))
	return SaveGrid([][]*plot.Plot{{left, right}}, path, 11*vg.Inch, 4*vg.Inch)
}

// SaveLines draws series on one plot of w×h inches to path (.png or .svg).
func SaveLines(series []Series, o LineOptions, path string, w, h float64) error {
	p, err := LinePlot(series, o)
	if err != nil {
		return err
	}
	return Save(p, path, vg.Length(w)*vg.Inch, vg.Length(h)*vg.Inch)
}

// SaveLayerProfiles draws one line per series of a value against the layer
// number (1 at the input), log y, with a tick at every layer: the figure of
// `nabla experiment vanishing`.
func SaveLayerProfiles(series []Series, title, yLabel, path string) error {
	p, err := LinePlot(series, LineOptions{Title: title, XLabel: "layer (1 = input side)", YLabel: yLabel, LogY: true, Points: true})
	if err != nil {
		return err
	}
	n := 0
	for _, s := range series {
		n = max(n, len(s.X))
	}
	integerTicks(p, n)
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Millimeter*2, vg.Millimeter*2
	return Save(p, path, 8*vg.Inch, 4.5*vg.Inch)
}

// integerTicks labels the x axis 1…n.
func integerTicks(p *plot.Plot, n int) {
	if n < 1 || n > 30 {
		return
	}
	ticks := make([]plot.Tick, n)
	for i := range ticks {
		ticks[i] = plot.Tick{Value: float64(i + 1), Label: strconv.Itoa(i + 1)}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = math.Min(p.X.Min, 0.5), math.Max(p.X.Max, float64(n)+0.5)
}
