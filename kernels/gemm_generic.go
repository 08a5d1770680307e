//go:build !amd64 || purego

package kernels

// Without assembly every element type uses the portable kernel.
var (
	sImpl = goImpl[float32]()
	dImpl = goImpl[float64]()
)

// candidateImpls returns a fresh copy of every configuration this build
// can run.
func candidateImpls() ([]*gemmImpl[float32], []*gemmImpl[float64]) {
	return []*gemmImpl[float32]{goImpl[float32]()}, []*gemmImpl[float64]{goImpl[float64]()}
}
