package plot

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

func linePlot(t *testing.T) *plot.Plot {
	t.Helper()
	p := plot.New()
	p.Title.Text = "line"
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}, {X: 2, Y: 0}})
	if err != nil {
		t.Fatal(err)
	}
	p.Add(l)
	return p
}

// readPNG decodes the PNG at path and checks its size.
func readPNG(t *testing.T, path string, w, h int) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if got := img.Bounds().Size(); got.X != w || got.Y != h {
		t.Fatalf("%s is %v, want %dx%d", path, got, w, h)
	}
	return img
}

// inked counts the pixels of img that are not white, and the distinct colours.
func inked(img image.Image) (nonWhite, colours int) {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				nonWhite++
			}
		}
	}
	return nonWhite, len(seen)
}

func TestSavePNGAndSVG(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "a.PNG")
	if err := Save(linePlot(t), png, 3*vg.Inch, 2*vg.Inch); err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, png, 3*DPI, 2*DPI)
	if n, _ := inked(img); n < 200 {
		t.Errorf("only %d inked pixels", n)
	}
	svg := filepath.Join(dir, "a.svg")
	if err := Save(linePlot(t), svg, 3*vg.Inch, 2*vg.Inch); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(svg)
	if !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("line")) {
		t.Errorf("%s does not look like an SVG with the title", svg)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	err := Save(linePlot(t), filepath.Join(dir, "a.jpg"), vg.Inch, vg.Inch)
	if err == nil || !strings.Contains(err.Error(), ".png or .svg") {
		t.Errorf("jpg: got %v", err)
	}
	if err := Save(linePlot(t), filepath.Join(dir, "no", "such", "a.png"), vg.Inch, vg.Inch); err == nil {
		t.Error("missing folder: no error")
	}
	if err := SaveGrid(nil, filepath.Join(dir, "g.png"), vg.Inch, vg.Inch); err == nil {
		t.Error("empty grid: no error")
	}
}

func TestSaveGrid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.png")
	// A ragged grid: the second row's missing tile stays empty.
	grid := [][]*plot.Plot{{linePlot(t), linePlot(t)}, {linePlot(t), nil}}
	if err := SaveGrid(grid, path, 4*vg.Inch, 4*vg.Inch); err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path, 4*DPI, 4*DPI)
	quad := func(x0, y0 int) int {
		n, _ := inked(img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(x0, y0, x0+2*DPI, y0+2*DPI)))
		return n
	}
	for _, q := range [][2]int{{0, 0}, {2 * DPI, 0}, {0, 2 * DPI}} {
		if n := quad(q[0], q[1]); n < 200 {
			t.Errorf("tile at %v has only %d inked pixels", q, n)
		}
	}
	if n := quad(2*DPI, 2*DPI); n != 0 {
		t.Errorf("the empty tile has %d inked pixels", n)
	}
}

// Errors start with "plot: " once: the command line adds its own prefix,
// and a doubled one ("plot: plot:") reads as a stutter.
func TestErrorPrefixOnce(t *testing.T) {
	dir := t.TempDir()
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	add(Save(linePlot(t), filepath.Join(dir, "a.jpg"), vg.Inch, vg.Inch))
	add(Save(linePlot(t), filepath.Join(dir, "no", "a.png"), vg.Inch, vg.Inch))
	os.Mkdir(filepath.Join(dir, "d.png"), 0o755)
	add(Save(linePlot(t), filepath.Join(dir, "d.png"), vg.Inch, vg.Inch)) // a folder
	add(SaveGrid(nil, filepath.Join(dir, "g.png"), vg.Inch, vg.Inch))
	add(SaveSweep(nil, "test", filepath.Join(dir, "s.png")))
	add(SaveCurves(nil, filepath.Join(dir, "c.png")))
	_, err := Activations([]string{"nope"}, -1, 1, 10)
	add(err)
	_, err = LinePlot([]Series{{Name: "a", X: []float64{1}, Y: []float64{-1}}}, LineOptions{LogY: true})
	add(err)
	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "plot: ") || strings.Count(msg, "plot:") != 1 {
			t.Errorf("case %d: %q: want one \"plot: \" prefix", i, msg)
		}
	}
}
