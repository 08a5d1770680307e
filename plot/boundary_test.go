package plot

import (
	"errors"
	"image"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

func testMLP(t *testing.T, in int) *nn.Sequential {
	t.Helper()
	m, err := nn.NewMLP(nn.MLPConfig{In: in, Hidden: []int{16}, Out: 3, Activation: "tanh"}, tensor.NewRand(3))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The grid's classes are the model's own answers, point by point.
func TestBoundaryGridMatchesModel(t *testing.T) {
	ds := data.Spiral(50, 3, 0.2, tensor.NewRand(1))
	m := testMLP(t, 2)
	fig, err := Boundary(m, ds, BoundaryOptions{Resolution: 40})
	if err != nil {
		t.Fatal(err)
	}
	g := fig.Grid
	if g.NX != 40 || g.NY != 40 || len(g.Class) != 1600 {
		t.Fatalf("grid %d×%d with %d classes", g.NX, g.NY, len(g.Class))
	}
	seen := map[int]bool{}
	for j := range g.NY {
		for i := range g.NX {
			x := ag.Const(tensor.FromFloat32([]float32{float32(g.X(i)), float32(g.Y(j))}, 1, 2))
			want := tensor.ArgMax(m.Forward(x).Value(), 1)[0]
			if got := g.Class[j*g.NX+i]; got != want {
				t.Fatalf("cell (%d, %d) at (%g, %g): class %d, the model says %d", i, j, g.X(i), g.Y(j), got, want)
			}
			seen[want] = true
		}
	}
	if len(seen) < 2 {
		t.Errorf("the plane holds only classes %v: no boundary to see", seen)
	}
	// The grid covers every point, with a margin.
	for i := range ds.Len() {
		x, y := ds.X.At(i, 0), ds.X.At(i, 1)
		if x <= g.XMin || x >= g.XMax || y <= g.YMin || y >= g.YMax {
			t.Fatalf("point (%g, %g) outside the grid [%g, %g]×[%g, %g]", x, y, g.XMin, g.XMax, g.YMin, g.YMax)
		}
	}
	// The accuracy in the title is the model's.
	pred, _ := Predict(m, ds.X, 7)
	correct := 0
	for i, c := range pred {
		if c == ds.Y[i] {
			correct++
		}
	}
	if want := float64(correct) / float64(ds.Len()); fig.Accuracy != want {
		t.Errorf("accuracy %g, want %g", fig.Accuracy, want)
	}
}

func TestBoundaryPNG(t *testing.T) {
	ds := data.Spiral(50, 3, 0.2, tensor.NewRand(1))
	fig, err := Boundary(testMLP(t, 2), ds, BoundaryOptions{Resolution: 60})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "b.png")
	if err := Save(fig.Plot, path, 5*vg.Inch, 5*vg.Inch); err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path, 5*DPI, 5*DPI)
	// The middle of the figure is the plot area: every pixel there is a
	// region colour, a point or an outline, never white.
	mid := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(2*DPI, 2*DPI, 3*DPI, 3*DPI))
	n, colours := inked(mid)
	if n != DPI*DPI || colours < 3 {
		t.Errorf("plot area: %d of %d pixels inked, %d colours", n, DPI*DPI, colours)
	}
	regions := map[int]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			for k := range 3 {
				c := RegionColor(k)
				if r>>8 == uint32(c.R) && g>>8 == uint32(c.G) && bl>>8 == uint32(c.B) {
					regions[k]++
				}
			}
		}
	}
	if len(regions) < 2 {
		t.Errorf("region colours found: %v", regions)
	}
}

func TestBoundaryNot2D(t *testing.T) {
	ds := data.Spiral(10, 3, 0.2, tensor.NewRand(1))
	if _, err := Boundary(testMLP(t, 3), ds, BoundaryOptions{}); !errors.Is(err, ErrNot2D) {
		t.Errorf("model of width 3: %v", err)
	}
	ds3 := &data.InMemory{X: tensor.New(tensor.Float32, 4, 3), Y: []int{0, 1, 2, 0}, NumClasses: 3, Name: "cube"}
	if _, err := Boundary(testMLP(t, 3), ds3, BoundaryOptions{}); !errors.Is(err, ErrNot2D) {
		t.Errorf("3-D data: %v", err)
	}
	if _, err := PredictGrid(testMLP(t, 2), 1, 0, 0, 1, 10, 10); err == nil {
		t.Error("reversed grid: no error")
	}
}
