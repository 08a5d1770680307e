package plot

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// ErrNot2D is returned (wrapped) when a model or data set is not 2-D:
// a decision boundary is drawn on the plane.
var ErrNot2D = errors.New("decision boundaries need 2-D data")

// PredictBatch is how many points Predict sends through the model at once.
const PredictBatch = 4096

// Predict returns the class the model gives each row of x ([N, D]): the
// argmax of its outputs. It runs the model in evaluation mode (no dropout),
// restoring its mode afterwards, on ag.Untracked inputs (no graph; safe
// beside training on another goroutine), PredictBatch rows at a time, with
// x converted to the model's dtype. A model that does not take D inputs is
// an error, not a panic.
func Predict(model nn.Module, x *tensor.Tensor, batch int) (classes []int, err error) {
	if x.Dims() != 2 {
		return nil, fmt.Errorf("plot: Predict wants [N, D] inputs, got %v", x.Shape())
	}
	if batch < 1 {
		batch = PredictBatch
	}
	if ps := model.Params(); len(ps) > 0 && ps[0].Node.DType() != x.DType() {
		x = x.AsType(ps[0].Node.DType())
	}
	was := nn.IsTraining(model)
	nn.SetTraining(model, false)
	defer nn.SetTraining(model, was)
	n := x.Dim(0)
	classes = make([]int, 0, n)
	err = tensor.Try(func() {
		for i := 0; i < n; i += batch {
			out := model.Forward(ag.Untracked(tensor.Slice(x, 0, i, min(i+batch, n)))).Value()
			classes = append(classes, tensor.ArgMax(out, 1)...)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("plot: the model does not take inputs of width %d: %w", x.Dim(1), err)
	}
	return classes, nil
}

// BoundaryGrid is a model's predicted class at the centres of an NX×NY
// grid of cells over [XMin, XMax]×[YMin, YMax].
type BoundaryGrid struct {
	XMin, XMax, YMin, YMax float64
	NX, NY                 int
	// Class holds the predictions row by row from the bottom:
	// Class[j*NX+i] is the class at (X(i), Y(j)).
	Class []int
}

// X is the x of column i's cell centres.
func (g *BoundaryGrid) X(i int) float64 {
	return g.XMin + (float64(i)+0.5)*(g.XMax-g.XMin)/float64(g.NX)
}

// Y is the y of row j's cell centres.
func (g *BoundaryGrid) Y(j int) float64 {
	return g.YMin + (float64(j)+0.5)*(g.YMax-g.YMin)/float64(g.NY)
}

// Points returns the grid's cell centres as an [NX·NY, 2] float64 tensor,
// in the order of Class.
func (g *BoundaryGrid) Points() *tensor.Tensor {
	pts := make([]float64, 0, 2*g.NX*g.NY)
	for j := range g.NY {
		for i := range g.NX {
			pts = append(pts, g.X(i), g.Y(j))
		}
	}
	return tensor.FromFloat64(pts, g.NX*g.NY, 2)
}

// PredictGrid evaluates model at the centres of an nx×ny grid over
// [xmin, xmax]×[ymin, ymax] (see Predict).
func PredictGrid(model nn.Module, xmin, xmax, ymin, ymax float64, nx, ny int) (*BoundaryGrid, error) {
	if nx < 1 || ny < 1 || !(xmin < xmax) || !(ymin < ymax) {
		return nil, fmt.Errorf("plot: bad grid %d×%d over [%g, %g]×[%g, %g]", nx, ny, xmin, xmax, ymin, ymax)
	}
	g := &BoundaryGrid{XMin: xmin, XMax: xmax, YMin: ymin, YMax: ymax, NX: nx, NY: ny}
	var err error
	g.Class, err = Predict(model, g.Points(), PredictBatch)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// BoundaryOptions tunes Boundary; the zero value gives the defaults.
type BoundaryOptions struct {
	Resolution int     // grid cells along each axis (default 200)
	Margin     float64 // added on each side, as a fraction of the data's extent (default 0.1)
	Title      string  // before the accuracy in the title (default: the data set's name)
}

// BoundaryFigure is what Boundary draws, with the numbers behind it.
type BoundaryFigure struct {
	Plot     *plot.Plot
	Grid     *BoundaryGrid
	Accuracy float64 // of the model on the data set's points
}

// Boundary colours the plane by the class model predicts, over the
// bounding box of ds plus a margin, and overlays the points of ds coloured
// by their true class; the title gives the model's accuracy on them. A data
// set or model that is not 2-D is an error wrapping ErrNot2D.
func Boundary(model nn.Module, ds *data.InMemory, opts BoundaryOptions) (*BoundaryFigure, error) {
	if ds.Features() != 2 {
		return nil, fmt.Errorf("plot: %w: %s has %d features", ErrNot2D, ds.Name, ds.Features())
	}
	if ds.Len() == 0 {
		return nil, fmt.Errorf("plot: %s has no points", ds.Name)
	}
	if opts.Resolution < 1 {
		opts.Resolution = 200
	}
	if opts.Margin <= 0 {
		opts.Margin = 0.1
	}
	if opts.Title == "" {
		opts.Title = ds.Name
	}
	pred, err := Predict(model, ds.X, PredictBatch)
	if err != nil {
		return nil, fmt.Errorf("%w (%w)", err, ErrNot2D)
	}
	correct := 0
	for i, c := range pred {
		if c == ds.Y[i] {
			correct++
		}
	}
	x := ds.X.AsType(tensor.Float64)
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i := range ds.Len() {
		px, py := x.At(i, 0), x.At(i, 1)
		xmin, xmax, ymin, ymax = min(xmin, px), max(xmax, px), min(ymin, py), max(ymax, py)
	}
	mx, my := opts.Margin*max(xmax-xmin, 1e-9), opts.Margin*max(ymax-ymin, 1e-9)
	grid, err := PredictGrid(model, xmin-mx, xmax+mx, ymin-my, ymax+my, opts.Resolution, opts.Resolution)
	if err != nil {
		return nil, err
	}
	fig := &BoundaryFigure{Grid: grid, Accuracy: float64(correct) / float64(ds.Len())}

	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: accuracy %.1f%%", opts.Title, 100*fig.Accuracy)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text, p.Y.Label.Text = "x₀", "x₁"
	p.Add(plotter.NewImage(grid.image(), grid.XMin, grid.YMin, grid.XMax, grid.YMax))
	byClass := make([]plotter.XYs, max(ds.Classes(), 1))
	for i, y := range ds.Y {
		if y >= 0 && y < len(byClass) {
			byClass[y] = append(byClass[y], plotter.XY{X: x.At(i, 0), Y: x.At(i, 1)})
		}
	}
	for k, pts := range byClass {
		if len(pts) == 0 {
			continue
		}
		fill, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
		fill.GlyphStyle = draw.GlyphStyle{Color: ClassColor(k), Radius: vg.Points(2.2), Shape: draw.CircleGlyph{}}
		ring, _ := plotter.NewScatter(pts)
		ring.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(2.2), Shape: draw.RingGlyph{}}
		p.Add(fill, ring)
		p.Legend.Add(fmt.Sprintf("class %d", k), fill)
	}
	p.Legend.Top = true
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = grid.XMin, grid.XMax, grid.YMin, grid.YMax
	fig.Plot = p
	return fig, nil
}

// Save writes the figure to path, 6×6 inches (576×576 pixels as PNG), as
// PNG or SVG by the extension.
func (f *BoundaryFigure) Save(path string) error {
	return Save(f.Plot, path, 6*vg.Inch, 6*vg.Inch)
}

// classColors is the Tableau 10 palette (matplotlib's default cycle).
var classColors = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff},
}

// ClassColor is the colour of class k's points (cycling after 10 classes).
func ClassColor(k int) color.RGBA { return classColors[((k%10)+10)%10] }

// RegionColor is the colour of the plane where class k is predicted: the
// class colour faded 65% towards white.
func RegionColor(k int) color.RGBA {
	c := ClassColor(k)
	fade := func(v uint8) uint8 { return uint8(float64(v) + 0.65*float64(0xff-v) + 0.5) }
	return color.RGBA{fade(c.R), fade(c.G), fade(c.B), 0xff}
}

// image paints one pixel per cell, the top row of the image being the
// grid's top row (largest y).
func (g *BoundaryGrid) image() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, g.NX, g.NY))
	for j := range g.NY {
		for i := range g.NX {
			img.SetRGBA(i, g.NY-1-j, RegionColor(g.Class[j*g.NX+i]))
		}
	}
	return img
}
