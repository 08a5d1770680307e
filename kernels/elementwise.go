package kernels

// ReLU32 sets dst[i] = src[i] where src[i] > 0 or is NaN, and +0
// elsewhere (−0 included): max(0, x) with NaN kept, as torch.relu. dst and
// src may be the same slice; they must have equal lengths.
func ReLU32(dst, src []float32) {
	if len(src) != len(dst) {
		panic("kernels: ReLU32: slices of different lengths")
	}
	n := relu32Vec(dst, src)
	for i, v := range src[n:] {
		if !(v <= 0) { // true for x > 0 and for NaN
			dst[n+i] = v
		} else {
			dst[n+i] = 0
		}
	}
}

// MaskPositive32 sets dst[i] = g[i] where x[i] > 0 and 0 elsewhere (NaN
// in x counts as not positive): ReLU's backward pass. The slices must
// have equal lengths; dst may be g.
func MaskPositive32(dst, g, x []float32) {
	if len(g) != len(dst) || len(x) != len(dst) {
		panic("kernels: MaskPositive32: slices of different lengths")
	}
	n := maskPositive32Vec(dst, g, x)
	for i, v := range x[n:] {
		if v > 0 {
			dst[n+i] = g[n+i]
		} else {
			dst[n+i] = 0
		}
	}
}
