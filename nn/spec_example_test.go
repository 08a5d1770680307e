package nn_test

import (
	"encoding/json"
	"fmt"

	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// A model described as text, resolved for MNIST-shaped examples (input
// sizes inferred), built, and described back as JSON.
func ExampleParseSpec() {
	s, err := nn.ParseSpec("flatten-linear(128)-relu-dropout(0.2)-linear(10)")
	if err != nil {
		panic(err)
	}
	s, out, err := nn.Resolve(s, []int{1, 28, 28})
	if err != nil {
		panic(err)
	}
	net, err := nn.Build(s, tensor.Float32, tensor.NewRand(1))
	if err != nil {
		panic(err)
	}
	js, _ := json.Marshal(s.Layers[1])
	fmt.Println("output per example:", out)
	fmt.Println("parameters:", nn.NumParams(net))
	fmt.Println("layer 1:", string(js))
	fmt.Println("text form:", s.Text())
	// Output:
	// output per example: [10]
	// parameters: 101770
	// layer 1: {"type":"Linear","in":784,"out":128,"bias":true,"init":"default"}
	// text form: flatten-linear(128)-relu-dropout(0.2)-linear(10)
}

// Errors in a spec name the layer and the setting: a bad setting when the
// spec is read, shapes that do not chain when it is resolved.
func ExampleResolve_error() {
	_, err := nn.ParseSpec("linear(64)-tanh-dropout(1.5)-linear(3)")
	fmt.Println(err)
	s, _ := nn.ParseSpec(`{"type":"Sequential","layers":[{"type":"Linear","in":2,"out":64},{"type":"Linear","in":32,"out":3}]}`)
	_, _, err = nn.Resolve(s, []int{2})
	fmt.Println(err)
	// Output:
	// nn: spec: layer 2 (Dropout): setting "p": 1.5 is outside [0, 1)
	// nn: spec: layer 1 (Linear): setting "in": 32, but the input has 64 features (shape [64])
}
