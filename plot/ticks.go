package plot

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// roundTicks marks a linear axis at the multiples of a round step (1, 2
// or 5 × 10ᵏ) that fall in its range, with unlabelled minor ticks halfway
// between: 0, the value every activation panel is read against, is a
// major tick whenever the range holds it (gonum's default ticks may skip
// it, as they did on the ELU panel: −1, 3, 7). Labels have as many
// decimals as the step needs.
type roundTicks struct{}

// Ticks returns the ticks for [lo, hi].
func (roundTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	step := roundStep((hi - lo) / 5) // 3 to 6 labelled ticks
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	var ticks []plot.Tick
	first := math.Ceil(lo/step - 1e-9)
	for k := first; k*step <= hi+1e-9*step; k++ {
		v := k * step
		if k == 0 {
			v = 0 // not −0, not 1e-17
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', decimals, 64)})
		if m := v + step/2; m <= hi {
			ticks = append(ticks, plot.Tick{Value: m})
		}
	}
	if first*step-step/2 >= lo {
		ticks = append(ticks, plot.Tick{Value: first*step - step/2})
	}
	return ticks
}

// roundStep returns the smallest of 1, 2 and 5 × 10ᵏ that is at least raw.
func roundStep(raw float64) float64 {
	p := math.Pow10(int(math.Floor(math.Log10(raw))))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}
