package tensor

import "math"

type binOp uint8

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
	opPow
	opMaximum
	opMinimum
	opGreater
	opGreaterEqual
	opLess
	opLessEqual
	opEqual
)

var binNames = [...]string{"Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Greater", "GreaterEqual", "Less", "LessEqual", "Equal"}

// Add returns a + b, broadcasting.
func Add(a, b *Tensor) *Tensor { return binary(opAdd, a, b) }

// Sub returns a − b, broadcasting.
func Sub(a, b *Tensor) *Tensor { return binary(opSub, a, b) }

// Mul returns a·b element-wise, broadcasting.
func Mul(a, b *Tensor) *Tensor { return binary(opMul, a, b) }

// Div returns a / b element-wise, broadcasting.
func Div(a, b *Tensor) *Tensor { return binary(opDiv, a, b) }

// Pow returns a^b element-wise, broadcasting, with math.Pow's special cases.
func Pow(a, b *Tensor) *Tensor { return binary(opPow, a, b) }

// Maximum returns the element-wise larger of a and b, broadcasting; NaN
// wins, as in PyTorch.
func Maximum(a, b *Tensor) *Tensor { return binary(opMaximum, a, b) }

// Minimum returns the element-wise smaller of a and b; NaN wins.
func Minimum(a, b *Tensor) *Tensor { return binary(opMinimum, a, b) }

// Greater returns 1 where a > b and 0 elsewhere, broadcasting.
func Greater(a, b *Tensor) *Tensor { return binary(opGreater, a, b) }

// GreaterEqual returns 1 where a ≥ b and 0 elsewhere.
func GreaterEqual(a, b *Tensor) *Tensor { return binary(opGreaterEqual, a, b) }

// Less returns 1 where a < b and 0 elsewhere.
func Less(a, b *Tensor) *Tensor { return binary(opLess, a, b) }

// LessEqual returns 1 where a ≤ b and 0 elsewhere.
func LessEqual(a, b *Tensor) *Tensor { return binary(opLessEqual, a, b) }

// Equal returns 1 where a = b and 0 elsewhere.
func Equal(a, b *Tensor) *Tensor { return binary(opEqual, a, b) }

func sameDType(op string, ts ...*Tensor) {
	for _, t := range ts[1:] {
		if t.dtype != ts[0].dtype {
			dts := make([]DType, len(ts))
			for i, t := range ts {
				dts[i] = t.dtype
			}
			panic(&DTypeError{Op: op, DTypes: dts})
		}
	}
}

func binary(op binOp, a, b *Tensor) *Tensor {
	name := binNames[op]
	sameDType(name, a, b)
	shape := BroadcastShapes(name, a.shape, b.shape)
	out := newUninit(a.dtype, shape...)
	switch d := out.data.(type) {
	case []float32:
		binaryInto(op, d, shape, a, a.data.([]float32), b, b.data.([]float32))
	case []float64:
		binaryInto(op, d, shape, a, a.data.([]float64), b, b.data.([]float64))
	}
	return out
}

func binaryInto[T Float](op binOp, out []T, shape []int, a *Tensor, ad []T, b *Tensor, bd []T) {
	if a.IsContiguous() && b.IsContiguous() && equalShape(a.shape, b.shape) {
		n := len(out)
		as, bs := ad[a.offset:a.offset+n], bd[b.offset:b.offset+n]
		chunked(n, func(lo, hi int) { binRow(op, out[lo:hi], as[lo:hi], 1, bs[lo:hi], 1) })
		return
	}
	sa, sb := broadcastStrides(a, shape), broadcastStrides(b, shape)
	nd := len(shape)
	if nd == 0 {
		binRow(op, out, ad[a.offset:], 1, bd[b.offset:], 1)
		return
	}
	n := shape[nd-1]
	if n == 0 || len(out) == 0 {
		return
	}
	idx := make([]int, nd-1)
	oa, ob := a.offset, b.offset
	for o := 0; o < len(out); o += n {
		binRow(op, out[o:o+n], ad[oa:], sa[nd-1], bd[ob:], sb[nd-1])
		for d := nd - 2; d >= 0; d-- {
			idx[d]++
			oa += sa[d]
			ob += sb[d]
			if idx[d] < shape[d] {
				break
			}
			oa -= sa[d] * shape[d]
			ob -= sb[d] * shape[d]
			idx[d] = 0
		}
	}
}

// binRow computes out[i] = a[i·sa] op b[i·sb]. The common cases (both
// contiguous, or one side a scalar) get loops the compiler keeps tight.
func binRow[T Float](op binOp, out, a []T, sa int, b []T, sb int) {
	n := len(out)
	switch {
	case sa == 1 && sb == 1:
		a, b = a[:n], b[:n]
		switch op {
		case opAdd:
			for i := range out {
				out[i] = a[i] + b[i]
			}
			return
		case opSub:
			for i := range out {
				out[i] = a[i] - b[i]
			}
			return
		case opMul:
			for i := range out {
				out[i] = a[i] * b[i]
			}
			return
		case opDiv:
			for i := range out {
				out[i] = a[i] / b[i]
			}
			return
		}
	case sa == 1 && sb == 0:
		a, y := a[:n], b[0]
		switch op {
		case opAdd:
			for i := range out {
				out[i] = a[i] + y
			}
			return
		case opSub:
			for i := range out {
				out[i] = a[i] - y
			}
			return
		case opMul:
			for i := range out {
				out[i] = a[i] * y
			}
			return
		case opDiv:
			for i := range out {
				out[i] = a[i] / y
			}
			return
		}
	case sa == 0 && sb == 1:
		x, b := a[0], b[:n]
		switch op {
		case opAdd:
			for i := range out {
				out[i] = x + b[i]
			}
			return
		case opSub:
			for i := range out {
				out[i] = x - b[i]
			}
			return
		case opMul:
			for i := range out {
				out[i] = x * b[i]
			}
			return
		case opDiv:
			for i := range out {
				out[i] = x / b[i]
			}
			return
		}
	}
	f := binFunc[T](op)
	for i := range out {
		out[i] = f(a[i*sa], b[i*sb])
	}
}

func boolT[T Float](c bool) T {
	if c {
		return 1
	}
	return 0
}

func binFunc[T Float](op binOp) func(x, y T) T {
	switch op {
	case opAdd:
		return func(x, y T) T { return x + y }
	case opSub:
		return func(x, y T) T { return x - y }
	case opMul:
		return func(x, y T) T { return x * y }
	case opDiv:
		return func(x, y T) T { return x / y }
	case opPow:
		return func(x, y T) T { return T(math.Pow(float64(x), float64(y))) }
	case opMaximum:
		return func(x, y T) T {
			if x != x || x > y {
				return x
			}
			return y
		}
	case opMinimum:
		return func(x, y T) T {
			if x != x || x < y {
				return x
			}
			return y
		}
	case opGreater:
		return func(x, y T) T { return boolT[T](x > y) }
	case opGreaterEqual:
		return func(x, y T) T { return boolT[T](x >= y) }
	case opLess:
		return func(x, y T) T { return boolT[T](x < y) }
	case opLessEqual:
		return func(x, y T) T { return boolT[T](x <= y) }
	case opEqual:
		return func(x, y T) T { return boolT[T](x == y) }
	}
	panic("tensor: unknown binary op")
}

// Where returns, element-wise, a where cond is non-zero and b elsewhere.
// The three operands broadcast together; cond may have either dtype.
func Where(cond, a, b *Tensor) *Tensor {
	sameDType("Where", a, b)
	cond = cond.AsType(a.dtype)
	shape := BroadcastShapes("Where", cond.shape, a.shape, b.shape)
	out := newUninit(a.dtype, shape...)
	switch d := out.data.(type) {
	case []float32:
		whereInto(d, shape, cond, a, b)
	case []float64:
		whereInto(d, shape, cond, a, b)
	}
	return out
}

func whereInto[T Float](out []T, shape []int, cond, a, b *Tensor) {
	cd, ad, bd := cond.data.([]T), a.data.([]T), b.data.([]T)
	sc, sa, sb := broadcastStrides(cond, shape), broadcastStrides(a, shape), broadcastStrides(b, shape)
	i := 0
	// Walk the index space with three offsets; Where is off the hot path.
	nd := len(shape)
	idx := make([]int, nd)
	oc, oa, ob := cond.offset, a.offset, b.offset
	for i < len(out) {
		if cd[oc] != 0 {
			out[i] = ad[oa]
		} else {
			out[i] = bd[ob]
		}
		i++
		for d := nd - 1; d >= 0; d-- {
			idx[d]++
			oc += sc[d]
			oa += sa[d]
			ob += sb[d]
			if idx[d] < shape[d] {
				break
			}
			oc -= sc[d] * shape[d]
			oa -= sa[d] * shape[d]
			ob -= sb[d] * shape[d]
			idx[d] = 0
		}
	}
}
