package tensor

import (
	"fmt"
	"strconv"
	"strings"
)

// String formats t like numpy: nested brackets, with the shape and dtype
// for anything larger than a scalar. Large tensors are abbreviated.
func (t *Tensor) String() string {
	var sb strings.Builder
	vals := t.Values()
	if len(t.shape) == 0 {
		return formatFloat(vals[0], t.dtype)
	}
	var rec func(dim, off int)
	rec = func(dim, off int) {
		sb.WriteByte('[')
		n := t.shape[dim]
		stride := 1
		for _, s := range t.shape[dim+1:] {
			stride *= s
		}
		for i := 0; i < n; i++ {
			if n > 8 && i == 3 {
				sb.WriteString(", …")
				i = n - 3
			}
			if i > 0 {
				sb.WriteString(", ")
			}
			if dim == len(t.shape)-1 {
				sb.WriteString(formatFloat(vals[off+i], t.dtype))
			} else {
				rec(dim+1, off+i*stride)
			}
		}
		sb.WriteByte(']')
	}
	rec(0, 0)
	fmt.Fprintf(&sb, " %v %v", t.shape, t.dtype)
	return sb.String()
}

func formatFloat(v float64, dt DType) string {
	bits := 64
	if dt == Float32 {
		bits = 32
	}
	return strconv.FormatFloat(v, 'g', 6, bits)
}
