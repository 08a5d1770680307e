package plot

import (
	"image"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/train"
)

// A model's logits fall outside the recorded range [−4, 4): their panel
// shows them as bars at its ends instead of staying empty.
func TestHistBarsOutside(t *testing.T) {
	h := train.Histogram{Lo: -4, Hi: 4, Counts: make([]int, 8), Below: 300, Above: 700}
	bars, xmin, xmax := HistBars(h)
	if len(bars) != 10 || !bars[0].Outside || !bars[9].Outside || bars[0].Frac != 0.3 || bars[9].Frac != 0.7 {
		t.Fatalf("bars %+v", bars)
	}
	if bars[0].Max != -4 || bars[9].Min != 4 || xmin >= -4 || xmax <= 4 {
		t.Fatalf("outside bars at [%g, %g) and [%g, %g), x range [%g, %g]", bars[0].Min, bars[0].Max, bars[9].Min, bars[9].Max, xmin, xmax)
	}
	for _, b := range bars[1:9] {
		if b.Frac != 0 || b.Outside {
			t.Fatalf("in-range bar %+v", b)
		}
	}

	// The panel in a figure: the grey of the outside bars is there.
	rec := train.StepRecord{Step: 7, Layers: []train.LayerRecord{{Index: 2, Layer: "Linear(64, 10)", Kind: "linear", Hist: h}}}
	path := filepath.Join(t.TempDir(), "hist.png")
	if err := SaveActivationHist(rec, path); err != nil {
		t.Fatal(err)
	}
	checkFigure(t, path, 3.4, 2.8)
	w, h2 := 3.4*DPI, 2.8*DPI
	img := readPNG(t, path, int(math.Round(w)), int(math.Round(h2)))
	if n := countNear(img, 0xa0, 0xa0, 0xa0); n < 200 {
		t.Errorf("%d pixels of the outside bars' grey, want a visible bar", n)
	}
}

// Outputs that crowd into a corner of the range are drawn over the part
// they occupy, not the whole fixed range.
func TestHistBarsRangeFromData(t *testing.T) {
	counts := make([]int, 40) // [0, 4) in bins of 0.1
	counts[0], counts[1], counts[2] = 50, 30, 20
	bars, xmin, xmax := HistBars(train.Histogram{Lo: 0, Hi: 4, Counts: counts})
	if len(bars) != 40 || bars[0].Frac != 0.5 {
		t.Fatalf("bars %+v", bars[:3])
	}
	if xmin != -0.05 || xmax < 0.3 || xmax > 0.36 {
		t.Fatalf("x range [%g, %g], want about [-0.05, 0.35]", xmin, xmax)
	}
	// Nothing counted: the whole range.
	if _, xmin, xmax := HistBars(train.Histogram{Lo: -1, Hi: 1, Counts: make([]int, 4)}); xmin != -1 || xmax != 1 {
		t.Fatalf("empty histogram: x range [%g, %g]", xmin, xmax)
	}
}

// countNear counts the pixels within 12 levels of the colour r, g, b.
func countNear(img image.Image, r, g, b uint8) int {
	n := 0
	near := func(a uint32, c uint8) bool { d := int(a>>8) - int(c); return d >= -12 && d <= 12 }
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if near(pr, r) && near(pg, g) && near(pb, b) {
				n++
			}
		}
	}
	return n
}

// Records come from files: a histogram that cannot be drawn is an error,
// not a panic or an empty panel.
func TestHistMalformed(t *testing.T) {
	for _, h := range []train.Histogram{
		{Lo: 0, Hi: math.Inf(1), Counts: []int{1}},
		{Lo: math.NaN(), Hi: 1, Counts: []int{1}},
		{Lo: 1, Hi: 0, Counts: []int{1}},
		{Lo: 0, Hi: 1, Counts: []int{1, -2}},
		{Lo: 0, Hi: 1, Counts: []int{1}, Below: -1},
		{Lo: 0, Hi: 1, Below: 3},
	} {
		if bars, _, _ := HistBars(h); bars != nil {
			t.Errorf("%+v: bars %+v", h, bars)
		}
		if _, err := HistPanel(train.LayerRecord{Index: 1, Hist: h}, 1); err == nil || !strings.HasPrefix(err.Error(), "plot: layer 1: ") {
			t.Errorf("%+v: error %v", h, err)
		}
	}
}
