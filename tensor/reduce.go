package tensor

import (
	"fmt"
	"math"
	"slices"
)

type reduceOp uint8

const (
	redSum reduceOp = iota
	redMax
	redMin
)

// Sum adds x's elements over the given axes, removing them; with no axes it
// sums everything into a scalar.
func Sum(x *Tensor, axes ...int) *Tensor { return reduce("Sum", redSum, x, axes, false) }

// SumKeep is Sum that keeps the reduced axes with size 1, so that the
// result broadcasts against x.
func SumKeep(x *Tensor, axes ...int) *Tensor { return reduce("Sum", redSum, x, axes, true) }

// Mean averages x's elements over the given axes (all when none).
func Mean(x *Tensor, axes ...int) *Tensor { return mean(x, axes, false) }

// MeanKeep is Mean keeping the reduced axes with size 1.
func MeanKeep(x *Tensor, axes ...int) *Tensor { return mean(x, axes, true) }

// Max takes the largest element over the given axes (all when none). NaN
// propagates.
func Max(x *Tensor, axes ...int) *Tensor { return reduce("Max", redMax, x, axes, false) }

// MaxKeep is Max keeping the reduced axes with size 1.
func MaxKeep(x *Tensor, axes ...int) *Tensor { return reduce("Max", redMax, x, axes, true) }

// Min takes the smallest element over the given axes (all when none).
func Min(x *Tensor, axes ...int) *Tensor { return reduce("Min", redMin, x, axes, false) }

// MinKeep is Min keeping the reduced axes with size 1.
func MinKeep(x *Tensor, axes ...int) *Tensor { return reduce("Min", redMin, x, axes, true) }

func mean(x *Tensor, axes []int, keep bool) *Tensor {
	s := reduce("Mean", redSum, x, axes, keep)
	n := x.Len() / max(s.Len(), 1)
	return Scale(s, 1/float64(n))
}

// normAxes resolves negative axes, sorts them and rejects repeats; no axes
// means all of them.
func normAxes(op string, x *Tensor, axes []int) []int {
	if len(axes) == 0 {
		all := make([]int, len(x.shape))
		for i := range all {
			all[i] = i
		}
		return all
	}
	out := make([]int, len(axes))
	for i, a := range axes {
		out[i] = x.axis(op, a)
	}
	slices.Sort(out)
	for i := 1; i < len(out); i++ {
		if out[i] == out[i-1] {
			shapePanic(op, fmt.Sprintf("axis %d repeated", out[i]), x.shape)
		}
	}
	return out
}

// reduceShape returns x's shape with axes removed, or set to 1 with keep.
func reduceShape(shape, axes []int, keep bool) []int {
	var out []int
	for i, s := range shape {
		if slices.Contains(axes, i) {
			if keep {
				out = append(out, 1)
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// asORI views x as [outer, reduced, inner] so that a reduction is a loop
// over the middle axis. Reduced axes that are not one consecutive block are
// first moved to the end (a copy).
func asORI(x *Tensor, axes []int) (c *Tensor, o, r, in int) {
	consecutive := axes[len(axes)-1]-axes[0] == len(axes)-1
	if !consecutive {
		var perm []int
		for i := range x.shape {
			if !slices.Contains(axes, i) {
				perm = append(perm, i)
			}
		}
		perm = append(perm, axes...)
		x = Permute(x, perm...)
		axes = perm[len(perm)-len(axes):]
		for i := range axes {
			axes[i] = len(perm) - len(axes) + i
		}
	}
	c = x.Contiguous()
	o, r, in = 1, 1, 1
	for i, s := range c.shape {
		switch {
		case i < axes[0]:
			o *= s
		case i <= axes[len(axes)-1]:
			r *= s
		default:
			in *= s
		}
	}
	return c, o, r, in
}

func reduce(name string, op reduceOp, x *Tensor, axes []int, keep bool) *Tensor {
	axes = normAxes(name, x, axes)
	shape := reduceShape(x.shape, axes, keep)
	out := New(x.dtype, shape...)
	if len(axes) == 0 { // a scalar: nothing to reduce
		out.CopyFrom(x)
		return out
	}
	c, o, r, in := asORI(x, axes)
	if r == 0 && op != redSum {
		shapePanic(name, "reduction over an empty axis", x.shape)
	}
	switch d := out.data.(type) {
	case []float32:
		reduceORI(op, d, c.data.([]float32)[c.offset:c.offset+c.Len()], o, r, in)
	case []float64:
		reduceORI(op, d, c.data.([]float64)[c.offset:c.offset+c.Len()], o, r, in)
	}
	return out
}

func reduceORI[T Float](op reduceOp, out, x []T, o, r, in int) {
	for i := 0; i < o; i++ {
		dst := out[i*in : (i+1)*in]
		blk := x[i*r*in : (i+1)*r*in]
		if in == 1 {
			dst[0] = reduceRow(op, blk)
			continue
		}
		if r == 0 {
			clear(dst)
			continue
		}
		copy(dst, blk[:in])
		for k := 1; k < r; k++ {
			row := blk[k*in : (k+1)*in]
			switch op {
			case redSum:
				for j, v := range row {
					dst[j] += v
				}
			case redMax:
				for j, v := range row {
					if v > dst[j] || v != v {
						dst[j] = v
					}
				}
			case redMin:
				for j, v := range row {
					if v < dst[j] || v != v {
						dst[j] = v
					}
				}
			}
		}
	}
}

// reduceRow reduces a contiguous row. Sums use four partial accumulators,
// which is faster and rounds less than one running total.
func reduceRow[T Float](op reduceOp, x []T) T {
	switch op {
	case redSum:
		var s0, s1, s2, s3 T
		i := 0
		for ; i+4 <= len(x); i += 4 {
			s0 += x[i]
			s1 += x[i+1]
			s2 += x[i+2]
			s3 += x[i+3]
		}
		for ; i < len(x); i++ {
			s0 += x[i]
		}
		return (s0 + s1) + (s2 + s3)
	case redMax:
		m := x[0]
		for _, v := range x[1:] {
			if v > m || v != v {
				m = v
			}
		}
		return m
	default:
		m := x[0]
		for _, v := range x[1:] {
			if v < m || v != v {
				m = v
			}
		}
		return m
	}
}

// ArgMax returns, for each position of x with axis removed (row-major), the
// index along axis of the largest element; the first one on ties. NaN
// counts as largest.
func ArgMax(x *Tensor, axis int) []int {
	a := x.axis("ArgMax", axis)
	if x.shape[a] == 0 {
		shapePanic("ArgMax", "empty axis", x.shape)
	}
	c, o, r, in := asORI(x, []int{a})
	vals := c.Values()
	out := make([]int, o*in)
	for i := 0; i < o; i++ {
		for j := 0; j < in; j++ {
			best, bi := math.Inf(-1), 0
			for k := 0; k < r; k++ {
				v := vals[(i*r+k)*in+j]
				if v != v {
					bi = k
					break
				}
				if v > best || k == 0 {
					best, bi = v, k
				}
			}
			out[i*in+j] = bi
		}
	}
	return out
}
