package plot

import (
	"bytes"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"

	"github.com/nabla-go/nabla/nn"
)

// The derivative curves come from autodiff; check them against central
// differences of the function itself, in float64, away from the kinks.
func TestActivationDerivativesMatchFiniteDifferences(t *testing.T) {
	curves, err := Activations(nil, -6, 6, 241)
	if err != nil {
		t.Fatal(err)
	}
	if len(curves) != len(nn.ActivationNames()) {
		t.Fatalf("%d curves, want one per activation (%d)", len(curves), len(nn.ActivationNames()))
	}
	const h = 1e-5
	kinked := map[string]bool{"relu": true, "leaky-relu": true, "elu": true}
	for _, c := range curves {
		m, _ := nn.ActivationByName(c.Name)
		var xp, xm []float64
		for _, x := range c.X {
			xp, xm = append(xp, x+h), append(xm, x-h)
		}
		fp, _ := valueAndGrad(m, xp)
		fm, _ := valueAndGrad(m, xm)
		worst := 0.0
		for i, x := range c.X {
			if kinked[c.Name] && math.Abs(x) < 2*h {
				continue
			}
			fd := (fp[i] - fm[i]) / (2 * h)
			worst = max(worst, math.Abs(fd-c.DY[i]))
		}
		if worst > 1e-6 {
			t.Errorf("%s: autodiff derivative differs from central differences by %g", c.Name, worst)
		}
	}
}

func TestActivationStats(t *testing.T) {
	curves, err := Activations(nil, -5, 5, 401)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]Stats{}
	for _, c := range curves {
		by[c.Name] = c.Stats
	}
	near := func(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
	type want struct {
		maxGrad, at, grad0 float64
		saturates          string
		zeroCentred        bool
	}
	for name, w := range map[string]want{
		"relu":       {1, 0.025, 0, "left", false}, // ReLU'(0) = 0: PyTorch's convention
		"leaky-relu": {1, 0.025, 0.01, "no", true}, // the slope at 0
		"sigmoid":    {0.25, 0, 0.25, "both", false},
		"tanh":       {1, 0, 1, "both", true},
		"elu":        {1, 0, 1, "left", true}, // ELU'(0) = α
		"gelu":       {1.1289, 1.425, 0.5, "left", true},
		"gelu-tanh":  {1.1289, 1.425, 0.5, "left", true},
		"silu":       {1.0998, 2.4, 0.5, "left", true},
		"softplus":   {1 / (1 + math.Exp(-5)), 5, 0.5, "left", false},
	} {
		s, ok := by[name]
		if !ok {
			t.Errorf("no curve for %s", name)
			continue
		}
		if !near(s.MaxGrad, w.maxGrad, 1e-4) || !near(s.ArgMaxGrad, w.at, 1e-9) {
			t.Errorf("%s: max f' %g at %g, want %g at %g", name, s.MaxGrad, s.ArgMaxGrad, w.maxGrad, w.at)
		}
		if !near(s.GradAt0, w.grad0, 1e-12) {
			t.Errorf("%s: f'(0) = %g, want %g", name, s.GradAt0, w.grad0)
		}
		if got := s.Saturates(); got != w.saturates {
			t.Errorf("%s: saturates %q, want %q (f' = %g, %g at the ends)", name, got, w.saturates, s.GradLeft, s.GradRight)
		}
		if s.ZeroCentred != w.zeroCentred {
			t.Errorf("%s: zero-centred %v, want %v", name, s.ZeroCentred, w.zeroCentred)
		}
	}
	if s := by["sigmoid"]; !near(s.Min, 1/(1+math.Exp(5)), 1e-12) || !near(s.Max, 1/(1+math.Exp(-5)), 1e-12) || s.TrueRange != "(0, 1)" {
		t.Errorf("sigmoid range [%g, %g] (true %s)", s.Min, s.Max, s.TrueRange)
	}
}

// The true ranges stated from the maths hold every value on a wide grid,
// and the finite lower bounds of GELU and SiLU are reached.
func TestActivationTrueRanges(t *testing.T) {
	curves, err := Activations(nil, -20, 20, 40001)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range curves {
		s := c.Stats
		if s.Min < s.TrueLo-1e-5 || s.Max > s.TrueHi+1e-5 {
			t.Errorf("%s: values [%g, %g] outside the true range %s", c.Name, s.Min, s.Max, s.TrueRange)
		}
		if !math.IsInf(s.TrueLo, 0) && math.Abs(s.Min-s.TrueLo) > 1e-4 {
			t.Errorf("%s: minimum %g, but the true range says %g", c.Name, s.Min, s.TrueLo)
		}
	}
}

func TestActivationErrors(t *testing.T) {
	for _, tc := range []struct {
		names  []string
		lo, hi float64
		points int
		want   string
	}{
		{[]string{"relu", "swishy"}, -1, 1, 10, "valid: relu, leaky-relu"},
		{nil, 1, -1, 10, "bad range"},
		{nil, 1, 1, 10, "bad range"},
		{nil, math.Inf(-1), 1, 10, "bad range"},
		{nil, math.NaN(), 1, 10, "bad range"},
		{nil, -1, 1, 1, "at least 2"},
	} {
		_, err := Activations(tc.names, tc.lo, tc.hi, tc.points)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Activations(%v, %g, %g, %d): %v, want an error with %q", tc.names, tc.lo, tc.hi, tc.points, err, tc.want)
		}
	}
}

func TestSaveActivationsPNG(t *testing.T) {
	curves, err := Activations([]string{"relu", "sigmoid", "tanh", "gelu"}, -5, 5, 101)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "act.png")
	if err := SaveActivations(curves, path); err != nil {
		t.Fatal(err)
	}
	// 4 panels: 3 to a row, 2 rows, 3.2×2.6 inches each.
	w, h := 3*3.2*DPI, 2*2.6*DPI
	img := readPNG(t, path, int(math.Round(w)), int(math.Round(h)))
	n, colours := inked(img)
	if n < 5000 || colours < 20 {
		t.Errorf("figure looks blank: %d inked pixels, %d colours", n, colours)
	}
	// Both curve colours are there.
	var blue, red int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			switch {
			case r>>8 == uint32(FuncColor.R) && g>>8 == uint32(FuncColor.G) && bl>>8 == uint32(FuncColor.B):
				blue++
			case r>>8 == uint32(GradColor.R) && g>>8 == uint32(GradColor.G) && bl>>8 == uint32(GradColor.B):
				red++
			}
		}
	}
	if blue < 100 || red < 100 {
		t.Errorf("curve pixels: %d of f, %d of f'", blue, red)
	}
	if err := SaveActivations(nil, path); err == nil {
		t.Error("no curves: no error")
	}
}

func TestWriteActivationTable(t *testing.T) {
	curves, err := Activations([]string{"sigmoid", "relu"}, -5, 5, 401)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteActivationTable(&buf, curves); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	if !strings.HasPrefix(lines[0], "activation") || !strings.HasPrefix(lines[1], "sigmoid") || !strings.HasPrefix(lines[2], "relu") {
		t.Fatalf("table:\n%s", buf.String())
	}
	if f := strings.Fields(lines[1]); len(f) != 10 || f[3] != "(0," || f[5] != "0.25" || f[7] != "both" {
		t.Errorf("sigmoid row %q", lines[1])
	}
}

// Every activation panel has a labelled tick at 0 on both axes, where
// they cross (the ELU panel's y ticks were −1, 3, 7).
func TestActivationPanelTicksHoldZero(t *testing.T) {
	for _, r := range [][2]float64{{-5, 5}, {-3, 2}, {-10, 10}} {
		curves, err := Activations(nil, r[0], r[1], 201)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range curves {
			p, err := ActivationPanel(c)
			if err != nil {
				t.Fatal(err)
			}
			for axis, a := range map[string]*plot.Axis{"x": &p.X, "y": &p.Y} {
				var labels []string
				zero := false
				for _, tk := range a.Tick.Marker.Ticks(a.Min, a.Max) {
					if tk.Label != "" {
						labels = append(labels, tk.Label)
						v, err := strconv.ParseFloat(tk.Label, 64)
						zero = zero || (tk.Value == 0 && err == nil && v == 0)
					}
				}
				if !zero || len(labels) < 3 {
					t.Errorf("%s on [%g, %g]: %s ticks %v, want 0 among at least 3", c.Name, r[0], r[1], axis, labels)
				}
			}
		}
	}
}
