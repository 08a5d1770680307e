package plot

import (
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/train"
)

// checkFigure decodes the PNG at path, checks its size in pixels (at DPI)
// and that it is not blank: several colours and a fair amount of ink.
func checkFigure(t *testing.T, path string, wIn, hIn float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	if w, h := int(math.Round(wIn*DPI)), int(math.Round(hIn*DPI)); b.Dx() != w || b.Dy() != h {
		t.Fatalf("%s is %d×%d pixels, want %d×%d", path, b.Dx(), b.Dy(), w, h)
	}
	ink, colours := countInk(img)
	if frac := float64(ink) / float64(b.Dx()*b.Dy()); frac < 0.01 || colours < 3 {
		t.Fatalf("%s looks blank: %.2f%% of pixels inked, %d colours", path, 100*frac, colours)
	}
}

func countInk(img image.Image) (nonWhite, colours int) {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r >> 8, g >> 8, bl >> 8, a >> 8}] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				nonWhite++
			}
		}
	}
	return nonWhite, len(seen)
}

func fptr(v float64) *float64 { return &v }

func TestCurveSeries(t *testing.T) {
	ms := []train.Metrics{
		{Epoch: 1, TrainLoss: 1.0, TrainAcc: 0.5, LR: 0.1, ValLoss: fptr(1.1), ValAcc: fptr(0.4)},
		{Epoch: 2, TrainLoss: 0.5, TrainAcc: 0.8, LR: 0.05, ValLoss: fptr(0.7), ValAcc: fptr(0.7)},
	}
	loss, acc, lr := CurveSeries(ms, CurveOptions{})
	if len(loss) != 2 || len(acc) != 2 || len(lr) != 1 {
		t.Fatalf("%d loss, %d accuracy, %d lr series; want 2, 2, 1", len(loss), len(acc), len(lr))
	}
	if loss[1].Name != "validation" || loss[1].Y[1] != 0.7 || acc[0].Y[1] != 80 || lr[0].Y[1] != 0.05 || loss[0].X[1] != 2 {
		t.Fatalf("series %+v %+v %+v", loss, acc, lr)
	}
	ms[0].ValLoss, ms[0].ValAcc, ms[1].ValLoss, ms[1].ValAcc = nil, nil, nil, nil
	if loss, _, _ := CurveSeries(ms, CurveOptions{}); len(loss) != 1 {
		t.Fatal("a validation series without validation metrics")
	}
}

func TestSaveCurves(t *testing.T) {
	var ms []train.Metrics
	for e := 1; e <= 30; e++ {
		ms = append(ms, train.Metrics{Epoch: e, TrainLoss: 1 / float64(e), TrainAcc: 1 - 0.5/float64(e),
			ValLoss: fptr(1.2 / float64(e)), ValAcc: fptr(1 - 0.6/float64(e)), LR: 0.01 * math.Cos(float64(e)/20)})
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "curves.png")
	if err := SaveCurves(ms, path); err != nil {
		t.Fatal(err)
	}
	checkFigure(t, path, 12, 3.6)
	if err := SaveCurves(ms, filepath.Join(dir, "curves.svg")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "curves.svg")); !strings.Contains(string(b), "<svg") {
		t.Fatal("curves.svg is not SVG")
	}
	if err := SaveCurves(nil, path); err == nil {
		t.Fatal("no error for no metrics")
	}
	// One epoch (a single point per line) still draws.
	if err := SaveCurves(ms[:1], path); err != nil {
		t.Fatal(err)
	}
}

func TestSweepSeries(t *testing.T) {
	pts := []SweepPoint{
		{"relu", 256, 0.9}, {"tanh", 16, 0.5}, {"relu", 16, 0.6}, {"relu", 64, 0.8},
	}
	s := SweepSeries(pts)
	if len(s) != 2 || s[0].Name != "relu" || s[1].Name != "tanh" {
		t.Fatalf("series %+v", s)
	}
	if s[0].X[0] != 16 || s[0].X[2] != 256 || s[0].Y[0] != 60 || s[0].Y[2] != 90 {
		t.Fatalf("relu series not sorted by size: %+v", s[0])
	}
	path := filepath.Join(t.TempDir(), "sweep.png")
	if err := SaveSweep(pts, "test", path); err != nil {
		t.Fatal(err)
	}
	checkFigure(t, path, 7, 4.5)
	if err := SaveSweep(nil, "test", path); err == nil {
		t.Fatal("no error for an empty sweep")
	}
}

func TestLinePlotLogSkipsNonPositive(t *testing.T) {
	if _, err := LinePlot([]Series{{Name: "a", X: []float64{1, 2}, Y: []float64{0, -1}}}, LineOptions{LogY: true}); err == nil {
		t.Fatal("a log plot of no positive values drew")
	}
	if _, err := LinePlot([]Series{{Name: "a", X: []float64{1, 2, 3}, Y: []float64{0, 1e-3, 1}}}, LineOptions{LogY: true}); err != nil {
		t.Fatal(err)
	}
}

// An MNIST run has no validation set: its curves still name the training
// series, and draw the test set's evaluations when they are given.
func TestCurvesTrainLabelAndTest(t *testing.T) {
	ms := []train.Metrics{
		{Epoch: 1, TrainLoss: 0.4, TrainAcc: 0.9, LR: 0.1},
		{Epoch: 2, TrainLoss: 0.2, TrainAcc: 0.95, LR: 0.1},
	}
	o := CurveOptions{Test: []EpochEval{{Epoch: 1, Loss: 0.3, Acc: 0.92}, {Epoch: 2, Loss: 0.25, Acc: 0.94}}}
	loss, acc, _ := CurveSeries(ms, o)
	if len(loss) != 2 || loss[1].Name != "test" || loss[1].Y[1] != 0.25 || acc[1].Y[0] != 92 || acc[0].Y[1] != 95 {
		t.Fatalf("series %+v %+v", loss, acc)
	}
	path := filepath.Join(t.TempDir(), "curves.svg")
	if err := SaveCurvesWith(ms, o, path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, label := range []string{">train</text>", ">test</text>", ">accuracy (%)</text>"} {
		if n := strings.Count(string(b), label); n < 1 {
			t.Errorf("curves.svg has no %s", label)
		}
	}
	// Validation metrics named as what they are.
	ms[0].ValLoss, ms[0].ValAcc = fptr(0.5), fptr(0.8)
	if loss, _, _ := CurveSeries(ms, CurveOptions{ValName: "held-out"}); len(loss) != 2 || loss[1].Name != "held-out" {
		t.Fatalf("loss series %+v", loss)
	}
}

// The sweep figure: accuracy in percent, as the tables print it; the title
// off the top edge and the legend inside the right one.
func TestSweepPlotPercentAndMargins(t *testing.T) {
	var pts []SweepPoint
	for i, line := range []string{"relu, lr 0.1", "tanh, lr 0.1", "relu, lr 0.01", "tanh, lr 0.01"} {
		for j, size := range []float64{16, 64, 256, 1024} {
			pts = append(pts, SweepPoint{Line: line, Size: size, Acc: 0.84 + 0.02*float64(j) - 0.015*float64(i)})
		}
	}
	p, err := SweepPlot(pts, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Y.Label.Text, "%") || p.Y.Min < 70 || p.Y.Max > 110 {
		t.Fatalf("y axis %q over [%g, %g], want percent", p.Y.Label.Text, p.Y.Min, p.Y.Max)
	}
	labelled := 0
	for _, tk := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
		if tk.Label == "" {
			continue
		}
		labelled++
		if v, err := strconv.ParseFloat(tk.Label, 64); err != nil || v < 70 || v != math.Round(v) {
			t.Errorf("y tick %q: want whole percentages", tk.Label)
		}
	}
	if labelled < 3 {
		t.Errorf("%d labelled y ticks", labelled)
	}
	path := filepath.Join(t.TempDir(), "sweep.png")
	if err := SaveSweep(pts, "test", path); err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path, 7*DPI, int(4.5*DPI))
	b := img.Bounds()
	const edge = 3 // pixels
	top := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(b.Min.X, b.Min.Y, b.Max.X, b.Min.Y+edge))
	right := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(b.Max.X-edge, b.Min.Y, b.Max.X, b.Max.Y))
	if n, _ := inked(top); n > 0 {
		t.Errorf("%d inked pixels in the top %d rows: the title touches the edge", n, edge)
	}
	if n, _ := inked(right); n > 0 {
		t.Errorf("%d inked pixels in the right %d columns: the legend is clipped", n, edge)
	}
}

// Results come from files: NaN and infinite accuracies are left out of
// the figure, not drawn as a NaN axis (a panic in gonum).
func TestSweepNonFinite(t *testing.T) {
	pts := []SweepPoint{{"relu", 16, math.NaN()}, {"relu", 64, 0.9}, {"tanh", 16, math.Inf(1)}, {"tanh", 64, 0.8}}
	p, err := SweepPlot(pts, "test")
	if err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(p.Y.Min) || math.IsInf(p.Y.Max, 0) || p.Y.Min > 80 || p.Y.Max < 90 {
		t.Fatalf("y range [%g, %g]", p.Y.Min, p.Y.Max)
	}
	if err := SaveSweep(pts, "test", filepath.Join(t.TempDir(), "s.png")); err != nil {
		t.Fatal(err)
	}
	if _, err := SweepPlot([]SweepPoint{{"relu", 16, math.NaN()}}, "test"); err == nil {
		t.Fatal("no error for a sweep with nothing finite")
	}
}
