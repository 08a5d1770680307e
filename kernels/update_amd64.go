//go:build !purego

package kernels

// sgdMomentumVec runs the AVX2 loop over the longest prefix that is a
// multiple of 8 and returns its length (0 without AVX2).
func sgdMomentumVec(w, g, b []float32, lr, mom, damp, wd float32, nesterov bool) int {
	n := len(w) &^ 7
	if cpuLevel < 1 || n == 0 {
		return 0
	}
	sgdMomentumAVX2(&w[0], &g[0], &b[0], n/8, lr, mom, damp, wd, nesterov)
	return n
}

//go:noescape
func sgdMomentumAVX2(w, grad, buf *float32, blocks int, lr, mom, damp, wd float32, nesterov bool)

// adamVec runs the AVX2 Adam loop over the longest prefix that is a
// multiple of 8 and returns its length (0 without AVX2).
func adamVec(w, g, m, v []float32, c *adamConsts) int {
	n := len(w) &^ 7
	if cpuLevel < 1 || n == 0 {
		return 0
	}
	adamAVX2(&w[0], &g[0], &m[0], &v[0], n/8, c)
	return n
}

//go:noescape
func adamAVX2(w, grad, m, v *float32, blocks int, c *adamConsts)
