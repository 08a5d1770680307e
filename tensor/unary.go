package tensor

import (
	"math"

	"github.com/nabla-go/nabla/kernels"
)

type unaryOp uint8

const (
	opNeg unaryOp = iota
	opExp
	opLog
	opSqrt
	opAbs
	opSign
	opSquare
	opRecip
	opTanh
	opSigmoid
	opErf
	opReLU
	opStep
	opSoftplus
	opSiLU
	opGELU
	opGELUTanh
	opLeakyReLU // p = slope
	opELU       // p = alpha
	opScale     // p = factor
	opShift     // p = addend
	opPowScalar // p = exponent
	opClampLo   // p = lower bound
	opClampHi   // p = upper bound
)

// Neg returns −x.
func Neg(x *Tensor) *Tensor { return unary(opNeg, x, 0) }

// Exp returns eˣ element-wise.
func Exp(x *Tensor) *Tensor { return unary(opExp, x, 0) }

// Log returns the natural logarithm element-wise.
func Log(x *Tensor) *Tensor { return unary(opLog, x, 0) }

// Sqrt returns the square root element-wise.
func Sqrt(x *Tensor) *Tensor { return unary(opSqrt, x, 0) }

// Abs returns |x| element-wise.
func Abs(x *Tensor) *Tensor { return unary(opAbs, x, 0) }

// Sign returns −1, 0 or 1 by the sign of each element (NaN stays NaN).
func Sign(x *Tensor) *Tensor { return unary(opSign, x, 0) }

// Square returns x² element-wise.
func Square(x *Tensor) *Tensor { return unary(opSquare, x, 0) }

// Reciprocal returns 1/x element-wise.
func Reciprocal(x *Tensor) *Tensor { return unary(opRecip, x, 0) }

// Tanh returns the hyperbolic tangent element-wise.
func Tanh(x *Tensor) *Tensor { return unary(opTanh, x, 0) }

// Sigmoid returns 1/(1+e⁻ˣ) element-wise, computed without overflow.
func Sigmoid(x *Tensor) *Tensor { return unary(opSigmoid, x, 0) }

// Erf returns the error function element-wise.
func Erf(x *Tensor) *Tensor { return unary(opErf, x, 0) }

// ReLU returns max(0, x) element-wise.
func ReLU(x *Tensor) *Tensor { return unary(opReLU, x, 0) }

// Step returns 1 where x > 0 and 0 elsewhere (the derivative of ReLU, with
// ReLU'(0) = 0 as in PyTorch).
func Step(x *Tensor) *Tensor { return unary(opStep, x, 0) }

// Softplus returns log(1+eˣ), computed as max(x,0)+log1p(e^−|x|) so that it
// neither overflows nor loses precision.
func Softplus(x *Tensor) *Tensor { return unary(opSoftplus, x, 0) }

// SiLU returns x·σ(x) element-wise (also called swish).
func SiLU(x *Tensor) *Tensor { return unary(opSiLU, x, 0) }

// GELU returns x·Φ(x) = x/2·(1+erf(x/√2)), the exact Gaussian error linear
// unit (Hendrycks and Gimpel, 2016).
func GELU(x *Tensor) *Tensor { return unary(opGELU, x, 0) }

// GELUTanh returns the tanh approximation of GELU,
// x/2·(1+tanh(√(2/π)(x+0.044715x³))), as PyTorch's approximate="tanh".
func GELUTanh(x *Tensor) *Tensor { return unary(opGELUTanh, x, 0) }

// LeakyReLU returns x where x > 0 and slope·x elsewhere.
func LeakyReLU(x *Tensor, slope float64) *Tensor { return unary(opLeakyReLU, x, slope) }

// ELU returns x where x > 0 and alpha·(eˣ−1) elsewhere.
func ELU(x *Tensor, alpha float64) *Tensor { return unary(opELU, x, alpha) }

// Scale returns c·x.
func Scale(x *Tensor, c float64) *Tensor { return unary(opScale, x, c) }

// AddScalar returns x + c.
func AddScalar(x *Tensor, c float64) *Tensor { return unary(opShift, x, c) }

// PowScalar returns xᵖ element-wise.
func PowScalar(x *Tensor, p float64) *Tensor { return unary(opPowScalar, x, p) }

// Clamp limits every element to [lo, hi]. Pass math.Inf to leave a side
// open. NaN stays NaN.
func Clamp(x *Tensor, lo, hi float64) *Tensor {
	y := x
	if !math.IsInf(lo, -1) {
		y = unary(opClampLo, y, lo)
	}
	if !math.IsInf(hi, 1) {
		y = unary(opClampHi, y, hi)
	}
	if y == x {
		return x.Clone()
	}
	return y
}

func unary(op unaryOp, x *Tensor, p float64) *Tensor {
	return unaryInto(op, newUninit(x.dtype, x.shape...), x, p)
}

// unaryInto writes op(x) into out, a contiguous tensor of x's shape and
// dtype, which may be x itself. Small tensors (and one thread) make no
// closure for the worker pool, so they allocate nothing.
func unaryInto(op unaryOp, out, x *Tensor, p float64) *Tensor {
	c := x.Contiguous()
	n := out.Len()
	switch d := out.data.(type) {
	case []float32:
		unarySpan(op, d[out.offset:out.offset+n], c.data.([]float32)[c.offset:c.offset+n], p)
	case []float64:
		unarySpan(op, d[out.offset:out.offset+n], c.data.([]float64)[c.offset:c.offset+n], p)
	}
	return out
}

// unarySpan writes op(src) into dst, over the worker pool when the span
// is large enough (the closure is made only then).
func unarySpan[T Float](op unaryOp, dst, src []T, p float64) {
	if !parallelElements(len(dst)) {
		unaryRow(op, dst, src, p)
		return
	}
	chunked(len(dst), func(lo, hi int) { unaryRow(op, dst[lo:hi], src[lo:hi], p) })
}

// The activations written into dst, which has x's shape and dtype, is
// contiguous and may be x itself (in place); they return dst and allocate
// nothing (except, for tensors large enough to be split over the worker
// pool, one closure): for inference paths that keep their own buffers,
// such as nn.Predictor. Each gives the bits of its allocating form.

// ReLUInto writes ReLU(x) into dst.
func ReLUInto(dst, x *Tensor) *Tensor { return elementwiseInto("ReLUInto", opReLU, dst, x, 0) }

// LeakyReLUInto writes LeakyReLU(x, slope) into dst.
func LeakyReLUInto(dst, x *Tensor, slope float64) *Tensor {
	return elementwiseInto("LeakyReLUInto", opLeakyReLU, dst, x, slope)
}

// ELUInto writes ELU(x, alpha) into dst.
func ELUInto(dst, x *Tensor, alpha float64) *Tensor {
	return elementwiseInto("ELUInto", opELU, dst, x, alpha)
}

// SigmoidInto writes Sigmoid(x) into dst.
func SigmoidInto(dst, x *Tensor) *Tensor { return elementwiseInto("SigmoidInto", opSigmoid, dst, x, 0) }

// TanhInto writes Tanh(x) into dst.
func TanhInto(dst, x *Tensor) *Tensor { return elementwiseInto("TanhInto", opTanh, dst, x, 0) }

// GELUInto writes GELU(x) into dst.
func GELUInto(dst, x *Tensor) *Tensor { return elementwiseInto("GELUInto", opGELU, dst, x, 0) }

// GELUTanhInto writes GELUTanh(x) into dst.
func GELUTanhInto(dst, x *Tensor) *Tensor {
	return elementwiseInto("GELUTanhInto", opGELUTanh, dst, x, 0)
}

// SiLUInto writes SiLU(x) into dst.
func SiLUInto(dst, x *Tensor) *Tensor { return elementwiseInto("SiLUInto", opSiLU, dst, x, 0) }

// SoftplusInto writes Softplus(x) into dst.
func SoftplusInto(dst, x *Tensor) *Tensor {
	return elementwiseInto("SoftplusInto", opSoftplus, dst, x, 0)
}

func elementwiseInto(name string, op unaryOp, dst, x *Tensor, p float64) *Tensor {
	checkInto(name, dst, x.dtype, x.shape)
	return unaryInto(op, dst, x, p)
}

// checkInto panics unless dst can take a result of dtype dt and shape:
// contiguous, from its buffer's start, with that shape and dtype.
func checkInto(name string, dst *Tensor, dt DType, shape []int) {
	if dst.dtype != dt {
		panic(&DTypeError{Op: name, DTypes: []DType{dt, dst.dtype}})
	}
	if !equalShape(dst.shape, shape) {
		shapePanic(name, "dst's shape differs from the result's", shape, dst.shape)
	}
	if !dst.IsContiguous() {
		shapePanic(name, "dst must be contiguous", dst.shape)
	}
}

// parallelElements reports whether chunked would split n elements over
// the worker pool.
func parallelElements(n int) bool { return n >= 2*elementGrain && kernels.Threads() > 1 }

const (
	sqrt2        = math.Sqrt2
	sqrt2OverPi  = 0.7978845608028654 // √(2/π)
	geluTanhCoef = 0.044715
)

func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

func softplus(v float64) float64 { return math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v))) }

// unaryRow writes op(src) to dst. Cheap ops run in T; transcendental ones
// are evaluated in float64 and rounded, which keeps float32 results within
// half an ulp of the true value.
func unaryRow[T Float](op unaryOp, dst, src []T, p float64) {
	src = src[:len(dst)]
	pt := T(p)
	switch op {
	case opNeg:
		for i, v := range src {
			dst[i] = -v
		}
	case opAbs:
		for i, v := range src {
			if v < 0 {
				v = -v
			}
			dst[i] = v
		}
	case opSign:
		for i, v := range src {
			switch {
			case v > 0:
				dst[i] = 1
			case v < 0:
				dst[i] = -1
			default:
				dst[i] = v // 0, −0 or NaN
			}
		}
	case opSquare:
		for i, v := range src {
			dst[i] = v * v
		}
	case opRecip:
		for i, v := range src {
			dst[i] = 1 / v
		}
	case opReLU:
		if d32, ok := any(dst).([]float32); ok {
			kernels.ReLU32(d32, any(src).([]float32))
			return
		}
		for i, v := range src {
			dst[i] = max(v, 0) // NaN stays NaN; no branch to mispredict
		}
	case opStep:
		stepRow(dst, src)
	case opLeakyReLU:
		for i, v := range src {
			if v > 0 {
				dst[i] = v
			} else {
				dst[i] = v * pt
			}
		}
	case opScale:
		for i, v := range src {
			dst[i] = v * pt
		}
	case opShift:
		for i, v := range src {
			dst[i] = v + pt
		}
	case opClampLo:
		for i, v := range src {
			if v < pt {
				v = pt
			}
			dst[i] = v
		}
	case opClampHi:
		for i, v := range src {
			if v > pt {
				v = pt
			}
			dst[i] = v
		}
	case opELU:
		// As unaryFunc's, in float64, without its closure over alpha (an
		// allocation a call, which ELUInto must not make).
		for i, v := range src {
			if v > 0 {
				dst[i] = v
			} else {
				dst[i] = T(p * math.Expm1(float64(v)))
			}
		}
	default:
		f := unaryFunc(op, p)
		if d32, ok := any(dst).([]float32); ok {
			mapFloat32(f, d32, any(src).([]float32))
			return
		}
		for i, v := range src {
			dst[i] = T(f(float64(v)))
		}
	}
}

// mapFloat32 computes dst[i] = f(src[i]) in float64, converting a block
// at a time. Converting element by element ties every iteration to the
// last through the false dependency of CVTSS2SD on its destination
// register, which made float32 Exp three times slower than float64's.
func mapFloat32(f func(float64) float64, dst, src []float32) {
	var buf [256]float64
	for len(src) > 0 {
		n := min(len(src), len(buf))
		b := buf[:n]
		for i, v := range src[:n] {
			b[i] = float64(v)
		}
		for i, v := range b {
			b[i] = f(v)
		}
		for i, v := range b {
			dst[i] = float32(v)
		}
		src, dst = src[n:], dst[n:]
	}
}

func unaryFunc(op unaryOp, p float64) func(float64) float64 {
	switch op {
	case opExp:
		return math.Exp
	case opLog:
		return math.Log
	case opSqrt:
		return math.Sqrt
	case opTanh:
		return math.Tanh
	case opErf:
		return math.Erf
	case opSigmoid:
		return sigmoid
	case opSoftplus:
		return softplus
	case opSiLU:
		return func(v float64) float64 { return v * sigmoid(v) }
	case opGELU:
		return func(v float64) float64 { return 0.5 * v * (1 + math.Erf(v/sqrt2)) }
	case opGELUTanh:
		return func(v float64) float64 {
			return 0.5 * v * (1 + math.Tanh(sqrt2OverPi*(v+geluTanhCoef*v*v*v)))
		}
	case opELU:
		return func(v float64) float64 {
			if v > 0 {
				return v
			}
			return p * math.Expm1(v)
		}
	case opPowScalar:
		return func(v float64) float64 { return math.Pow(v, p) }
	}
	panic("tensor: unknown unary op")
}
