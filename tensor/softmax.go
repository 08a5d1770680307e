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
	var total float64
	eachRow(logits, n, c, func(i int, row []float64) {
		total += logSumExp(row) - row[labels[i]]
	})
	return Scalar(logits.dtype, total/float64(max(n, 1)))
}

// eachRow calls f with each row of the [n, c] tensor t, as float64 (a
// float32 row converted into one buffer reused from row to row, rather
// than a float64 copy of the whole tensor). f must not change row.
func eachRow(t *Tensor, n, c int, f func(i int, row []float64)) {
	switch t.dtype {
	case Float32:
		d := Data[float32](t)
		row := make([]float64, c)
		for i := range n {
			for j, v := range d[i*c : (i+1)*c] {
				row[j] = float64(v)
			}
			f(i, row)
		}
	default:
		d := Data[float64](t)
		for i := range n {
			f(i, d[i*c:(i+1)*c])
		}
	}
}

// SoftmaxMinusOneHot returns scale·(softmax(row) − onehot(label)) for each
// row of logits [N, C]: the derivative of SoftmaxCrossEntropy times N·scale.
func SoftmaxMinusOneHot(logits *Tensor, labels []int, scale float64) *Tensor {
	n, c := checkLabels("SoftmaxMinusOneHot", logits, labels)
	out := newUninit(logits.dtype, n, c)
	res := make([]float64, c)
	eachRow(logits, n, c, func(i int, row []float64) {
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
	})
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
