package plot

import (
	"path/filepath"
	"testing"

	"github.com/nabla-go/nabla/train"
)

// fakeRecords: three Linear layers with tanh between them, whose weight
// gradients shrink tenfold per layer towards the input and over the steps.
func fakeRecords(steps ...int) []train.StepRecord {
	var recs []train.StepRecord
	for _, s := range steps {
		r := train.StepRecord{Step: s}
		for i := range 5 {
			l := train.LayerRecord{Index: i, Layer: "Linear(8, 8)", Kind: "linear", Mean: 0.1, Std: 0.9}
			if i%2 == 1 {
				l.Layer, l.Kind, l.Saturated = "Tanh()", "tanh", fptr(0.25)
			} else {
				l.WeightGradNorm = fptr(1e-3 * float64(int(1)<<i) / float64(s))
			}
			lo, hi := train.HistRange(l.Kind)
			l.Hist = train.Histogram{Lo: lo, Hi: hi, Counts: []int{1, 4, 9, 16, 9, 4, 1, 0}, Above: 2}
			r.Layers = append(r.Layers, l)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestGradFlowSeries(t *testing.T) {
	recs := fakeRecords(1, 10, 20)
	s := GradFlowSeries(recs)
	if len(s) != 3 {
		t.Fatalf("%d series, want one per Linear layer (3)", len(s))
	}
	if s[2].Name != "layer 3 (index 4)" || len(s[2].X) != 3 || s[2].X[1] != 10 || s[2].Y[1] != 1.6e-3 {
		t.Fatalf("last layer's series %+v", s[2])
	}
	p := LayerProfile(recs[0])
	if len(p.X) != 3 || p.X[0] != 1 || p.Y[0] != 1e-3 || p.Y[2] != 1.6e-2 {
		t.Fatalf("profile %+v", p)
	}
}

func TestSaveGradFlowAndHist(t *testing.T) {
	dir := t.TempDir()
	recs := fakeRecords(1, 10, 20, 30)
	path := filepath.Join(dir, "gradflow.png")
	if err := SaveGradFlow(recs, path); err != nil {
		t.Fatal(err)
	}
	checkFigure(t, path, 11, 4)
	hist := filepath.Join(dir, "activations-hist.png")
	if err := SaveActivationHist(recs[len(recs)-1], hist); err != nil {
		t.Fatal(err)
	}
	checkFigure(t, hist, 4*3.4, 2*2.8) // five layers: two rows of four
	if err := SaveGradFlow(nil, path); err == nil {
		t.Fatal("no error for no records")
	}
	prof := filepath.Join(dir, "profile.png")
	if err := SaveLayerProfiles([]Series{LayerProfile(recs[0]), LayerProfile(recs[3])}, "t", "y", prof); err != nil {
		t.Fatal(err)
	}
	checkFigure(t, prof, 8, 4.5)
}
