//go:build !purego

package kernels

// vecLevel is the vector extension that BatchNorm's float32 channel loops
// and the 2×2 max pooling use: cpuLevel (0 none, 1 AVX2 and FMA, 2
// AVX-512F). Tests lower it to reach every path.
var vecLevel = cpuLevel

// vecLevels lists the levels this CPU runs, for tests.
func vecLevels() []int {
	l := []int{0}
	for i := 1; i <= cpuLevel; i++ {
		l = append(l, i)
	}
	return l
}

// The channel loops take one channel: rows runs of cols elements, stride
// elements apart, starting at x[0]. rows and cols are at least 1.

func bnSum32(lvl int, x []float32, rows, cols, stride int) float64 {
	_ = x[(rows-1)*stride+cols-1]
	switch lvl {
	case 2:
		return bnSumAVX512(&x[0], rows, cols, stride)
	case 1:
		return bnSumAVX2(&x[0], rows, cols, stride)
	}
	return chanSum(x, rows, cols, stride)
}

func bnSqDev32(lvl int, x []float32, rows, cols, stride int, m float64) float64 {
	_ = x[(rows-1)*stride+cols-1]
	switch lvl {
	case 2:
		return bnSqDevAVX512(&x[0], rows, cols, stride, m)
	case 1:
		return bnSqDevAVX2(&x[0], rows, cols, stride, m)
	}
	return chanSqDev(x, rows, cols, stride, m)
}

func bnDots32(lvl int, g, x []float32, rows, cols, stride int, m float64) (float64, float64) {
	_ = x[(rows-1)*stride+cols-1]
	_ = g[(rows-1)*stride+cols-1]
	switch lvl {
	case 2:
		return bnDotsAVX512(&g[0], &x[0], rows, cols, stride, m)
	case 1:
		return bnDotsAVX2(&g[0], &x[0], rows, cols, stride, m)
	}
	return chanDots(g, x, rows, cols, stride, m)
}

func bnAffine32(lvl int, y, x []float32, rows, cols, stride int, sc, sh float32, relu bool) {
	_ = x[(rows-1)*stride+cols-1]
	_ = y[(rows-1)*stride+cols-1]
	switch lvl {
	case 2:
		bnAffineAVX512(&y[0], &x[0], rows, cols, stride, sc, sh, relu)
	case 1:
		bnAffineAVX2(&y[0], &x[0], rows, cols, stride, sc, sh, relu)
	default:
		chanAffine(y, x, rows, cols, stride, sc, sh, relu)
	}
}

func bnBackward32(lvl int, gx, g, x []float32, rows, cols, stride int, a, b, d float32) {
	_ = x[(rows-1)*stride+cols-1]
	_ = g[(rows-1)*stride+cols-1]
	_ = gx[(rows-1)*stride+cols-1]
	switch lvl {
	case 2:
		bnBackwardAVX512(&gx[0], &g[0], &x[0], rows, cols, stride, a, b, d)
	case 1:
		bnBackwardAVX2(&gx[0], &g[0], &x[0], rows, cols, stride, a, b, d)
	default:
		chanBackward(gx, g, x, rows, cols, stride, a, b, d)
	}
}

//go:noescape
func bnSumAVX512(x *float32, rows, cols, stride int) float64

//go:noescape
func bnSqDevAVX512(x *float32, rows, cols, stride int, m float64) float64

//go:noescape
func bnDotsAVX512(dy, x *float32, rows, cols, stride int, m float64) (sg, sgx float64)

//go:noescape
func bnAffineAVX512(y, x *float32, rows, cols, stride int, sc, sh float32, relu bool)

//go:noescape
func bnBackwardAVX512(gx, dy, x *float32, rows, cols, stride int, a, b, d float32)

//go:noescape
func bnSumAVX2(x *float32, rows, cols, stride int) float64

//go:noescape
func bnSqDevAVX2(x *float32, rows, cols, stride int, m float64) float64

//go:noescape
func bnDotsAVX2(dy, x *float32, rows, cols, stride int, m float64) (sg, sgx float64)

//go:noescape
func bnAffineAVX2(y, x *float32, rows, cols, stride int, sc, sh float32, relu bool)

//go:noescape
func bnBackwardAVX2(gx, dy, x *float32, rows, cols, stride int, a, b, d float32)
