package plot

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/nabla-go/nabla/train"
)

// HistColor fills the bars of activation histograms.
var HistColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xc0}

// HistPanel draws one layer's recorded histogram of outputs at step, as
// the fraction of the batch's outputs in each bin. The title
// names the layer and, where recorded, the dead or saturated fraction; the
// values outside the fixed range are counted under the x axis.
func HistPanel(l train.LayerRecord, step int) (*plot.Plot, error) {
	h := l.Hist
	if len(h.Counts) == 0 || !(h.Hi > h.Lo) {
		return nil, fmt.Errorf("plot: layer %d: empty histogram", l.Index)
	}
	total := h.Below + h.Above
	for _, c := range h.Counts {
		total += c
	}
	w := (h.Hi - h.Lo) / float64(len(h.Counts))
	bins := make([]plotter.HistogramBin, len(h.Counts))
	for i, c := range h.Counts {
		bins[i] = plotter.HistogramBin{Min: h.Lo + float64(i)*w, Max: h.Lo + float64(i+1)*w, Weight: float64(c) / float64(max(total, 1))}
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%d: %s, step %d", l.Index, l.Layer, step)
	switch {
	case l.Dead != nil:
		p.Title.Text += fmt.Sprintf(" — dead %.0f%%", 100**l.Dead)
	case l.Saturated != nil:
		p.Title.Text += fmt.Sprintf(" — saturated %.0f%%", 100**l.Saturated)
	}
	p.X.Label.Text = fmt.Sprintf("output (mean %.3g, std %.3g)", l.Mean, l.Std)
	if h.Below+h.Above > 0 {
		p.X.Label.Text += fmt.Sprintf("; %.1f%% outside", 100*float64(h.Below+h.Above)/float64(max(total, 1)))
	}
	p.Y.Label.Text = "fraction"
	bars := &plotter.Histogram{Bins: bins, Width: w, FillColor: HistColor}
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.X.Min, p.X.Max = h.Lo, h.Hi
	p.Y.Min = 0
	return p, nil
}

// SaveActivationHist draws the histogram of every layer's outputs at one
// record, as a grid of panels (four to a row), to path (.png or .svg).
func SaveActivationHist(r train.StepRecord, path string) error {
	if len(r.Layers) == 0 {
		return fmt.Errorf("plot: %s: the record has no layers", path)
	}
	const cols = 4
	var grid [][]*plot.Plot
	for i, l := range r.Layers {
		p, err := HistPanel(l, r.Step)
		if err != nil {
			return err
		}
		if i%cols == 0 {
			grid = append(grid, nil)
		}
		grid[len(grid)-1] = append(grid[len(grid)-1], p)
	}
	c := min(cols, len(r.Layers))
	return SaveGrid(grid, path, vg.Length(c)*3.4*vg.Inch, vg.Length(len(grid))*2.8*vg.Inch)
}
