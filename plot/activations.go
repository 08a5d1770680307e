package plot

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// SaturationThreshold is the size below which a derivative counts as
// vanished when Stats judges saturation.
const SaturationThreshold = 1e-3

// SaturationReach is how far out Stats looks for saturation at least: the
// ends of the plotted range, pushed out to ±SaturationReach when the range
// is narrower, so that the default view (−5 to 5, where σ' is still 0.0066)
// judges the tails rather than the window.
const SaturationReach = 10.0

// activationInfo is what the maths says about an activation, beside what
// the grid shows: a title for the panel and its true range of values.
type activationInfo struct {
	title  string
	lo, hi float64 // the true range's bounds (infimum, supremum)
	rng    string  // the true range as text
}

// activationInfos covers every name nn.ActivationByName knows, with its
// default parameter (slope 0.01, alpha 1). The minima of GELU and SiLU are
// at x ≈ −0.7518 (x·Φ(x) ≈ −0.16997) and x ≈ −1.2785 (x·σ(x) ≈ −0.27846).
var activationInfos = map[string]activationInfo{
	"relu":       {"ReLU", 0, math.Inf(1), "[0, ∞)"},
	"leaky-relu": {"Leaky ReLU (slope 0.01)", math.Inf(-1), math.Inf(1), "(−∞, ∞)"},
	"sigmoid":    {"Sigmoid", 0, 1, "(0, 1)"},
	"tanh":       {"Tanh", -1, 1, "(−1, 1)"},
	"elu":        {"ELU (α = 1)", -1, math.Inf(1), "(−1, ∞)"},
	"gelu":       {"GELU (exact)", -0.16997, math.Inf(1), "[−0.170, ∞)"},
	"gelu-tanh":  {"GELU (tanh approx.)", -0.17004, math.Inf(1), "[−0.170, ∞)"},
	"silu":       {"SiLU (swish)", -0.27846, math.Inf(1), "[−0.278, ∞)"},
	"softplus":   {"Softplus", 0, math.Inf(1), "(0, ∞)"},
}

// Curve is one activation sampled on a grid: f and its derivative, the
// derivative from reverse-mode autodiff (ag.Grad), never from a formula.
type Curve struct {
	Name  string    // as nn.ActivationByName takes it: "leaky-relu"
	Title string    // for the panel: "Leaky ReLU (slope 0.01)"
	X     []float64 // the grid, evenly spaced from lo to hi
	Y     []float64 // f(X)
	DY    []float64 // f'(X)
	Stats Stats
}

// Stats summarises a Curve: what the table of `nabla plot activations`
// prints.
type Stats struct {
	Min, Max       float64 // f's range over the plotted x
	TrueRange      string  // f's range over all x, from the maths: "(0, 1)"
	TrueLo, TrueHi float64 // its bounds (±Inf when open-ended)
	MaxGrad        float64 // the largest f' on the grid
	ArgMaxGrad     float64 // the first x where it is reached
	// SaturatesLeft and SaturatesRight say whether |f'| < SaturationThreshold
	// at the left and right end (see SaturationReach for how far out).
	SaturatesLeft, SaturatesRight bool
	// GradLeft and GradRight are f' there.
	GradLeft, GradRight float64
	ZeroCentred         bool    // f(0) = 0 and f takes both signs on the grid
	GradAt0             float64 // f'(0) by autodiff: the convention at a kink
}

// Saturates describes the saturation flags: "both", "left", "right" or "no".
func (s Stats) Saturates() string {
	switch {
	case s.SaturatesLeft && s.SaturatesRight:
		return "both"
	case s.SaturatesLeft:
		return "left"
	case s.SaturatesRight:
		return "right"
	}
	return "no"
}

// ActivationNames lists the activations Activations can draw, in the order
// of nn.ActivationNames.
func ActivationNames() []string { return nn.ActivationNames() }

// Activations samples each named activation (nil names means all of them)
// at points evenly spaced x from lo to hi, in float64, and differentiates it
// with ag.Grad: the gradient of Σf(x) with respect to x is f'(x) at every
// point, since f works element-wise. An unknown name, lo ≥ hi, a
// non-finite bound or fewer than 2 points is an error.
func Activations(names []string, lo, hi float64, points int) ([]Curve, error) {
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || lo >= hi {
		return nil, fmt.Errorf("plot: bad range [%g, %g]: want finite lo < hi", lo, hi)
	}
	if points < 2 {
		return nil, fmt.Errorf("plot: %d points: want at least 2", points)
	}
	if len(names) == 0 {
		names = ActivationNames()
	}
	xs := make([]float64, points)
	for i := range xs {
		xs[i] = lo + (hi-lo)*float64(i)/float64(points-1)
	}
	xs[points-1] = hi
	reach := max(-lo, hi, SaturationReach)
	curves := make([]Curve, 0, len(names))
	for _, name := range names {
		m, err := nn.ActivationByName(name)
		if err != nil {
			return nil, fmt.Errorf("plot: unknown activation %q (valid: %s)", name, strings.Join(ActivationNames(), ", "))
		}
		info, ok := activationInfos[name]
		if !ok { // a new activation in nn that this table does not know yet
			info = activationInfo{title: name, lo: math.Inf(-1), hi: math.Inf(1), rng: "?"}
		}
		y, dy := valueAndGrad(m, xs)
		_, ends := valueAndGrad(m, []float64{-reach, reach})
		f0, d0 := valueAndGrad(m, []float64{0})
		c := Curve{Name: name, Title: info.title, X: xs, Y: y, DY: dy}
		s := Stats{
			Min: math.Inf(1), Max: math.Inf(-1), MaxGrad: math.Inf(-1),
			TrueRange: info.rng, TrueLo: info.lo, TrueHi: info.hi,
			GradLeft: ends[0], GradRight: ends[1],
			SaturatesLeft:  math.Abs(ends[0]) < SaturationThreshold,
			SaturatesRight: math.Abs(ends[1]) < SaturationThreshold,
			GradAt0:        d0[0],
		}
		for i := range xs {
			s.Min, s.Max = min(s.Min, y[i]), max(s.Max, y[i])
			if dy[i] > s.MaxGrad {
				s.MaxGrad, s.ArgMaxGrad = dy[i], xs[i]
			}
		}
		s.ZeroCentred = f0[0] == 0 && s.Min < 0 && s.Max > 0
		c.Stats = s
		curves = append(curves, c)
	}
	return curves, nil
}

// valueAndGrad returns m(x) and m'(x) at each x, the derivative by reverse
// mode: ∂/∂xᵢ Σⱼ m(x)ⱼ = m'(xᵢ) for an element-wise m.
func valueAndGrad(m nn.Module, xs []float64) (y, dy []float64) {
	x := ag.Var(tensor.FromFloat64(append([]float64(nil), xs...)))
	out := m.Forward(x)
	g := ag.Grad(ag.Sum(out), []*ag.Node{x})[0]
	return tensor.Data[float64](out.Value()), tensor.Data[float64](g.Value())
}

// WriteActivationTable writes one row of Stats per curve, aligned with
// text/tabwriter.
func WriteActivationTable(w io.Writer, curves []Curve) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "activation\trange on plot\ttrue range\tmax f'\tat x\tsaturates\tzero-centred\tf'(0)")
	for _, c := range curves {
		s := c.Stats
		fmt.Fprintf(tw, "%s\t[%s, %s]\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name,
			num(s.Min), num(s.Max), s.TrueRange, num(s.MaxGrad), num(s.ArgMaxGrad),
			s.Saturates(), yesNo(s.ZeroCentred), num(s.GradAt0))
	}
	if len(curves) > 0 {
		x0 := curves[0].X
		reach := max(-x0[0], x0[len(x0)-1], SaturationReach)
		fmt.Fprintf(tw, "\nf' by reverse-mode autodiff (ag.Grad); saturates: |f'| < %g at x = ±%s.\n", SaturationThreshold, num(reach))
	}
	return tw.Flush()
}

// num formats v in at most 4 significant digits, without "-0".
func num(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Colours of the function and of its derivative in every panel.
var (
	FuncColor  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue
	GradColor  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff} // red
	axisColour = color.Gray{Y: 0xb0}
)

// ActivationPanel returns the plot of one curve: f solid, f' dashed, on
// the same axes, with the axes through the origin drawn in grey.
func ActivationPanel(c Curve) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = "x"
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	f, err := plotter.NewLine(xys(c.X, c.Y))
	if err != nil {
		return nil, fmt.Errorf("plot: %s: %w", c.Name, err)
	}
	f.Color, f.Width = FuncColor, vg.Points(1.5)
	d, err := plotter.NewLine(xys(c.X, c.DY))
	if err != nil {
		return nil, fmt.Errorf("plot: %s': %w", c.Name, err)
	}
	d.Color, d.Width, d.Dashes = GradColor, vg.Points(1.5), []vg.Length{vg.Points(4), vg.Points(2)}
	lo, hi := c.X[0], c.X[len(c.X)-1]
	xAxis, _ := plotter.NewLine(plotter.XYs{{X: lo, Y: 0}, {X: hi, Y: 0}})
	xAxis.Color = axisColour
	p.Add(xAxis, f, d)
	p.Legend.Add("f(x)", f)
	p.Legend.Add("f′(x) (autodiff)", d)
	p.X.Min, p.X.Max = lo, hi
	// Head room above the curves keeps the legend (top left) off them.
	ymin, ymax := 0.0, 0.0
	for i := range c.Y {
		ymin, ymax = min(ymin, c.Y[i], c.DY[i]), max(ymax, c.Y[i], c.DY[i])
	}
	span := max(ymax-ymin, 1e-9)
	p.Y.Min, p.Y.Max = ymin-0.05*span, ymax+0.35*span
	// Round ticks that always include 0 where the axes cross.
	p.X.Tick.Marker, p.Y.Tick.Marker = roundTicks{}, roundTicks{}
	return p, nil
}

// ActivationFigure lays the curves' panels out in rows of cols.
func ActivationFigure(curves []Curve, cols int) ([][]*plot.Plot, error) {
	if cols < 1 {
		cols = 1
	}
	var grid [][]*plot.Plot
	for i, c := range curves {
		p, err := ActivationPanel(c)
		if err != nil {
			return nil, err
		}
		if i%cols == 0 {
			grid = append(grid, nil)
		}
		grid[len(grid)-1] = append(grid[len(grid)-1], p)
	}
	return grid, nil
}

// SaveActivations draws the curves, three panels to a row (fewer when
// there are fewer curves), each panel 3.2×2.6 inches, to path (.png or .svg).
func SaveActivations(curves []Curve, path string) error {
	if len(curves) == 0 {
		return fmt.Errorf("plot: %s: no activations to draw", path)
	}
	cols := min(3, len(curves))
	grid, err := ActivationFigure(curves, cols)
	if err != nil {
		return err
	}
	w := vg.Length(cols) * 3.2 * vg.Inch
	h := vg.Length(len(grid)) * 2.6 * vg.Inch
	return SaveGrid(grid, path, w, h)
}

func xys(x, y []float64) plotter.XYs {
	pts := make(plotter.XYs, len(x))
	for i := range x {
		pts[i].X, pts[i].Y = x[i], y[i]
	}
	return pts
}
