// Package loss holds the losses a classifier trains on (CrossEntropy,
// Hinge, MSE, BCEWithLogits) and the L1 and L2 penalties. Each returns a
// scalar *ag.Node averaged over the batch as PyTorch's reduction="mean"
// does, ready for ag.Backward.
//
// The losses with PyTorch's keyword arguments take an options struct whose
// zero value is PyTorch's defaults: CrossEntropyWith (class weights,
// ignore_index, label smoothing), SoftCrossEntropy (probability targets),
// NLL, BCEWithLogitsWith (pos_weight and element weights) and KLDiv (log
// targets); Huber and SmoothL1 take their delta and beta as arguments.
// Each takes a Reduction: Mean (the zero value), Sum, None (a loss per
// example or per element) or, for KLDiv, BatchMean. As in package optim,
// a field whose PyTorch default is not zero is a pointer, nil for the
// default (IgnoreIndex: nil is −100); any value set means what it says.
// All of them are checked against PyTorch 1.13 by
// testdata/loss/gen_loss.py.
//
// Every loss is composed from ag ops, so its gradient can itself be
// differentiated (ag.HVP, ag.Hessian). The only fused pieces are ag's own
// stable primitives: SoftmaxCrossEntropy and LogSoftmax (which subtract the
// row maximum before exponentiating) and Softplus (log(1+eˣ) without
// overflow). No primitive is added here.
//
// Hinge is the multiclass SVM loss of CS231n, Σ_{j≠y} max(0, s_j − s_y + Δ)
// averaged over the batch; torch.nn.MultiMarginLoss divides that by the
// number of classes as well.
//
// # Shapes
//
// CrossEntropy and Hinge take scores [N, C] and N labels in [0, C). MSE and
// BCEWithLogits take two tensors of the same shape and average over all
// their elements (as torch does: for [N, C] that is the batch mean of each
// row's sum divided by C). L1 and L2 sum over every element of every
// parameter.
//
// # Errors
//
// ByName returns an error for an unknown name, listing the valid ones. A
// loss given inputs that do not fit (labels out of range or of the wrong
// count, different shapes for prediction and target) panics with a
// *tensor.ShapeError naming the loss; a smoothing outside [0, 1] panics
// with a message. Check values from flags before building the graph, or
// wrap it in tensor.Try.
//
// # Concurrency
//
// The functions keep no state; separate graphs may be built on separate
// goroutines.
package loss
