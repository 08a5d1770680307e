package ag_test

import (
	"fmt"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// The seed's worked example: a sigmoid neuron f = σ(w0·x0 + w1·x1 + w2)
// with w = [2, −3, −3] and x = [−1, −2]. Backward gives each input's
// share of the output's change, op by op through the chain rule.
func Example_sigmoidNeuron() {
	w := ag.Var(tensor.FromFloat64([]float64{2, -3, -3}))
	x := ag.Var(tensor.FromFloat64([]float64{-1, -2}))

	// Append 1 to x so that w2 acts as the bias: w·[x, 1].
	x1 := ag.Concat(0, x, ag.Const(tensor.FromFloat64([]float64{1})))
	f := ag.Sigmoid(ag.Sum(ag.Mul(w, x1)))
	ag.Backward(f)

	fmt.Printf("f  = %.2f\n", f.Item())
	fmt.Printf("dx = %.2f\n", x.Grad().Values())
	fmt.Printf("dw = %.2f\n", w.Grad().Values())
	// Output:
	// f  = 0.73
	// dx = [0.39 -0.59]
	// dw = [-0.20 -0.39 0.20]
}

// A two-layer network f = W2·max(0, W1·x) and its backward pass: each
// weight's gradient has the weight's shape, and no Jacobian is built.
func Example_twoLayerNetwork() {
	rng := tensor.NewRand(1)
	x := ag.Const(tensor.Normal(rng, tensor.Float64, 0, 1, 4, 1))  // D = 4
	w1 := ag.Var(tensor.Normal(rng, tensor.Float64, 0, 0.5, 3, 4)) // H = 3
	w2 := ag.Var(tensor.Normal(rng, tensor.Float64, 0, 0.5, 2, 3)) // C = 2

	f := ag.MatMul(w2, ag.ReLU(ag.MatMul(w1, x)))
	loss := ag.Sum(ag.Square(f))
	ag.Backward(loss)

	fmt.Println("f:", f.Shape(), "dW1:", w1.Grad().Shape(), "dW2:", w2.Grad().Shape())
	// Output:
	// f: [2 1] dW1: [3 4] dW2: [2 3]
}

// For y = W·x the Jacobian ∂y/∂x is W itself; a VJP gives vᵀW with one
// matrix-vector product instead of materialising it.
func ExampleJacobian() {
	W := tensor.FromFloat64([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	f := func(x *ag.Node) *ag.Node {
		return ag.Reshape(ag.MatMul(ag.Const(W), ag.Reshape(x, 3, 1)), 2)
	}
	x := tensor.FromFloat64([]float64{1, 1, 1})
	fmt.Println(ag.Jacobian(f, x))

	_, vjp := ag.VJP(f, x, tensor.FromFloat64([]float64{1, -1}))
	fmt.Println(vjp)
	// Output:
	// [[1, 2, 3], [4, 5, 6]] [2 3] float64
	// [-3, -3, -3] [3] float64
}
