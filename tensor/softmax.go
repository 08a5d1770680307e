package tensor

import (
	"fmt"
	"math"
)

// The softmax cross-entropy of a batch and its derivative, each in one
// pass over the logits: the fused forms of what Softmax and LogSoftmax
// compose from Max, Sub, Exp, Sum and Log, for the training hot path. Rows
// are reduced in float64 and shifted by their maximum, so large logits
// neither overflow nor lose precision.

// SoftmaxCrossEntropy returns the mean over the N rows of logits [N, C] of
// −log softmax(row)[labels[i]], as a scalar of logits' dtype.
func SoftmaxCrossEntropy(logits *Tensor, labels []int) *Tensor {
	n, c := checkLabels("SoftmaxCrossEntropy", logits, labels)
	vals := logits.Contiguous().Values()
	var total float64
	for i := 0; i < n; i++ {
		row := vals[i*c : (i+1)*c]
		total += logSumExp(row) - row[labels[i]]
	}
	return Scalar(logits.dtype, total/float64(max(n, 1)))
}

// SoftmaxMinusOneHot returns scale·(softmax(row) − onehot(label)) for each
// row of logits [N, C]: the derivative of SoftmaxCrossEntropy times N·scale.
func SoftmaxMinusOneHot(logits *Tensor, labels []int, scale float64) *Tensor {
	n, c := checkLabels("SoftmaxMinusOneHot", logits, labels)
	vals := logits.Contiguous().Values()
	out := newUninit(logits.dtype, n, c)
	res := make([]float64, c)
	for i := 0; i < n; i++ {
		row := vals[i*c : (i+1)*c]
		m := rowMax(row)
		var sum float64
		for j, v := range row { // one exp per element: e^(v−m), then normalise
			res[j] = math.Exp(v - m)
			sum += res[j]
		}
		k := scale / sum
		for j := range res {
			res[j] *= k
		}
		res[labels[i]] -= scale
		switch d := out.data.(type) {
		case []float32:
			for j, v := range res {
				d[i*c+j] = float32(v)
			}
		case []float64:
			copy(d[i*c:], res)
		}
	}
	return out
}

// rowMax is the largest element of row (NaN if any is NaN).
func rowMax(row []float64) float64 {
	m := math.Inf(-1)
	for _, v := range row {
		if v > m || v != v {
			m = v
		}
	}
	return m
}

// logSumExp is log Σ exp(row), shifted by the row's maximum.
func logSumExp(row []float64) float64 {
	m := rowMax(row)
	if math.IsInf(m, 0) || m != m {
		return m // all −∞, or a +∞ or NaN logit: the sum is that
	}
	var s float64
	for _, v := range row {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

func checkLabels(op string, logits *Tensor, labels []int) (n, c int) {
	if len(logits.shape) != 2 || len(labels) != logits.shape[0] {
		shapePanic(op, "want logits [N, C] and N labels", logits.shape, []int{len(labels)})
	}
	n, c = logits.shape[0], logits.shape[1]
	for i, y := range labels {
		if y < 0 || y >= c {
			shapePanic(op, fmt.Sprintf("label %d at row %d is not a class in [0, %d)", y, i, c), logits.shape)
		}
	}
	return n, c
}
