// Package onnx converts nabla models to ONNX and back, in pure Go (the
// protobuf messages in onnx/onnxpb are generated from ONNX's onnx.proto
// with google.golang.org/protobuf; no cgo).
//
// # Export
//
// Export writes a model read by train.LoadModel (ExportSpec: a spec, a
// state dict and an input) as an ONNX model: IR version 8 and opset 17,
// which ONNX 1.12 and PyTorch 1.13 use; the batch dimension left dynamic;
// the input normalisation of the model file (train.Input's Mean and Std)
// as the first nodes, so that the ONNX model reads raw inputs as nabla's
// commands do; nodes named after the layer they come from
// ("3.Linear/Gemm"), initialisers after the state dict ("3.weight"); and,
// with Options.Softmax, a final Softmax. Every built-in layer kind has an
// ONNX form, kept in a table keyed by kind name:
//
//	Linear             Gemm (MatMul and Add on inputs of more dimensions)
//	ReLU, Sigmoid, …   Relu, LeakyRelu, Sigmoid, Tanh, Elu, Softplus
//	GELU, SiLU         composed (Erf, or Tanh and Pow; Sigmoid and Mul)
//	Flatten            Flatten, or Reshape to the static shape
//	Dropout(2d)        nothing (inference)
//	Conv2d …           Conv, ConvTranspose, MaxPool, AveragePool,
//	                   GlobalAveragePool
//	BatchNorm1d/2d     BatchNormalization (running statistics)
//	LayerNorm          LayerNormalization
//	GroupNorm          Reshape, InstanceNormalization, Reshape, Mul, Add
//
// The exported graph takes inputs as nabla's data sets give them to the
// model before normalisation: MNIST pixels scaled to [0, 1], unless the
// model was trained on raw pixels (the "nabla.input" metadata records
// raw_pixels, the data set and the classes, and the "nabla.arch" metadata
// the spec, which Import uses to give the model back exactly).
//
// A spec with kinds outside the table is refused with one error that lists
// them all; a few settings have no ONNX form in opset 17 (an AvgPool2d
// divisor, an AdaptiveAvgPool2d whose sizes do not divide, a BatchNorm
// without running statistics) and are refused by name.
//
// # Import
//
// Import reads an ONNX model of the same ops back into a spec (a
// Sequential of layers numbered from 0), a state dict and an Input, from
// which Imported.Model builds the model and train.SaveModel writes a
// nabla file. It reads nabla's exports and PyTorch's torch.onnx.export
// (opset 17): GELU and SiLU composed of element-wise ops are recognised
// by the function they compute, a BatchNorm folded into a convolution
// stays folded, torch's Shape/Slice/Concat computations of a Reshape's
// target are evaluated. A graph must be a chain from its one input to its
// one output; a final Softmax or LogSoftmax is taken off (Imported.FinalOp)
// so that the model gives scores, as nabla's classifiers do.
//
// # Errors
//
// Everything read from a file is checked before it is used: Decode walks
// the protobuf wire format first and refuses a file whose decoded form
// would take memory out of proportion to its size or that nests messages
// too deep; tensor sizes are checked against the data the file holds
// before anything is allocated; examples are limited to MaxExample values
// at the input and after every layer; unknown values, cycles, missing
// initialisers, branches and ops outside the set are errors. Errors are one
// line, start with "onnx: " and quote what the file names. Ops outside the
// set are listed in one error, with the nodes that use them.
package onnx
