package kernels_test

import (
	"fmt"

	"github.com/nabla-go/nabla/kernels"
)

func ExampleSgemm() {
	// C (2×2) = A (2×3) · B (3×2), all row-major.
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float32{
		1, 0,
		0, 1,
		1, 1,
	}
	c := make([]float32, 4)
	kernels.Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)

	// C = Aᵀ·A (3×3) reuses A's storage, with transA set.
	ata := make([]float32, 9)
	kernels.Sgemm(true, false, 3, 3, 2, 1, a, 3, a, 3, 0, ata, 3)
	fmt.Println(ata)
	// Output:
	// [4 5 10 11]
	// [17 22 27 22 29 36 27 36 45]
}

func ExampleParallelFor() {
	x := make([]float64, 10000)
	kernels.ParallelFor(len(x), 1024, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			x[i] = float64(i) * 2
		}
	})
	fmt.Println(x[0], x[9999])
	// Output: 0 19998
}
