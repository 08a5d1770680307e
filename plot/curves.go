package plot

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/nabla-go/nabla/train"
)

// Series is one named line: Y against X. Points whose X or Y is NaN, and
// on a log axis points that are not positive, are left out.
type Series struct {
	Name string
	X, Y []float64
}

// LineOptions shape a plot of Series.
type LineOptions struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Points                bool // mark every point with a glyph too
	// Legend names a lone series too; by default a legend appears only
	// when there are several.
	Legend bool
}

// LinePlot draws series as lines in distinct colours (and dash patterns
// after the seventh), with a legend when there is more than one (or
// o.Legend is set). A series with no drawable point is skipped; so is its
// legend entry.
func LinePlot(series []Series, o LineOptions) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = o.Title
	p.X.Label.Text, p.Y.Label.Text = o.XLabel, o.YLabel
	p.Add(plotter.NewGrid())
	if o.LogX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, powerTicks{}
	}
	if o.LogY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, powerTicks{}
	}
	p.Legend.Top = true
	p.Legend.XOffs = -vg.Points(4) // keep the thumbnails off the figure's edge
	drawn := 0
	for i, s := range series {
		var pts plotter.XYs
		for j := range min(len(s.X), len(s.Y)) {
			x, y := s.X[j], s.Y[j]
			if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) || (o.LogX && x <= 0) || (o.LogY && y <= 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("plot: %s: %w", s.Name, err)
		}
		l.Color, l.Width = plotutil.Color(i), vg.Points(1.5)
		if i >= len(plotutil.DefaultColors) {
			l.Dashes = plotutil.Dashes(i / len(plotutil.DefaultColors))
		}
		p.Add(l)
		var thumbs []plot.Thumbnailer
		thumbs = append(thumbs, l)
		if o.Points || len(pts) == 1 {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, fmt.Errorf("plot: %s: %w", s.Name, err)
			}
			sc.Color = l.Color
			sc.Shape = plotutil.Shape(i)
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		if (len(series) > 1 || o.Legend) && s.Name != "" {
			p.Legend.Add(s.Name, thumbs...)
		}
		drawn++
	}
	if drawn == 0 {
		what := "nothing to draw"
		if o.Title != "" {
			what = fmt.Sprintf("%q: nothing to draw", o.Title)
		}
		return nil, fmt.Errorf("plot: %s (no finite%s values)", what, map[bool]string{true: ", positive", false: ""}[o.LogX || o.LogY])
	}
	return p, nil
}

// powerTicks marks a log axis as plot.LogTicks does, labelling the powers
// of ten "1e-05", "0.001", "1", "100" rather than with the rounding
// noise of 10^k computed in floating point.
type powerTicks struct{}

func (powerTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.LogTicks{Prec: -1}.Ticks(lo, hi)
	for i, t := range ts {
		if t.Label == "" {
			continue
		}
		k := math.Round(math.Log10(t.Value))
		if math.Abs(math.Log10(t.Value)-k) < 1e-9 {
			ts[i].Label = strconv.FormatFloat(math.Pow10(int(k)), 'g', -1, 64)
		} else {
			ts[i].Label = strconv.FormatFloat(t.Value, 'g', 3, 64)
		}
	}
	return ts
}

// CurveOptions add to a run's metrics what SaveCurvesWith draws beside
// them.
type CurveOptions struct {
	// ValName names the series of the metrics' ValLoss and ValAcc:
	// "validation" when empty.
	ValName string
	// Test holds the test set's loss and accuracy after some epochs (every
	// epoch, or only the last), drawn as the series "test"; none when
	// empty.
	Test []EpochEval
}

// EpochEval is one evaluation on a held-out set: the loss and the
// accuracy (in [0, 1]) after epoch Epoch.
type EpochEval struct {
	Epoch     int
	Loss, Acc float64
}

// CurveSeries turns a run's metrics into the learning curves, by epoch:
// loss (train, then validation where the metrics have it, then test where
// o.Test has it), accuracy in percent (the same series) and the learning
// rate at the end of each epoch.
func CurveSeries(ms []train.Metrics, o CurveOptions) (loss, acc, lr []Series) {
	n := len(ms)
	ep := make([]float64, n)
	tl, ta, vl, va, rate := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	hasVal := false
	for i, m := range ms {
		ep[i] = float64(m.Epoch)
		tl[i], ta[i], rate[i] = m.TrainLoss, 100*m.TrainAcc, m.LR
		vl[i], va[i] = math.NaN(), math.NaN()
		if m.ValLoss != nil {
			vl[i], hasVal = *m.ValLoss, true
		}
		if m.ValAcc != nil {
			va[i] = 100 * *m.ValAcc
		}
	}
	loss = []Series{{Name: "train", X: ep, Y: tl}}
	acc = []Series{{Name: "train", X: ep, Y: ta}}
	if hasVal {
		name := o.ValName
		if name == "" {
			name = "validation"
		}
		loss = append(loss, Series{Name: name, X: ep, Y: vl})
		acc = append(acc, Series{Name: name, X: ep, Y: va})
	}
	if len(o.Test) > 0 {
		te, tl, ta := make([]float64, len(o.Test)), make([]float64, len(o.Test)), make([]float64, len(o.Test))
		for i, e := range o.Test {
			te[i], tl[i], ta[i] = float64(e.Epoch), e.Loss, 100*e.Acc
		}
		loss = append(loss, Series{Name: "test", X: te, Y: tl})
		acc = append(acc, Series{Name: "test", X: te, Y: ta})
	}
	return loss, acc, []Series{{Name: "learning rate", X: ep, Y: rate}}
}

// SaveCurves is SaveCurvesWith without options.
func SaveCurves(ms []train.Metrics, path string) error {
	return SaveCurvesWith(ms, CurveOptions{}, path)
}

// SaveCurvesWith draws a run's learning curves (see CurveSeries) as three
// panels side by side, loss, accuracy and learning rate against the
// epoch, to path (.png or .svg). The loss and accuracy panels name every
// series in a legend, "train" included. No metrics is an error.
func SaveCurvesWith(ms []train.Metrics, o CurveOptions, path string) error {
	if len(ms) == 0 {
		return fmt.Errorf("plot: %s: no metrics to draw", path)
	}
	loss, acc, lr := CurveSeries(ms, o)
	pts := len(ms) < 20
	pl, err := LinePlot(loss, LineOptions{Title: "loss", XLabel: "epoch", YLabel: "loss", Points: pts, Legend: true})
	if err != nil {
		return err
	}
	pa, err := LinePlot(acc, LineOptions{Title: "accuracy", XLabel: "epoch", YLabel: "accuracy (%)", Points: pts, Legend: true})
	if err != nil {
		return err
	}
	pa.Legend.Top, pa.Legend.Left = false, false
	pr, err := LinePlot(lr, LineOptions{Title: "learning rate", XLabel: "epoch", YLabel: "lr (end of epoch)", Points: pts})
	if err != nil {
		return err
	}
	if lo, hi := minMax(lr[0].Y); lo == hi && lo > 0 { // a constant rate: from 0, not around it
		pr.Y.Min, pr.Y.Max = 0, 1.5*hi
	}
	return SaveGrid([][]*plot.Plot{{pl, pa, pr}}, path, 12*vg.Inch, 3.6*vg.Inch)
}

// minMax returns the smallest and largest of the finite values in v.
func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	return lo, hi
}
