package nn_test

import (
	"fmt"
	"slices"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// An MLP from a configuration, as a command line would build it: its
// layers, and its parameters with PyTorch's state_dict names and shapes.
func ExampleNewMLP() {
	net, err := nn.NewMLP(nn.MLPConfig{
		In: 2, Hidden: []int{16, 8}, Out: 3,
		Activation: "relu", Init: "he-uniform",
	}, tensor.NewRand(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(net.Layers)
	for _, p := range net.Params() {
		fmt.Println(p.Name, p.Node.Shape())
	}
	fmt.Println(nn.NumParams(net), "parameters")

	x := ag.Const(tensor.Zeros(tensor.Float32, 5, 2)) // a batch of 5
	fmt.Println("output", net.Forward(x).Shape())
	// Output:
	// [Linear(2, 16) ReLU() Linear(16, 8) ReLU() Linear(8, 3)]
	// 0.weight [16 2]
	// 0.bias [16]
	// 2.weight [8 16]
	// 2.bias [8]
	// 4.weight [3 8]
	// 4.bias [3]
	// 211 parameters
	// output [5 3]
}

// An unknown name is an error that lists the valid ones.
func ExampleActivationByName() {
	_, err := nn.ActivationByName("swish")
	fmt.Println(err)
	// Output:
	// nn: unknown activation "swish" (valid: relu, leaky-relu, sigmoid, tanh, elu, gelu, gelu-tanh, silu, softplus)
}

// Serving predictions: a Predictor gives Forward's values without a graph
// and, once warm, without allocating; its result is reused by the next
// call, so copy (Clone) what you keep.
func ExamplePredictor() {
	net, err := nn.NewMLP(nn.MLPConfig{In: 4, Hidden: []int{32}, Out: 3, Activation: "relu"}, tensor.NewRand(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	nn.SetTraining(net, false)
	p := nn.NewPredictor(net)
	x := tensor.Ones(tensor.Float32, 2, 4) // a batch of 2
	y := p.Predict(x)
	fmt.Println(y.Shape(), tensor.ArgMax(y, 1))
	want := net.Forward(ag.Untracked(x)).Value()
	fmt.Println("same as Forward:", slices.Equal(y.Values(), want.Values()))
	// Output:
	// [2 3] [1 1]
	// same as Forward: true
}
