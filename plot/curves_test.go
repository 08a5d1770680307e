package plot

import (
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
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
	loss, acc, lr := CurveSeries(ms)
	if len(loss) != 2 || len(acc) != 2 || len(lr) != 1 {
		t.Fatalf("%d loss, %d accuracy, %d lr series; want 2, 2, 1", len(loss), len(acc), len(lr))
	}
	if loss[1].Name != "validation" || loss[1].Y[1] != 0.7 || acc[0].Y[1] != 0.8 || lr[0].Y[1] != 0.05 || loss[0].X[1] != 2 {
		t.Fatalf("series %+v %+v %+v", loss, acc, lr)
	}
	ms[0].ValLoss, ms[0].ValAcc, ms[1].ValLoss, ms[1].ValAcc = nil, nil, nil, nil
	if loss, _, _ := CurveSeries(ms); len(loss) != 1 {
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
	if s[0].X[0] != 16 || s[0].X[2] != 256 || s[0].Y[0] != 0.6 || s[0].Y[2] != 0.9 {
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
