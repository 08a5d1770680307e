package onnx_test

import (
	"fmt"

	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/onnx"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

// Export a small classifier with a normaliser and a softmax; each node is
// named after the layer it comes from.
func ExampleExport() {
	spec, _ := nn.ParseSpec("linear(4)-silu-linear(2)")
	spec, _, _ = nn.Resolve(spec, []int{3})
	net, _ := nn.Build(spec, tensor.Float32, tensor.NewRand(1))
	in := train.Input{Shape: []int{3}, Classes: 2, Mean: []float64{0, 1, 2}, Std: []float64{1, 2, 3}}
	m, err := onnx.Export(&train.Model{Module: net, Spec: spec, Input: in}, onnx.Options{Softmax: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range m.GetGraph().GetNode() {
		fmt.Printf("%-18s %v -> %v\n", n.GetName(), n.GetInput(), n.GetOutput())
	}
	// Output:
	// input/Sub          [input input/mean] -> [input/Sub]
	// input/Div          [input/Sub input/std] -> [input/Div]
	// 0.Linear/Gemm      [input/Div 0.weight 0.bias] -> [0.Linear/Gemm]
	// 1.SiLU/Sigmoid     [0.Linear/Gemm] -> [1.SiLU/Sigmoid]
	// 1.SiLU/Mul         [0.Linear/Gemm 1.SiLU/Sigmoid] -> [1.SiLU/Mul]
	// 2.Linear/Gemm      [1.SiLU/Mul 2.weight 2.bias] -> [2.Linear/Gemm]
	// softmax/Softmax    [2.Linear/Gemm] -> [probabilities]
}

// Import a CNN that PyTorch 1.13 exported (torch.onnx.export, opset 17):
// its BatchNorm2d was folded into the first convolution.
func ExampleLoadModel() {
	m, err := onnx.LoadModel("../testdata/onnx/torch/cnn.onnx")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Spec.Text())
	fmt.Println(m.Input.Shape, m.Input.Classes)
	// Output:
	// conv(4, 3, pad=1)-relu-maxpool(2)-conv(8, 3, 2, groups=2, bias=false)-gelu-adaptiveavgpool(1)-flatten-linear(3)
	// [1 10 10] 3
}
