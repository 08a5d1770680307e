package ag_test

import (
	"fmt"
	"math"

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

// For y = W·x the Jacobian ∂y/∂x is W itself. Building it takes one
// backward pass per output; the VJP vᵀ·W that backpropagation needs takes
// one pass and never forms the matrix. Both give the same numbers.
func ExampleJacobian() {
	W := tensor.FromFloat64([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	f := func(x *ag.Node) *ag.Node {
		return ag.Reshape(ag.MatMul(ag.Const(W), ag.Reshape(x, 3, 1)), 2)
	}
	x := tensor.FromFloat64([]float64{1, 1, 1})
	J := ag.Jacobian(f, x)
	fmt.Println(J)

	v := tensor.FromFloat64([]float64{1, -1})
	_, vjp := ag.VJP(f, x, v)
	fmt.Println(vjp)
	// The same product through the materialised Jacobian: Jᵀ·v.
	fmt.Println(tensor.Reshape(tensor.MatMul(tensor.Reshape(v, 1, 2), J), 3))

	// For a layer of realistic size, W 512×784, count the backward passes
	// with an identity op whose VJP counts its calls.
	passes := 0
	counted := func(y *ag.Node) *ag.Node {
		return ag.Apply("Count", y.Value(), func(g *ag.Node, _ []*ag.Node, _ *ag.Node, _ []bool) []*ag.Node {
			passes++
			return []*ag.Node{g}
		}, y)
	}
	big := tensor.Normal(tensor.NewRand(1), tensor.Float64, 0, 1, 512, 784)
	g := func(x *ag.Node) *ag.Node {
		return counted(ag.Reshape(ag.MatMul(ag.Const(big), ag.Reshape(x, 784, 1)), 512))
	}
	x0 := tensor.Ones(tensor.Float64, 784)
	u := tensor.Normal(tensor.NewRand(2), tensor.Float64, 0, 1, 512)
	Jbig := ag.Jacobian(g, x0)
	fmt.Printf("Jacobian: %d backward passes, %d numbers\n", passes, Jbig.Len())
	passes = 0
	_, gv := ag.VJP(g, x0, u)
	fmt.Printf("VJP: %d backward pass, %d numbers\n", passes, gv.Len())
	viaJ := tensor.Reshape(tensor.MatMul(tensor.Reshape(u, 1, 512), Jbig), 784)
	fmt.Println("same result:", tensor.AllClose(gv, viaJ, 1e-12, 1e-12))
	// Output:
	// [[1, 2, 3], [4, 5, 6]] [2 3] float64
	// [-3, -3, -3] [3] float64
	// [-3, -3, -3] [3] float64
	// Jacobian: 512 backward passes, 401408 numbers
	// VJP: 1 backward pass, 784 numbers
	// same result: true
}

// LogSumExp never overflows, and its gradient is the softmax: here a row
// whose plain exponentials would be +Inf.
func ExampleLogSumExp() {
	x := ag.Var(tensor.FromFloat64([]float64{1000, 1000, 1000 - math.Log(2)}, 3))
	l := ag.LogSumExp(x)
	ag.Backward(l)
	fmt.Printf("logsumexp − 1000 = %.6f (log 2.5)\n", l.Item()-1000)
	fmt.Printf("gradient %.2f\n", x.Grad().Values())
	// Output:
	// logsumexp − 1000 = 0.916291 (log 2.5)
	// gradient [0.40 0.40 0.20]
}

// MatMul follows torch.matmul for vectors: a vector times a vector is
// their dot product, a matrix times a vector is a vector.
func ExampleMatMul_vector() {
	a := ag.Const(tensor.FromFloat64([]float64{1, 2, 3}, 3))
	m := ag.Const(tensor.FromFloat64([]float64{1, 0, 0, 0, 1, 1}, 2, 3))
	fmt.Println(ag.MatMul(a, a).Value().Shape(), ag.MatMul(a, a).Item())
	fmt.Println(ag.MatMul(m, a).Value().Values())
	// Output:
	// [] 14
	// [1 5]
}

// Derivatives of a function of two inputs, f(a, b) = a²·b: the Hessian
// comes in blocks, one per pair of inputs, and HVPN multiplies by it
// without forming it (torch.autograd.functional.hessian and hvp give the
// same numbers).
func ExampleHessianN() {
	f := func(in []*ag.Node) *ag.Node { return ag.Sum(ag.Mul(ag.Square(in[0]), in[1])) }
	xs := []*tensor.Tensor{tensor.FromFloat64([]float64{3}), tensor.FromFloat64([]float64{2})}
	h := ag.HessianN(f, xs)
	fmt.Println(h[0][0].Values(), h[0][1].Values(), h[1][0].Values(), h[1][1].Values())
	hv := ag.HVPN(f, xs, []*tensor.Tensor{tensor.FromFloat64([]float64{1}), tensor.FromFloat64([]float64{0})})
	fmt.Println(hv[0].Values(), hv[1].Values())
	// Output:
	// [4] [6] [6] [0]
	// [4] [6]
}
