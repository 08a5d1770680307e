package tensor_test

import (
	"fmt"

	"github.com/nabla-go/nabla/tensor"
)

// A column [3, 1] and a row [4] broadcast to a [3, 4] table, as in numpy.
func Example_broadcasting() {
	col := tensor.FromValues(tensor.Float32, []float64{0, 10, 20}, 3, 1)
	row := tensor.FromValues(tensor.Float32, []float64{1, 2, 3, 4})
	fmt.Println(tensor.Add(col, row))
	// Output: [[1, 2, 3, 4], [11, 12, 13, 14], [21, 22, 23, 24]] [3 4] float32
}

// Sum over one axis removes it; SumKeep keeps it with size 1, so the
// result broadcasts back against its input.
func ExampleSum() {
	x := tensor.FromValues(tensor.Float64, []float64{1, 2, 3, 4, 5, 6}, 2, 3)
	fmt.Println(tensor.Sum(x, 0))
	fmt.Println(tensor.Sum(x, -1))
	fmt.Println(tensor.SumKeep(x, 1))
	fmt.Println(tensor.Sum(x))
	// Output:
	// [5, 7, 9] [3] float64
	// [6, 15] [2] float64
	// [[6], [15]] [2 1] float64
	// 21
}

// MatMul multiplies the last two axes; a transposed view is read in place.
func ExampleMatMul() {
	a := tensor.FromValues(tensor.Float64, []float64{1, 2, 3, 4, 5, 6}, 2, 3)
	b := tensor.FromValues(tensor.Float64, []float64{1, 0, 0, 1, 1, 1}, 3, 2)
	fmt.Println(tensor.MatMul(a, b))
	fmt.Println(tensor.MatMul(a, a.T())) // a·aᵀ
	// Output:
	// [[4, 5], [10, 11]] [2 2] float64
	// [[14, 32], [32, 77]] [2 2] float64
}

// Reshape of a contiguous tensor is a view of the same buffer; of a
// transposed one, a copy.
func ExampleReshape() {
	x := tensor.Arange(tensor.Float32, 0, 1, 6)
	m := tensor.Reshape(x, 2, -1) // −1: inferred as 3
	m.Set(100, 1, 0)
	fmt.Println(m)
	fmt.Println(x)
	t := tensor.Reshape(m.T(), 6)
	fmt.Println(t, tensor.SameBuffer(t, x))
	// Output:
	// [[0, 1, 2], [100, 4, 5]] [2 3] float32
	// [0, 1, 2, 100, 4, 5] [6] float32
	// [0, 100, 1, 4, 2, 5] [6] float32 false
}

// Try turns a shape panic into an error, for shapes that come from
// outside the program.
func ExampleTry() {
	a := tensor.New(tensor.Float32, 2, 3)
	b := tensor.New(tensor.Float32, 4, 3)
	err := tensor.Try(func() { tensor.MatMul(a, b) })
	fmt.Println(err)
	// Output: MatMul: inner dimensions differ (3 vs 4) (shapes [2 3], [4 3])
}
