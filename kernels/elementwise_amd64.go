//go:build !purego

package kernels

// relu32Vec runs the AVX2 loop over the longest prefix that is a multiple
// of 8 and returns its length (0 without AVX2).
func relu32Vec(dst, src []float32) int {
	n := len(dst) &^ 7
	if cpuLevel < 1 || n == 0 {
		return 0
	}
	relu32AVX2(&dst[0], &src[0], n/8)
	return n
}

func maskPositive32Vec(dst, g, x []float32) int {
	n := len(dst) &^ 7
	if cpuLevel < 1 || n == 0 {
		return 0
	}
	maskPositive32AVX2(&dst[0], &g[0], &x[0], n/8)
	return n
}

//go:noescape
func relu32AVX2(dst, src *float32, blocks int)

//go:noescape
func maskPositive32AVX2(dst, grad, x *float32, blocks int)
