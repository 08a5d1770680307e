package tensor

import (
	"fmt"

	"github.com/nabla-go/nabla/kernels"
)

// MatMul returns the matrix product of a and b. Both have at least two
// dimensions: a is [..., m, k] and b is [..., k, n], and the leading (batch)
// dimensions broadcast, as numpy.matmul. Transposed views (from T, Transpose
// or Permute of the last two axes) are read in place, without a copy.
func MatMul(a, b *Tensor) *Tensor {
	sameDType("MatMul", a, b)
	if len(a.shape) < 2 || len(b.shape) < 2 {
		shapePanic("MatMul", "operands need at least 2 dimensions (reshape a vector to [1, n] or [n, 1])", a.shape, b.shape)
	}
	m, k := a.shape[len(a.shape)-2], a.shape[len(a.shape)-1]
	k2, n := b.shape[len(b.shape)-2], b.shape[len(b.shape)-1]
	if k != k2 {
		shapePanic("MatMul", fmt.Sprintf("inner dimensions differ (%d vs %d)", k, k2), a.shape, b.shape)
	}
	// Name the operands' shapes, not just their batch parts, in the error.
	var batch []int
	if Try(func() { batch = BroadcastShapes("MatMul", a.shape[:len(a.shape)-2], b.shape[:len(b.shape)-2]) }) != nil {
		shapePanic("MatMul", "batch dimensions do not broadcast", a.shape, b.shape)
	}
	// A batch of a's against one b is a single tall product.
	if len(b.shape) == 2 && len(a.shape) > 2 && a.IsContiguous() {
		rows := a.Len() / max(k, 1)
		if k == 0 {
			rows = 1
			for _, s := range a.shape[:len(a.shape)-1] {
				rows *= s
			}
		}
		flat := Reshape(a, rows, k)
		out := matmul2(flat, b)
		return Reshape(out, append(append([]int{}, a.shape[:len(a.shape)-1]...), n)...)
	}
	if len(batch) == 0 {
		return matmul2(a, b)
	}
	shape := append(append([]int{}, batch...), m, n)
	out := newUninit(a.dtype, shape...)
	if out.Len() == 0 { // an empty batch (or m or n = 0): no matrix to slice out
		return out
	}
	ab := BroadcastTo(a, append(append([]int{}, batch...), m, k)...)
	bb := BroadcastTo(b, append(append([]int{}, batch...), k, n)...)
	nb := len(batch)
	i := 0
	// Walk the batch index space, taking one matrix view of each side.
	idx := make([]int, nb)
	for {
		av, bv := ab, bb
		for d := nb - 1; d >= 0; d-- {
			av = Slice(av, d, idx[d], idx[d]+1)
			bv = Slice(bv, d, idx[d], idx[d]+1)
		}
		av = Reshape2(av, m, k)
		bv = Reshape2(bv, k, n)
		gemmInto(out, i*m*n, av, bv)
		i++
		d := nb - 1
		for ; d >= 0; d-- {
			idx[d]++
			if idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
		if d < 0 {
			break
		}
	}
	return out
}

// Reshape2 views the last two axes of a tensor whose other axes all have
// size 1 as a matrix, keeping its strides (so a transposed view stays one).
func Reshape2(x *Tensor, r, c int) *Tensor {
	nd := len(x.shape)
	return viewOf(x, []int{r, c}, []int{x.strides[nd-2], x.strides[nd-1]}, x.offset)
}

func matmul2(a, b *Tensor) *Tensor {
	m, n := a.shape[0], b.shape[1]
	out := newUninit(a.dtype, m, n)
	gemmInto(out, 0, a, b)
	return out
}

// gemmOperand returns how to pass a matrix view to GEMM: as it is, or
// transposed, with its leading dimension; a view that is neither is copied.
func gemmOperand(x *Tensor) (t *Tensor, trans bool, ld int) {
	if trans, ld, ok := operandLayout(x.shape[0], x.shape[1], x.strides[0], x.strides[1]); ok {
		return x, trans, ld
	}
	x = x.Clone()
	return x, false, max(x.shape[1], 1)
}

// operandLayout says how GEMM reads an r×c matrix with strides sr, sc in
// place: row-major (trans false) or as the transpose of a row-major
// matrix, with its leading dimension; ok is false when it is neither.
func operandLayout(r, c, sr, sc int) (trans bool, ld int, ok bool) {
	if (sc == 1 || c == 1) && sr >= max(c, 1) {
		return false, sr, true
	}
	if (sr == 1 || r == 1) && sc >= max(r, 1) {
		return true, sc, true
	}
	return false, 0, false
}

// Linear returns x·wᵀ + b for x [..., in], w [out, in] and b [out] (nil
// for none): a linear layer in one pass. The GEMM kernel adds the bias as
// it stores each tile of the product (kernels.SgemmBias), so no pass over
// the output fills it with the bias first, and none reads it back.
func Linear(x, w, b *Tensor) *Tensor { return linear(x, w, b, false) }

// LinearReLU returns max(0, x·wᵀ + b) (NaN kept, as ReLU): the kernel
// applies the ReLU as it stores the last slice of each tile, so there is
// no separate activation pass.
func LinearReLU(x, w, b *Tensor) *Tensor { return linear(x, w, b, true) }

// LinearInto writes Linear(x, w, b) (LinearReLU with relu set) into dst,
// a contiguous tensor of the result's shape (x's leading dimensions, then
// w's rows), and returns dst: the same bits, and no allocation when x is
// contiguous and w is row-major or a transposed view. For inference paths that keep their own buffers (nn.Predictor).
// dst must not share memory with x, w or b.
func LinearInto(dst, x, w, b *Tensor, relu bool) *Tensor {
	rows, in, outDim := checkLinear("LinearInto", x, w, b)
	nd := len(x.shape)
	if dst.dtype != x.dtype || len(dst.shape) != nd || !equalShape(dst.shape[:nd-1], x.shape[:nd-1]) || dst.shape[nd-1] != outDim {
		shapePanic("LinearInto", "dst's shape or dtype differs from the result's", x.shape, w.shape, dst.shape)
	}
	if !dst.IsContiguous() {
		shapePanic("LinearInto", "dst must be contiguous", dst.shape)
	}
	if SameBuffer(dst, x) || SameBuffer(dst, w) || (b != nil && SameBuffer(dst, b)) {
		panic(&OpError{Op: "LinearInto", Msg: "dst shares its buffer with x, w or b (the product would read what it writes)"})
	}
	linearInto(dst, x, w, b, rows, in, outDim, relu)
	return dst
}

// checkLinear checks Linear's operands and returns the number of rows of
// x (the product of its leading dimensions), in and out.
func checkLinear(op string, x, w, b *Tensor) (rows, in, outDim int) {
	if b != nil {
		sameDType(op, x, w, b)
	} else {
		sameDType(op, x, w)
	}
	nd := len(x.shape)
	if nd < 1 || len(w.shape) != 2 || x.shape[nd-1] != w.shape[1] {
		shapePanic(op, "want x [..., in] and w [out, in]", x.shape, w.shape)
	}
	in, outDim = w.shape[1], w.shape[0]
	if b != nil && (len(b.shape) != 1 || b.shape[0] != outDim) {
		shapePanic(op, "want bias [out]", x.shape, w.shape, b.shape)
	}
	rows = 1
	for _, s := range x.shape[:nd-1] {
		rows *= s
	}
	return rows, in, outDim
}

func linear(x, w, b *Tensor, relu bool) *Tensor {
	rows, in, outDim := checkLinear("Linear", x, w, b)
	nd := len(x.shape)
	out := newTensor(x.dtype, x.shape) // x's leading dimensions, then outDim
	out.shape[nd-1] = outDim
	fillStrides(out.strides, out.shape)
	out.data = buffer(x.dtype, rows*outDim, false)
	linearInto(out, x, w, b, rows, in, outDim, relu)
	return out
}

// linearInto computes Linear into out, contiguous and of the right shape.
func linearInto(out, x, w, b *Tensor, rows, in, outDim int, relu bool) {
	if rows == 0 || outDim == 0 {
		return
	}
	// x is read in place when contiguous (its rows are [rows, in]), and w
	// as its transpose when it is row-major or a transposed view, without
	// building the views (Reshape, T) that gemmOperand would take.
	xa, ta, lda := x, false, max(in, 1) // in = 0: no columns, but a leading dimension of 1
	if !x.IsContiguous() {
		xa, ta, lda = gemmOperand(Reshape(x, rows, in))
	}
	wa, tw, ldw := w, false, 0
	if t, ld, ok := operandLayout(in, outDim, w.strides[1], w.strides[0]); ok {
		tw, ldw = t, ld
	} else {
		wa, tw, ldw = gemmOperand(w.T())
	}
	switch d := out.data.(type) {
	case []float32:
		var bias []float32
		if b != nil {
			bias = Data[float32](b)
		}
		kernels.SgemmBias(ta, tw, rows, outDim, in, xa.data.([]float32)[xa.offset:], lda, wa.data.([]float32)[wa.offset:], ldw, bias, relu, d[out.offset:], outDim)
	case []float64:
		var bias []float64
		if b != nil {
			bias = Data[float64](b)
		}
		kernels.DgemmBias(ta, tw, rows, outDim, in, xa.data.([]float64)[xa.offset:], lda, wa.data.([]float64)[wa.offset:], ldw, bias, relu, d[out.offset:], outDim)
	}
}

// gemmInto writes a·b into out's buffer at offset off (row-major, m×n).
func gemmInto(out *Tensor, off int, a, b *Tensor) { gemmIntoBeta(out, off, a, b, 0) }

// gemmIntoBeta computes out = a·b + beta·out at offset off.
func gemmIntoBeta(out *Tensor, off int, a, b *Tensor, beta float64) {
	m, k, n := a.shape[0], a.shape[1], b.shape[1]
	if m == 0 || n == 0 {
		return
	}
	a, ta, lda := gemmOperand(a)
	b, tb, ldb := gemmOperand(b)
	switch d := out.data.(type) {
	case []float32:
		kernels.Sgemm(ta, tb, m, n, k, 1, a.data.([]float32)[a.offset:], lda, b.data.([]float32)[b.offset:], ldb, float32(beta), d[off:], n)
	case []float64:
		kernels.Dgemm(ta, tb, m, n, k, 1, a.data.([]float64)[a.offset:], lda, b.data.([]float64)[b.offset:], ldb, beta, d[off:], n)
	}
}

// LinearGrads returns the gradients of Linear's y = x·wᵀ + b for the
// upstream gradient g (shaped like y): gx = g·w, shaped like x; gw = gᵀ·x,
// [out, in]; gb, the sum of g over every row, [out]. Only those asked for
// are computed (nil for the others). It is the backward pass of a linear
// layer as kernels on the buffers, without the views (Reshape, T) and
// products an expression of it would build, and gives the same bits as
// MatMul(Reshape(g, -1, out), w), MatMul(Reshape(g, -1, out).T(),
// Reshape(x, -1, in)) and Sum(Reshape(g, -1, out), 0).
func LinearGrads(g, x, w *Tensor, wantX, wantW, wantB bool) (gx, gw, gb *Tensor) {
	sameDType("LinearGrads", g, x, w)
	rows, in, out := checkLinear("LinearGrads", x, w, nil)
	nd, ng := len(x.shape), len(g.shape)
	if ng != nd || !equalShape(g.shape[:ng-1], x.shape[:nd-1]) || g.shape[ng-1] != out {
		shapePanic("LinearGrads", "want g [..., out] for x [..., in] and w [out, in]", g.shape, x.shape, w.shape)
	}
	g = g.Contiguous()
	var sh, st [2]int
	g2 := Tensor{dtype: g.dtype, shape: sh[:], strides: st[:], offset: g.offset, data: g.data}
	g2.shape[0], g2.shape[1], g2.strides[0], g2.strides[1] = rows, out, out, 1
	if wantX {
		gx = newUninit(x.dtype, x.shape...)
		gemmInto(gx, 0, &g2, w)
	}
	if wantW {
		x = x.Contiguous()
		var xsh, xst, tsh, tst [2]int
		x2 := Tensor{dtype: x.dtype, shape: xsh[:], strides: xst[:], offset: x.offset, data: x.data}
		x2.shape[0], x2.shape[1], x2.strides[0], x2.strides[1] = rows, in, in, 1
		gt := Tensor{dtype: g.dtype, shape: tsh[:], strides: tst[:], offset: g.offset, data: g.data}
		gt.shape[0], gt.shape[1], gt.strides[0], gt.strides[1] = out, rows, 1, out
		gw = newUninit(w.dtype, out, in)
		gemmInto(gw, 0, &gt, &x2)
	}
	if wantB {
		gb = New(g.dtype, out)
		switch d := gb.data.(type) {
		case []float32:
			reduceORI(redSum, d, g.data.([]float32)[g.offset:g.offset+rows*out], 1, rows, out)
		case []float64:
			reduceORI(redSum, d, g.data.([]float64)[g.offset:g.offset+rows*out], 1, rows, out)
		}
	}
	return gx, gw, gb
}
