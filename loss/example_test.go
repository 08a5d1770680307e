package loss_test

import (
	"fmt"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/tensor"
)

// Two losses of the same scores: a batch of two examples, three classes.
// The hinge loss is CS231n's: row 0 has no margin violation, row 1 has
// (0.5−0.3+1) + (2.5−0.3+1) = 4.4, so the mean is 2.2. The numbers agree
// with torch.nn.functional.cross_entropy.
func Example() {
	scores := ag.Var(tensor.FromFloat64([]float64{
		2, 1, 0.1,
		0.5, 2.5, 0.3,
	}, 2, 3))
	labels := []int{0, 2}

	ce := loss.CrossEntropy(scores, labels, 0)
	svm := loss.Hinge(scores, labels, 1)
	ag.Backward(ce)
	fmt.Printf("cross-entropy %.4f\n", ce.Item())
	fmt.Printf("hinge         %.4f\n", svm.Item())
	fmt.Printf("d ce/d scores %.3f\n", scores.Grad().Values())
	// Output:
	// cross-entropy 1.4185
	// hinge         2.2000
	// d ce/d scores [-0.170 0.121 0.049 0.054 0.401 -0.456]
}

// Cross-entropy with PyTorch's options: class weights, a label to ignore
// (padding, say) and a loss per example. The ignored example's loss is 0;
// the mean divides by the weights of the examples kept (2 + 1), as
// torch.nn.functional.cross_entropy does.
func ExampleCrossEntropyWith() {
	logits := ag.Const(tensor.FromFloat64([]float64{
		2, 1, 0.1,
		0.5, 2.5, 0.3,
		1, 1, 1,
	}, 3, 3))
	labels := []int{0, 2, -1}
	opts := loss.CrossEntropyOptions{
		Weight:      tensor.FromFloat64([]float64{1, 1, 2}),
		IgnoreIndex: new(-1),
		Reduction:   loss.None,
	}
	fmt.Printf("per example %.4f\n", loss.CrossEntropyWith(logits, labels, opts).Value().Values())
	opts.Reduction = loss.Mean
	fmt.Printf("mean        %.4f\n", loss.CrossEntropyWith(logits, labels, opts).Item())
	// Output:
	// per example [0.4170 4.8401 0.0000]
	// mean        1.7524
}

// The KL divergence of two batches of distributions: BatchMean is the
// mean over the batch of each row's divergence, the mathematical one;
// Mean, PyTorch's default, also divides by the number of classes.
// (torch.nn.functional.kl_div prints the same numbers.)
func ExampleKLDiv() {
	p := ag.Const(tensor.FromFloat64([]float64{0.5, 0.5, 0.9, 0.1}, 2, 2)) // target
	q := ag.Const(tensor.FromFloat64([]float64{0.25, 0.75, 0.5, 0.5}, 2, 2))
	logQ := ag.Log(q)
	fmt.Printf("batchmean %.4f\n", loss.KLDiv(logQ, p, loss.KLDivOptions{Reduction: loss.BatchMean}).Item())
	fmt.Printf("mean      %.4f\n", loss.KLDiv(logQ, p, loss.KLDivOptions{}).Item())
	// Output:
	// batchmean 0.2560
	// mean      0.1280
}

// Huber is quadratic near 0 and linear in the tails; SmoothL1 is Huber
// divided by its beta. Reduction None keeps one loss per element.
func ExampleHuber() {
	pred := ag.Const(tensor.FromFloat64([]float64{0.5, -3}))
	target := ag.Const(tensor.New(tensor.Float64, 2))
	fmt.Println(loss.Huber(pred, target, 1, loss.None).Value().Values())
	fmt.Println(loss.SmoothL1(pred, target, 2, loss.None).Value().Values())
	// Output:
	// [0.125 2.5]
	// [0.0625 2]
}
