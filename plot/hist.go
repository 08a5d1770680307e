package plot

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/nabla-go/nabla/train"
)

// HistColor fills the bars of activation histograms; OutsideColor the
// bars that count the values outside the recorded range.
var (
	HistColor    = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xc0}
	OutsideColor = color.RGBA{R: 0x80, G: 0x80, B: 0x80, A: 0xc0}
)

// HistBar is one bar of a histogram panel: the values in [Min, Max), as a
// fraction of all the layer's outputs. An Outside bar stands for the
// values below the histogram's range (drawn left of it) or at or above it
// (drawn right of it), one bin wide.
type HistBar struct {
	Min, Max float64
	Frac     float64
	Outside  bool
}

// HistBars returns the bars HistPanel draws for h, in order along x: an
// Outside bar for the values below h.Lo (when there are any), one bar per
// bin, an Outside bar for those at or above h.Hi. xmin and xmax are the
// x range to show, chosen from the data: from the first bar that holds
// anything to the last, with half a bin to spare on each side (the whole
// range when nothing was counted). So a layer whose outputs all fall
// outside the range (a model's logits, say) still shows where they are,
// and one whose outputs crowd into a corner of it is drawn large.
//
// A histogram that cannot be drawn (no bins, a range that is not finite
// and increasing, a negative count) gives no bars.
func HistBars(h train.Histogram) (bars []HistBar, xmin, xmax float64) {
	if !validHist(h) {
		return nil, h.Lo, h.Hi
	}
	total := h.Below + h.Above
	for _, c := range h.Counts {
		total += c
	}
	frac := func(c int) float64 { return float64(c) / float64(max(total, 1)) }
	w := (h.Hi - h.Lo) / float64(len(h.Counts))
	if h.Below > 0 {
		bars = append(bars, HistBar{Min: h.Lo - w, Max: h.Lo, Frac: frac(h.Below), Outside: true})
	}
	for i, c := range h.Counts {
		bars = append(bars, HistBar{Min: h.Lo + float64(i)*w, Max: h.Lo + float64(i+1)*w, Frac: frac(c)})
	}
	bars[len(bars)-1].Max = h.Hi // no rounding gap at the end (the last bar is a bin here)
	if h.Above > 0 {
		bars = append(bars, HistBar{Min: h.Hi, Max: h.Hi + w, Frac: frac(h.Above), Outside: true})
	}
	first, last := -1, -1
	for i, b := range bars {
		if b.Frac > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return bars, h.Lo, h.Hi
	}
	return bars, bars[first].Min - w/2, bars[last].Max + w/2
}

// HistPanel draws one layer's recorded histogram of outputs at step, as
// the fraction of the batch's outputs in each bin, over the x range
// HistBars chooses from the data. The values outside the recorded range
// are drawn as grey bars at its ends, labelled "< lo" and "≥ hi". The
// title names the layer and, where recorded, the dead or saturated
// fraction.
func HistPanel(l train.LayerRecord, step int) (*plot.Plot, error) {
	h := l.Hist
	if len(h.Counts) == 0 {
		return nil, fmt.Errorf("plot: layer %d: empty histogram", l.Index)
	}
	if !validHist(h) {
		return nil, fmt.Errorf("plot: layer %d: malformed histogram (range [%g, %g], counts from %d bins, %d below, %d above)",
			l.Index, h.Lo, h.Hi, len(h.Counts), h.Below, h.Above)
	}
	bars, xmin, xmax := HistBars(h)
	var in, out []plotter.HistogramBin
	outside := 0.0
	for _, b := range bars {
		bin := plotter.HistogramBin{Min: b.Min, Max: b.Max, Weight: b.Frac}
		if b.Outside {
			out = append(out, bin)
			outside += b.Frac
		} else {
			in = append(in, bin)
		}
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
	if outside > 0 {
		p.X.Label.Text += fmt.Sprintf("; %.1f%% outside [%s, %s)", 100*outside, num(h.Lo), num(h.Hi))
	}
	p.Y.Label.Text = "fraction"
	w := (h.Hi - h.Lo) / float64(len(h.Counts))
	for _, set := range []struct {
		bins []plotter.HistogramBin
		fill color.Color
	}{{in, HistColor}, {out, OutsideColor}} {
		if len(set.bins) == 0 {
			continue
		}
		bars := &plotter.Histogram{Bins: set.bins, Width: w, FillColor: set.fill}
		bars.LineStyle.Width = 0
		p.Add(bars)
	}
	p.X.Min, p.X.Max = xmin, xmax
	p.X.Tick.Marker = histTicks{lo: h.Lo, hi: h.Hi, below: h.Below > 0, above: h.Above > 0, w: w}
	p.Y.Min = 0
	return p, nil
}

// histTicks marks the recorded range with round ticks and labels the
// bars of values outside it.
type histTicks struct {
	lo, hi, w    float64
	below, above bool
}

func (t histTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	if a, b := max(lo, t.lo), min(hi, t.hi); b > a {
		ticks = roundTicks{}.Ticks(a, b)
	}
	for i, tk := range ticks { // the labels of the outside bars take their place
		if (t.below && tk.Value < t.lo+t.w) || (t.above && tk.Value > t.hi-t.w) {
			ticks[i].Label = ""
		}
	}
	if t.below && t.lo-t.w/2 >= lo {
		ticks = append(ticks, plot.Tick{Value: t.lo - t.w/2, Label: "<" + num(t.lo)})
	}
	if t.above && t.hi+t.w/2 <= hi {
		ticks = append(ticks, plot.Tick{Value: t.hi + t.w/2, Label: "≥" + num(t.hi)})
	}
	return ticks
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

// validHist reports whether h can be drawn: bins over a finite,
// increasing range, and no negative count.
func validHist(h train.Histogram) bool {
	if len(h.Counts) == 0 || !(h.Hi > h.Lo) || math.IsInf(h.Lo, 0) || math.IsInf(h.Hi, 0) || h.Below < 0 || h.Above < 0 {
		return false
	}
	for _, c := range h.Counts {
		if c < 0 {
			return false
		}
	}
	return true
}
