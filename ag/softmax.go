package ag

import (
	"slices"

	"github.com/nabla-go/nabla/tensor"
)

// Softmax normalises exp(x) along axis to sum to 1. It is a primitive, not
// Exp over Sum, because it subtracts the maximum first so that large
// inputs do not overflow. VJP: s⊙(g − Σ g⊙s).
func Softmax(x *Node, axis int) *Node {
	return Apply("Softmax", softmaxValue(x.value, axis), func(g *Node, _ []*Node, out *Node, _ []bool) []*Node {
		return []*Node{Mul(out, Sub(g, SumKeep(Mul(g, out), axis)))}
	}, x)
}

// LogSoftmax is log(Softmax(x)) computed stably as x − max − log Σ exp(x −
// max). VJP: g − softmax⊙Σg.
func LogSoftmax(x *Node, axis int) *Node {
	return Apply("LogSoftmax", logSoftmaxValue(x.value, axis), func(g *Node, _ []*Node, out *Node, _ []bool) []*Node {
		return []*Node{Sub(g, Mul(Exp(out), SumKeep(g, axis)))}
	}, x)
}

func softmaxValue(x *tensor.Tensor, axis int) *tensor.Tensor {
	e := tensor.Exp(tensor.Sub(x, tensor.MaxKeep(x, axis)))
	return tensor.Div(e, tensor.SumKeep(e, axis))
}

func logSoftmaxValue(x *tensor.Tensor, axis int) *tensor.Tensor {
	z := tensor.Sub(x, tensor.MaxKeep(x, axis))
	return tensor.Sub(z, tensor.Log(tensor.SumKeep(tensor.Exp(z), axis)))
}

// SoftmaxCrossEntropy is the mean over a batch of −log softmax(logits)[label]:
// logits is [N, C] and labels holds N class indices in [0, C). One fused,
// stable primitive; its gradient is (softmax(logits) − onehot(labels))/N.
func SoftmaxCrossEntropy(logits *Node, labels []int) *Node {
	loss := tensor.SoftmaxCrossEntropy(logits.value, labels) // checks the shapes and labels
	labels = slices.Clone(labels)
	n := float64(logits.value.Dim(0))
	return Apply("SoftmaxCrossEntropy", loss, func(g *Node, in []*Node, _ *Node, _ []bool) []*Node {
		if !g.requiresGrad && !in[0].requiresGrad {
			// No graph of the gradient is wanted: one fused pass.
			return []*Node{Const(tensor.SoftmaxMinusOneHot(in[0].value, labels, g.value.Item()/n))}
		}
		onehot := tensor.Scatter(tensor.Ones(in[0].DType(), len(labels)), in[0].Shape(), 1, labels)
		d := Sub(Softmax(in[0], 1), Const(onehot))
		return []*Node{Mul(Scale(d, 1/n), g)}
	}, logits)
}
