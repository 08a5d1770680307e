package optim

import (
	"fmt"
	"math"

	"github.com/nabla-go/nabla/tensor"
)

// ReduceOnPlateau lowers the learning rate when a metric stops improving,
// as torch's ReduceLROnPlateau: after each evaluation the caller passes
// the metric to Report, and reads the rate with LR.
//
// A metric improves on the best so far when it is below best·(1 −
// Threshold) ("min", "rel"), below best − Threshold ("min", "abs"), above
// best·(1 + Threshold) ("max", "rel") or above best + Threshold ("max",
// "abs"). After more than Patience reports in a row without improvement
// the rate becomes max(rate·Factor, MinLR) (unchanged when that lowers it
// by Eps or less), and the next Cooldown reports are not counted.
//
// Set the fields before the first Report. A nil field takes torch's
// default; any value set, 0 included, is used as written.
//
// The rate depends on the metrics reported, not on the step: LR ignores
// its argument (see Schedule and Reporter).
type ReduceOnPlateau struct {
	Mode          string   // "min" (also when empty) or "max"
	Factor        *float64 // multiplies the rate on a plateau, in [0, 1); nil: 0.1
	Patience      *int     // reports without improvement tolerated; nil: 10
	Threshold     *float64 // how much better counts as an improvement; nil: 1e-4
	ThresholdMode string   // "rel" (also when empty) or "abs"
	Cooldown      int      // reports ignored after a reduction
	MinLR         float64  // the rate never goes below this
	Eps           *float64 // smaller reductions are skipped; nil: 1e-8

	lr        float64
	best      float64
	seen      bool // best is set (torch starts it at ±inf)
	numBad    int
	cooldown  int
	lastEpoch int
}

// NewReduceOnPlateau returns a plateau schedule starting at lr with
// torch's defaults (every field unset): mode "min", factor 0.1, patience
// 10, threshold 1e-4 relative, no cooldown, no minimum, eps 1e-8.
func NewReduceOnPlateau(lr float64) *ReduceOnPlateau { return &ReduceOnPlateau{lr: lr} }

// LR returns the current rate, the result of the reports so far. It
// ignores its argument: the rate of a plateau schedule is not a function
// of the step (see Schedule).
func (r *ReduceOnPlateau) LR(int) float64 { return r.lr }

// SetLR sets the current rate (to start a zero-value ReduceOnPlateau).
func (r *ReduceOnPlateau) SetLR(lr float64) { r.lr = lr }

// Report records one evaluation of the metric and lowers the rate if it
// has stopped improving. It panics on an unknown Mode or ThresholdMode, a
// Factor not in [0, 1), or a negative Patience, Threshold or Eps.
func (r *ReduceOnPlateau) Report(metric float64) {
	maxMode := r.Mode == "max"
	if r.Mode != "" && r.Mode != "min" && !maxMode {
		panic(fmt.Sprintf("optim.ReduceOnPlateau: unknown mode %q (want min or max)", r.Mode))
	}
	if r.ThresholdMode != "" && r.ThresholdMode != "rel" && r.ThresholdMode != "abs" {
		panic(fmt.Sprintf("optim.ReduceOnPlateau: unknown threshold mode %q (want rel or abs)", r.ThresholdMode))
	}
	factor := valueOr(r.Factor, 0.1)
	if !(factor >= 0 && factor < 1) {
		panic(fmt.Sprintf("optim.ReduceOnPlateau: factor %v must be in [0, 1)", factor))
	}
	patience, eps := valueOr(r.Patience, 10), valueOr(r.Eps, 1e-8)
	if patience < 0 || !(valueOr(r.Threshold, 1e-4) >= 0) || !(eps >= 0) {
		panic(fmt.Sprintf("optim.ReduceOnPlateau: patience %d, threshold %v and eps %v must not be negative", patience, valueOr(r.Threshold, 1e-4), eps))
	}
	r.lastEpoch++
	if !r.seen {
		r.seen = true
		r.best = math.Inf(1)
		if maxMode {
			r.best = math.Inf(-1)
		}
	}
	if r.better(metric, maxMode) {
		r.best = metric
		r.numBad = 0
	} else {
		r.numBad++
	}
	if r.cooldown > 0 {
		r.cooldown--
		r.numBad = 0
	}
	if r.numBad > patience {
		newLR := math.Max(r.lr*factor, r.MinLR)
		if r.lr-newLR > eps {
			r.lr = newLR
		}
		r.cooldown = r.Cooldown
		r.numBad = 0
	}
}

func (r *ReduceOnPlateau) better(a float64, maxMode bool) bool {
	abs := r.ThresholdMode == "abs"
	th := valueOr(r.Threshold, 1e-4)
	switch {
	case !maxMode && !abs:
		return a < r.best*(1-th)
	case !maxMode:
		return a < r.best-th
	case !abs:
		return a > r.best*(th+1)
	default:
		return a > r.best+th
	}
}

// plateauKeys are the StateDict keys, in torch's names.
var plateauKeys = []string{"lr", "best", "num_bad_epochs", "cooldown_counter", "last_epoch"}

// StateDict returns the schedule's state (not its settings) as 0-d
// float64 tensors: "lr", "best" (±Inf before the first Report),
// "num_bad_epochs", "cooldown_counter" and "last_epoch".
func (r *ReduceOnPlateau) StateDict() map[string]*tensor.Tensor {
	best := r.best
	if !r.seen {
		best = math.Inf(1)
		if r.Mode == "max" {
			best = math.Inf(-1)
		}
	}
	vals := []float64{r.lr, best, float64(r.numBad), float64(r.cooldown), float64(r.lastEpoch)}
	m := make(map[string]*tensor.Tensor, len(vals))
	for i, k := range plateauKeys {
		m[k] = tensor.Scalar(tensor.Float64, vals[i])
	}
	return m
}

// LoadStateDict restores a state saved by StateDict. A missing key or a
// tensor that is not a scalar is an error naming the key, and leaves r
// unchanged.
func (r *ReduceOnPlateau) LoadStateDict(m map[string]*tensor.Tensor) error {
	vals := make([]float64, len(plateauKeys))
	for i, k := range plateauKeys {
		t, ok := m[k]
		if !ok || t == nil {
			return fmt.Errorf("optim: ReduceOnPlateau state: missing key %q", k)
		}
		if t.Dims() != 0 {
			return fmt.Errorf("optim: ReduceOnPlateau state: key %q has shape %v, want a scalar (shape [])", k, t.Shape())
		}
		vals[i] = t.Item()
		if i >= 2 && (vals[i] < 0 || vals[i] != math.Trunc(vals[i])) {
			return fmt.Errorf("optim: ReduceOnPlateau state: key %q is %v, want a whole number", k, vals[i])
		}
	}
	r.lr, r.best, r.seen = vals[0], vals[1], true
	r.numBad, r.cooldown, r.lastEpoch = int(vals[2]), int(vals[3]), int(vals[4])
	return nil
}
