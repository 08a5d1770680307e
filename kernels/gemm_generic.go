//go:build !amd64 || purego

package kernels

// Without assembly every element type uses the portable kernel.
var (
	sImpl = goImpl[float32]()
	dImpl = goImpl[float64]()
)
