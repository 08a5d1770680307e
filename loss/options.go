package loss

import (
	"fmt"
	"math"
	"slices"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// Reduction says how a loss combines its per-example (or per-element)
// values into what it returns, as PyTorch's reduction argument.
type Reduction int

const (
	// Mean averages, as PyTorch's reduction="mean" (its default, and the
	// zero value). With class weights, cross-entropy and NLL divide by the
	// sum of the weights of the counted labels instead of by their number,
	// as PyTorch does; ignored labels are never counted.
	Mean Reduction = iota
	// Sum adds the values up (reduction="sum").
	Sum
	// None returns the values unreduced (reduction="none"): one per
	// example for the classification losses, one per element otherwise.
	None
	// BatchMean divides the sum by the batch size, the first dimension
	// (KLDiv's reduction="batchmean", the one that gives the KL divergence
	// of the batch's distributions; only KLDiv accepts it).
	BatchMean
)

// String returns PyTorch's name for r.
func (r Reduction) String() string {
	switch r {
	case Mean:
		return "mean"
	case Sum:
		return "sum"
	case None:
		return "none"
	case BatchMean:
		return "batchmean"
	}
	return fmt.Sprintf("Reduction(%d)", int(r))
}

// defaultIgnoreIndex is PyTorch's ignore_index default.
const defaultIgnoreIndex = -100

// CrossEntropyOptions are the settings of CrossEntropyWith and
// SoftCrossEntropy, as torch.nn.functional.cross_entropy's keyword
// arguments. The zero value is PyTorch's defaults. A nil pointer field
// takes PyTorch's default; any value set is used as written (the rule of
// package optim too).
type CrossEntropyOptions struct {
	// Weight holds one weight per class, shape [C]; nil weighs every
	// class 1.
	Weight *tensor.Tensor
	// IgnoreIndex is a label whose examples count for nothing, not even
	// in the denominator of Mean; nil means −100, PyTorch's default (which
	// no class is). Class-index targets only.
	IgnoreIndex *int
	// LabelSmoothing ε mixes the target with the uniform distribution:
	// (1−ε)·target + ε/C. It must be in [0, 1].
	LabelSmoothing float64
	// Reduction combines the per-example losses (Mean by default).
	Reduction Reduction
}

// CrossEntropyWith is torch.nn.functional.cross_entropy of logits [N, C]
// against N class indices, with class weights, an ignored label, label
// smoothing and a reduction (see CrossEntropyOptions). With w the class
// weights, ℓ = log softmax(x) and ε the smoothing, the loss of example i
// is
//
//	(1−ε)·(−w[yᵢ]·ℓ[i, yᵢ]) + (ε/C)·(−Σ_c w[c]·ℓ[i, c])
//
// (0 when yᵢ is the ignored label), and Mean divides the sum of these by
// Σ w[yᵢ] over the examples not ignored, as PyTorch does; Mean over a
// batch whose labels are all ignored is NaN, as PyTorch's.
//
// It is composed from ag.LogSoftmax (stable), Gather and weighted sums, so
// it can be differentiated twice. A label outside [0, C) other than the
// ignored one, weights not of shape [C], or ε outside [0, 1] panic; so
// does BatchMean.
func CrossEntropyWith(logits *ag.Node, labels []int, o CrossEntropyOptions) *ag.Node {
	const op = "CrossEntropyWith"
	checkSmoothing(op, o.LabelSmoothing)
	w, keep, safe := classWeights(op, logits, labels, o.Weight, o.IgnoreIndex)
	lsm := ag.LogSoftmax(logits, 1)
	c := float64(logits.Shape()[1])
	perExample := ag.Neg(ag.Mul(ag.Gather(lsm, 1, safe), ag.Const(w.picked)))
	if eps := o.LabelSmoothing; eps > 0 {
		smooth := ag.Neg(ag.Sum(ag.Mul(lsm, ag.Const(w.class)), 1))
		smooth = ag.Mul(smooth, ag.Const(keep))
		perExample = ag.Add(ag.Scale(perExample, 1-eps), ag.Scale(smooth, eps/c))
	}
	return reduceClass(op, perExample, o.Reduction, w.total)
}

// NLLOptions are the settings of NLL, as torch.nn.functional.nll_loss's
// keyword arguments; the fields mean what CrossEntropyOptions' do.
type NLLOptions struct {
	Weight      *tensor.Tensor // [C] class weights; nil: all 1
	IgnoreIndex *int           // nil: −100, PyTorch's default
	Reduction   Reduction      // Mean by default
}

// NLL is the negative log-likelihood of log-probabilities [N, C] (from
// ag.LogSoftmax, say) against N class indices, as
// torch.nn.functional.nll_loss: example i's loss is −w[yᵢ]·x[i, yᵢ] (0 when
// yᵢ is the ignored label) and Mean divides the sum by Σ w[yᵢ] over the
// examples not ignored. NLL(LogSoftmax(x, 1), y, o) is CrossEntropyWith(x,
// y, o) without smoothing. Panics as CrossEntropyWith.
func NLL(logProbs *ag.Node, labels []int, o NLLOptions) *ag.Node {
	const op = "NLL"
	w, _, safe := classWeights(op, logProbs, labels, o.Weight, o.IgnoreIndex)
	perExample := ag.Neg(ag.Mul(ag.Gather(logProbs, 1, safe), ag.Const(w.picked)))
	return reduceClass(op, perExample, o.Reduction, w.total)
}

// SoftCrossEntropy is torch.nn.functional.cross_entropy of logits [N, C]
// against probability targets [N, C] (soft labels, rows summing to 1 for a
// proper cross-entropy, though that is not checked): with t' = (1−ε)·t +
// ε/C and ℓ = log softmax(x), example i's loss is
//
//	−Σ_c w[c]·t'[i, c]·ℓ[i, c]
//
// and Mean divides the sum by N (not by the weights: PyTorch's rule for
// probability targets). The target may require a gradient. IgnoreIndex
// must be nil (PyTorch ignores it for probability targets; here setting it
// is a mistake and panics), as must BatchMean; shapes that differ panic.
func SoftCrossEntropy(logits, target *ag.Node, o CrossEntropyOptions) *ag.Node {
	const op = "SoftCrossEntropy"
	checkSmoothing(op, o.LabelSmoothing)
	sameShape(op, logits, target)
	sh := logits.Shape()
	if len(sh) != 2 {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{slices.Clone(sh)}, Msg: "want logits [N, C]"})
	}
	if o.IgnoreIndex != nil {
		panic(fmt.Sprintf("loss: %s: IgnoreIndex applies to class-index targets only", op))
	}
	t := target
	if eps := o.LabelSmoothing; eps > 0 {
		t = ag.AddScalar(ag.Scale(t, 1-eps), eps/float64(sh[1]))
	}
	prod := ag.Mul(ag.LogSoftmax(logits, 1), t)
	if o.Weight != nil {
		prod = ag.Mul(prod, ag.Const(checkWeight(op, o.Weight, sh[1], logits.DType())))
	}
	return reduceClass(op, ag.Neg(ag.Sum(prod, 1)), o.Reduction, float64(sh[0]))
}

// weights are the constants a class-index loss multiplies by.
type weights struct {
	class  *tensor.Tensor // [C], the class weights
	picked *tensor.Tensor // [N], w[yᵢ], 0 for an ignored example
	total  float64        // Σ picked: Mean's denominator
}

// classWeights checks x [N, C] and the labels, and returns the weights, a
// [N] mask of the examples kept, and the labels with ignored ones replaced
// by 0 (any class: their weight is 0).
func classWeights(op string, x *ag.Node, labels []int, weight *tensor.Tensor, ignore *int) (weights, *tensor.Tensor, []int) {
	sh := x.Shape()
	if len(sh) != 2 || len(labels) != sh[0] {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{slices.Clone(sh), {len(labels)}}, Msg: "want scores [N, C] and N labels"})
	}
	n, c, dt := sh[0], sh[1], x.DType()
	ig := defaultIgnoreIndex
	if ignore != nil {
		ig = *ignore
	}
	var cw []float64
	if weight != nil {
		cw = checkWeight(op, weight, c, dt).Values()
	}
	picked, keep := make([]float64, n), make([]float64, n)
	safe := make([]int, n)
	var total float64
	for i, y := range labels {
		if y == ig {
			continue
		}
		if y < 0 || y >= c {
			panic(&tensor.ShapeError{Op: op, Shapes: [][]int{slices.Clone(sh)}, Msg: fmt.Sprintf("label %d at row %d is not a class in [0, %d) nor the ignored label %d", y, i, c, ig)})
		}
		safe[i], keep[i], picked[i] = y, 1, 1
		if cw != nil {
			picked[i] = cw[y]
		}
		total += picked[i]
	}
	class := tensor.Ones(dt, c)
	if weight != nil {
		class = tensor.FromValues(dt, cw, c)
	}
	return weights{class: class, picked: tensor.FromValues(dt, picked, n), total: total}, tensor.FromValues(dt, keep, n), safe
}

// checkWeight returns w in dtype dt after checking that it has shape [c].
func checkWeight(op string, w *tensor.Tensor, c int, dt tensor.DType) *tensor.Tensor {
	if !tensor.EqualShape(w.Shape(), []int{c}) {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{slices.Clone(w.Shape())}, Msg: fmt.Sprintf("want class weights of shape [%d]", c)})
	}
	if w.DType() != dt {
		return w.AsType(dt)
	}
	return w
}

func checkSmoothing(op string, eps float64) {
	if !(eps >= 0 && eps <= 1) {
		panic(fmt.Sprintf("loss: %s: label smoothing %v is not in [0, 1]", op, eps))
	}
}

// reduceClass reduces per-example losses; Mean divides by den.
func reduceClass(op string, perExample *ag.Node, r Reduction, den float64) *ag.Node {
	switch r {
	case Mean:
		if den == 0 {
			den = math.NaN()
		}
		return ag.Scale(ag.Sum(perExample), 1/den)
	case Sum:
		return ag.Sum(perExample)
	case None:
		return perExample
	}
	panic(fmt.Sprintf("loss: %s: reduction %v is not mean, sum or none", op, r))
}

// reduceElems reduces element-wise losses: Mean over every element, and
// BatchMean (when batchMean allows it) over the first dimension.
func reduceElems(op string, elems *ag.Node, r Reduction, batchMean bool) *ag.Node {
	switch r {
	case Mean:
		return ag.Mean(elems)
	case Sum:
		return ag.Sum(elems)
	case None:
		return elems
	case BatchMean:
		if batchMean {
			sh := elems.Shape()
			n := 1
			if len(sh) > 0 {
				n = sh[0]
			}
			return ag.Scale(ag.Sum(elems), 1/float64(n))
		}
	}
	panic(fmt.Sprintf("loss: %s: reduction %v is not mean, sum or none", op, r))
}

// BCEOptions are the settings of BCEWithLogitsWith, as
// torch.nn.functional.binary_cross_entropy_with_logits' keyword
// arguments.
type BCEOptions struct {
	// Weight multiplies each element's loss; it broadcasts to the
	// logits' shape. nil weighs every element 1.
	Weight *tensor.Tensor
	// PosWeight multiplies the loss of the positive term, per class: a
	// tensor broadcasting to the logits' shape, typically [C] for logits
	// [N, C], set to (negatives / positives) to balance rare classes. nil:
	// 1.
	PosWeight *tensor.Tensor
	Reduction Reduction // Mean by default
}

// BCEWithLogitsWith is the binary cross-entropy of sigmoid(logits) against
// targets in [0, 1] with element and positive-class weights and a
// reduction, as torch.nn.functional.binary_cross_entropy_with_logits: with
// p the positive weight and w the weight, each element's loss is
//
//	w·(p·t·softplus(−x) + (1 − t)·softplus(x))
//	  = w·((1 − t)·x + (1 + (p − 1)·t)·softplus(−x))
//
// computed as the second line with ag.Softplus (softplus(−x) = softplus(x)
// − x), so it never overflows. With no weights and Mean it equals
// BCEWithLogits. Logits and target must have the same shape, and the
// weights must broadcast to it; otherwise it panics with a
// *tensor.ShapeError, as it does for BatchMean.
func BCEWithLogitsWith(logits, target *ag.Node, o BCEOptions) *ag.Node {
	const op = "BCEWithLogitsWith"
	sameShape(op, logits, target)
	dt := logits.DType()
	spNeg := ag.Sub(ag.Softplus(logits), logits) // softplus(−x)
	oneMinusT := ag.AddScalar(ag.Neg(target), 1)
	var elems *ag.Node
	if o.PosWeight == nil {
		elems = ag.Add(ag.Mul(oneMinusT, logits), spNeg)
	} else {
		pw := broadcastable(op, o.PosWeight, logits.Shape(), dt)
		lw := ag.AddScalar(ag.Mul(target, ag.Const(tensor.AddScalar(pw, -1))), 1)
		elems = ag.Add(ag.Mul(oneMinusT, logits), ag.Mul(lw, spNeg))
	}
	if o.Weight != nil {
		elems = ag.Mul(elems, ag.Const(broadcastable(op, o.Weight, logits.Shape(), dt)))
	}
	return reduceElems(op, elems, o.Reduction, false)
}

// broadcastable returns w in dtype dt after checking that it broadcasts to
// shape without growing it.
func broadcastable(op string, w *tensor.Tensor, shape []int, dt tensor.DType) *tensor.Tensor {
	if b := tensor.BroadcastShapes(op, w.Shape(), shape); !tensor.EqualShape(b, shape) {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{slices.Clone(w.Shape()), slices.Clone(shape)}, Msg: "weight does not broadcast to the input's shape"})
	}
	if w.DType() != dt {
		return w.AsType(dt)
	}
	return w
}

// Huber is torch.nn.functional.huber_loss: element-wise, with d = pred −
// target,
//
//	d²/2               |d| ≤ delta
//	delta·(|d| − delta/2)   otherwise
//
// quadratic near 0 and linear (slope delta) in the tails; PyTorch's
// default delta is 1. At |d| = delta both pieces agree, with the same
// derivative. Shapes must be equal; delta must be > 0.
func Huber(pred, target *ag.Node, delta float64, r Reduction) *ag.Node {
	const op = "Huber"
	if !(delta > 0) || math.IsInf(delta, 0) {
		panic(fmt.Sprintf("loss: %s: delta %v must be > 0", op, delta))
	}
	sameShape(op, pred, target)
	return reduceElems(op, huber(ag.Sub(pred, target), delta), r, false)
}

// SmoothL1 is torch.nn.functional.smooth_l1_loss: Huber divided by beta,
//
//	d²/(2·beta)    |d| < beta
//	|d| − beta/2   otherwise
//
// with d = pred − target; PyTorch's default beta is 1. beta = 0 is the L1
// loss |d| (as in PyTorch). Shapes must be equal; beta must be ≥ 0.
func SmoothL1(pred, target *ag.Node, beta float64, r Reduction) *ag.Node {
	const op = "SmoothL1"
	if !(beta >= 0) || math.IsInf(beta, 0) {
		panic(fmt.Sprintf("loss: %s: beta %v must be ≥ 0", op, beta))
	}
	sameShape(op, pred, target)
	d := ag.Sub(pred, target)
	if beta == 0 {
		return reduceElems(op, ag.Abs(d), r, false)
	}
	return reduceElems(op, ag.Scale(huber(d, beta), 1/beta), r, false)
}

// huber is the element-wise Huber function of d: the quadratic piece
// where |d| ≤ delta, the linear one elsewhere. The pieces are chosen with
// Where on d's value, so each element's gradient is that of its own piece.
func huber(d *ag.Node, delta float64) *ag.Node {
	abs := ag.Abs(d)
	quad := ag.Scale(ag.Square(d), 0.5)
	lin := ag.Scale(ag.AddScalar(abs, -delta/2), delta)
	inside := tensor.LessEqual(tensor.Abs(d.Value()), tensor.Scalar(d.DType(), delta))
	return ag.Where(inside, quad, lin)
}

// KLDivOptions are the settings of KLDiv, as
// torch.nn.functional.kl_div's keyword arguments.
type KLDivOptions struct {
	// Reduction: Mean (PyTorch's default, the mean over every element,
	// which is not the KL divergence of the rows), BatchMean (the sum
	// divided by the batch size: the mathematically right one), Sum or
	// None.
	Reduction Reduction
	// LogTarget says that target holds log-probabilities rather than
	// probabilities.
	LogTarget bool
}

// KLDiv is torch.nn.functional.kl_div: the Kullback–Leibler divergence
// KL(target ‖ input) with input given as log-probabilities (from
// ag.LogSoftmax). Element-wise it is
//
//	t·(log t − x)       (t = 0 gives 0, as xlogy)
//	eᵗ·(t − x)          LogTarget
//
// The target may require a gradient (where a probability target is 0 its
// gradient is taken as −x, the limit of log t + 1 − x without the
// diverging log). Shapes must be equal.
func KLDiv(input, target *ag.Node, o KLDivOptions) *ag.Node {
	const op = "KLDiv"
	sameShape(op, input, target)
	var elems *ag.Node
	if o.LogTarget {
		elems = ag.Mul(ag.Exp(target), ag.Sub(target, input))
	} else {
		pos := tensor.Greater(target.Value(), tensor.Scalar(target.DType(), 0))
		// log t where t > 0 and log 1 = 0 elsewhere: finite everywhere, so
		// that no 0·∞ reaches the gradient.
		logT := ag.Log(ag.Where(pos, target, ag.Const(tensor.Ones(target.DType()))))
		elems = ag.Mul(target, ag.Sub(logT, input))
	}
	return reduceElems(op, elems, o.Reduction, true)
}
