//go:build !amd64 || purego

package kernels

// vecLevel is always 0 without assembly: the portable loops.
var vecLevel = 0

func vecLevels() []int { return []int{0} }

func bnSum32(lvl int, x []float32, rows, cols, stride int) float64 {
	return chanSum(x, rows, cols, stride)
}

func bnSqDev32(lvl int, x []float32, rows, cols, stride int, m float64) float64 {
	return chanSqDev(x, rows, cols, stride, m)
}

func bnDots32(lvl int, g, x []float32, rows, cols, stride int, m float64) (float64, float64) {
	return chanDots(g, x, rows, cols, stride, m)
}

func bnAffine32(lvl int, y, x []float32, rows, cols, stride int, sc, sh float32, relu bool) {
	chanAffine(y, x, rows, cols, stride, sc, sh, relu)
}

func bnBackward32(lvl int, gx, g, x []float32, rows, cols, stride int, a, b, d float32) {
	chanBackward(gx, g, x, rows, cols, stride, a, b, d)
}
