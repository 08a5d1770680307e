package loss

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// CrossEntropy is the mean over a batch of the softmax cross-entropy of
// logits [N, C] against labels (N class indices in [0, C)), with label
// smoothing ε as torch.nn.functional.cross_entropy(label_smoothing=ε):
// the target is (1−ε)·onehot + ε/C, so the loss is
//
//	(1−ε)·mean_i(−log softmax(x_i)[y_i]) + ε·mean_i mean_c(−log softmax(x_i)[c])
//
// With ε = 0 it is ag.SoftmaxCrossEntropy, one fused stable primitive;
// otherwise it is composed from ag.LogSoftmax (stable), Gather and Mean.
// ε outside [0, 1], and labels that do not fit logits, panic.
func CrossEntropy(logits *ag.Node, labels []int, smoothing float64) *ag.Node {
	checkSmoothing("CrossEntropy", smoothing)
	if smoothing == 0 {
		return ag.SoftmaxCrossEntropy(logits, labels)
	}
	checkLabels("CrossEntropy", logits, labels)
	lsm := ag.LogSoftmax(logits, 1)
	nll := ag.Neg(ag.Mean(ag.Gather(lsm, 1, labels)))
	uniform := ag.Neg(ag.Mean(lsm)) // mean over batch and classes
	return ag.Add(ag.Scale(nll, 1-smoothing), ag.Scale(uniform, smoothing))
}

// Hinge is the multiclass SVM loss of CS231n, averaged over the batch:
//
//	mean_i Σ_{j≠y_i} max(0, s_ij − s_i,y_i + margin)
//
// for scores [N, C] and N labels. It is NOT torch.nn.MultiMarginLoss, which
// divides each row's sum by C as well: Hinge = C·MultiMarginLoss(margin).
// The j = y_i terms are masked out, not subtracted, so their gradient is
// exactly zero. At a kink (s_ij − s_iy + margin = 0) the derivative is 0,
// ReLU's convention.
func Hinge(scores *ag.Node, labels []int, margin float64) *ag.Node {
	checkLabels("Hinge", scores, labels)
	sh := scores.Shape()
	sy := ag.Reshape(ag.Gather(scores, 1, labels), sh[0], 1)
	others := tensor.Sub(tensor.Ones(scores.DType(), sh...), OneHot(labels, sh[1], scores.DType()))
	m := ag.Mul(ag.ReLU(ag.AddScalar(ag.Sub(scores, sy), margin)), ag.Const(others))
	return ag.Scale(ag.Sum(m), 1/float64(sh[0]))
}

// MSE is the mean squared error mean((pred − target)²) over all elements,
// as torch.nn.MSELoss (reduction "mean"): for [N, C] that is the batch mean
// of each row's squared error divided by C. The shapes must be equal (no
// broadcasting, which would silently change the loss); otherwise it panics
// with a *tensor.ShapeError.
func MSE(pred, target *ag.Node) *ag.Node {
	sameShape("MSE", pred, target)
	return ag.Mean(ag.Square(ag.Sub(pred, target)))
}

// BCEWithLogits is the binary cross-entropy of sigmoid(logits) against
// targets in [0, 1], averaged over all elements, as
// torch.nn.BCEWithLogitsLoss:
//
//	max(x, 0) − x·t + log(1 + e^−|x|) = softplus(x) − x·t
//
// It is computed as the right-hand side with ag.Softplus, a stable
// primitive, so that it never overflows and its gradient σ(x) − t is also
// right at x = 0 (the left-hand side, built from ReLU and Abs, would get
// −t there from their zero derivatives at the kink). Shapes must be equal.
func BCEWithLogits(logits, target *ag.Node) *ag.Node {
	sameShape("BCEWithLogits", logits, target)
	return ag.Mean(ag.Sub(ag.Softplus(logits), ag.Mul(logits, target)))
}

// L1 is the penalty λ·Σ_p Σ|w| over params. Its derivative at w = 0 is 0
// (ag.Abs's convention). params must not be empty.
func L1(params []*ag.Node, lambda float64) *ag.Node {
	return penalty("L1", params, lambda, ag.Abs)
}

// L2 is the penalty λ·Σ_p Σw² over params. Its gradient is 2λw, so
// PyTorch's SGD with weight_decay=wd (which adds wd·w to each gradient)
// equals adding L2 with λ = wd/2 to the loss, over the same parameters
// (PyTorch decays biases too unless they are put in another group).
// params must not be empty.
func L2(params []*ag.Node, lambda float64) *ag.Node {
	return penalty("L2", params, lambda, ag.Square)
}

func penalty(op string, params []*ag.Node, lambda float64, f func(*ag.Node) *ag.Node) *ag.Node {
	if len(params) == 0 {
		panic(&tensor.ShapeError{Op: op, Msg: "no parameters to penalise"})
	}
	var s *ag.Node
	for _, p := range params {
		t := ag.Sum(f(p))
		if s == nil {
			s = t
		} else {
			s = ag.Add(s, t)
		}
	}
	return ag.Scale(s, lambda)
}

// OneHot returns the [len(labels), classes] matrix with 1 at (i,
// labels[i]) and 0 elsewhere. A label outside [0, classes) panics.
func OneHot(labels []int, classes int, dt tensor.DType) *tensor.Tensor {
	for i, y := range labels {
		if y < 0 || y >= classes {
			panic(&tensor.ShapeError{Op: "OneHot", Shapes: [][]int{{len(labels), classes}},
				Msg: fmt.Sprintf("label %d at row %d is not a class in [0, %d)", y, i, classes)})
		}
	}
	return tensor.Scatter(tensor.Ones(dt, len(labels)), []int{len(labels), classes}, 1, labels)
}

// Func is a loss of a batch of scores [N, C] and N class labels.
type Func func(logits *ag.Node, labels []int) *ag.Node

var byName = []struct {
	name string
	f    Func
}{
	{"cross-entropy", func(x *ag.Node, y []int) *ag.Node { return CrossEntropy(x, y, 0) }},
	{"hinge", func(x *ag.Node, y []int) *ag.Node { return Hinge(x, y, 1) }},
	{"mse", func(x *ag.Node, y []int) *ag.Node { return MSE(x, oneHotLike("MSE", x, y)) }},
	{"bce", func(x *ag.Node, y []int) *ag.Node { return BCEWithLogits(x, oneHotLike("BCEWithLogits", x, y)) }},
}

// Names lists the names ByName accepts.
func Names() []string {
	names := make([]string, len(byName))
	for i, b := range byName {
		names[i] = b.name
	}
	return names
}

// ByName returns the classification loss called name, for a command-line
// --loss flag:
//
//	cross-entropy  CrossEntropy without smoothing
//	hinge          Hinge with margin 1
//	mse            MSE against one-hot targets
//	bce            BCEWithLogits against one-hot targets (one-vs-rest)
//
// An unknown name is an error that lists the valid ones.
func ByName(name string) (func(logits *ag.Node, labels []int) *ag.Node, error) {
	for _, b := range byName {
		if b.name == name {
			return b.f, nil
		}
	}
	return nil, fmt.Errorf("loss: unknown loss %q (valid: %s)", name, strings.Join(Names(), ", "))
}

func oneHotLike(op string, x *ag.Node, labels []int) *ag.Node {
	checkLabels(op, x, labels)
	return ag.Const(OneHot(labels, x.Shape()[1], x.DType()))
}

// checkLabels panics unless x is [N, C] and labels holds N classes in
// [0, C).
func checkLabels(op string, x *ag.Node, labels []int) {
	sh := x.Shape()
	if len(sh) != 2 || len(labels) != sh[0] {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{slices.Clone(sh), {len(labels)}}, Msg: "want scores [N, C] and N labels"})
	}
	for i, y := range labels {
		if y < 0 || y >= sh[1] {
			panic(&tensor.ShapeError{Op: op, Shapes: [][]int{slices.Clone(sh)}, Msg: fmt.Sprintf("label %d at row %d is not a class in [0, %d)", y, i, sh[1])})
		}
	}
}

func sameShape(op string, a, b *ag.Node) {
	if !tensor.EqualShape(a.Shape(), b.Shape()) {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{slices.Clone(a.Shape()), slices.Clone(b.Shape())}, Msg: "prediction and target shapes differ"})
	}
}
