package plot

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// SweepPoint is one finished run of a sweep: its line (e.g. "relu, lr
// 0.01"), its size on the x axis and its held-out accuracy.
type SweepPoint struct {
	Line string
	Size float64 // hidden units (total over the hidden layers)
	Acc  float64 // held-out accuracy in [0, 1]
}

// SweepSeries groups points into one series per line, in the order each
// line first appears, each sorted by size. Y is the accuracy in percent,
// as the tables print it.
func SweepSeries(pts []SweepPoint) []Series {
	var out []Series
	at := map[string]int{}
	for _, p := range pts {
		i, ok := at[p.Line]
		if !ok {
			i = len(out)
			at[p.Line] = i
			out = append(out, Series{Name: p.Line})
		}
		out[i].X = append(out[i].X, p.Size)
		out[i].Y = append(out[i].Y, 100*p.Acc)
	}
	for i := range out {
		s := &out[i]
		idx := make([]int, len(s.X))
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return s.X[idx[a]] < s.X[idx[b]] })
		x, y := make([]float64, len(idx)), make([]float64, len(idx))
		for j, k := range idx {
			x[j], y[j] = s.X[k], s.Y[k]
		}
		s.X, s.Y = x, y
	}
	return out
}

// SweepPlot draws held-out accuracy, in percent, against hidden size
// (log x), one line per SweepPoint.Line. heldOut names the set in the
// title and the axis label ("validation", "test").
func SweepPlot(pts []SweepPoint, heldOut string) (*plot.Plot, error) {
	return SweepPlotBy(pts, heldOut, "hidden units")
}

// SweepPlotBy is SweepPlot with the x axis named size (SweepPoint.Size
// then holds that quantity: "parameters" for a grid of architectures).
func SweepPlotBy(pts []SweepPoint, heldOut, size string) (*plot.Plot, error) {
	if len(pts) == 0 {
		return nil, fmt.Errorf("plot: no finished runs to draw")
	}
	series := SweepSeries(pts)
	p, err := LinePlot(series, LineOptions{
		Title:  heldOut + " accuracy by " + size,
		XLabel: size + " (log scale)", YLabel: heldOut + " accuracy (%)",
		LogX: true, Points: true,
	})
	if err != nil {
		return nil, err
	}
	p.Title.Padding = vg.Points(6)
	// A tick at every size of the grid, some room left and right on the
	// log axis, and head room above the lines for the legend.
	sizes := map[float64]bool{}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		l, h := minMax(s.Y) // LinePlot drew only the finite values
		lo, hi = min(lo, l), max(hi, h)
	}
	for _, q := range pts {
		sizes[q.Size] = true
	}
	var ticks []plot.Tick
	for v := range sizes {
		if v > 0 {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
		}
	}
	sort.Slice(ticks, func(i, j int) bool { return ticks[i].Value < ticks[j].Value })
	if len(ticks) > 0 {
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = ticks[0].Value/1.5, ticks[len(ticks)-1].Value*1.5
	}
	span := max(hi-lo, 2) // percentage points
	p.Y.Min, p.Y.Max = lo-0.1*span, hi+(0.15+0.1*float64(len(series)))*span
	p.Y.Tick.Marker = roundTicks{}
	return p, nil
}

// SaveSweep draws SweepPlot to path (.png or .svg), 7×4.5 inches.
func SaveSweep(pts []SweepPoint, heldOut, path string) error {
	return SaveSweepBy(pts, heldOut, "hidden units", path)
}

// SaveSweepBy draws SweepPlotBy to path (.png or .svg), 7×4.5 inches.
func SaveSweepBy(pts []SweepPoint, heldOut, size, path string) error {
	p, err := SweepPlotBy(pts, heldOut, size)
	if err != nil {
		if len(pts) == 0 {
			return fmt.Errorf("plot: %s: no finished runs to draw", path)
		}
		return err
	}
	return Save(p, path, 7*vg.Inch, 4.5*vg.Inch)
}
