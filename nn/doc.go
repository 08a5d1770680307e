// Package nn holds the layers of a network as Modules (Linear, the
// activations, Dropout, Flatten, and Sequential to chain them), models
// described as data (Spec, built by Build from a registry of layer kinds),
// NewMLP to build a multilayer perceptron from a configuration, weight
// initialisation schemes (Init), and state dicts for saving and loading
// parameters and buffers by name.
//
// # Models as data
//
// A Spec describes a model: a tree of layers, each a kind with settings,
// in JSON ({"type":"Linear","in":784,"out":512}) or as text for command
// lines ("linear(512)-relu-dropout(0.2)-linear(10)", input sizes
// inferred). Resolve checks a spec for the shape of one input example and
// fills in what the input implies; Build allocates it; SpecOf describes a
// built model. Register adds a layer kind, as the built-in ones are added.
//
//	s, err := nn.ParseSpec("flatten-linear(128)-relu-linear(10)")
//	s, out, err := nn.Resolve(s, []int{1, 28, 28}) // out is [10]
//	net, err := nn.Build(s, tensor.Float32, rng)
//
// Errors in a spec name the layer's path ("2", "1.0") and the setting, and
// come before anything is allocated.
//
// A Module's Forward records an ag graph; its Params are the ag.Var leaves
// an optimiser updates. Names and layouts follow PyTorch: a Linear's
// weight is [out, in], and the parameters of nn.Sequential(Linear, ReLU,
// Linear) are "0.weight", "0.bias", "2.weight", "2.bias" here as there, so
// a state_dict moves between the two by name.
//
//	net, err := nn.NewMLP(nn.MLPConfig{In: 2, Hidden: []int{64}, Out: 3, Activation: "relu"}, rng)
//	logits := net.Forward(ag.Const(x)) // x is [N, 2]; logits [N, 3]
//
// # Shapes
//
// Linear maps [N, in] (or [..., N, in]) to [N, out]. Activations and
// Dropout work element-wise on any shape. Sequential checks nothing itself:
// each layer checks its own input.
//
// The convolutional kinds take images [N, C, H, W] (examples [C, H, W] in
// a spec): Conv2d ("conv(32, 5, pad=2)", weight [out, in/groups, k, k]),
// ConvTranspose2d ("convt", weight [in, out/groups, k, k]), MaxPool2d
// ("maxpool(2)"), AvgPool2d, AdaptiveAvgPool2d ("adaptiveavgpool(1)" is
// global average pooling), Dropout2d (whole channels), and the
// normalisations BatchNorm1d/BatchNorm2d, LayerNorm and GroupNorm, with
// PyTorch's names, layouts and default initialisation.
//
// # Randomness
//
// Every random draw comes from a *rand.Rand the caller passes
// (tensor.NewRand(seed)): the same seed gives the same weights and the same
// dropout masks, bit for bit. Init draws the weight and then the bias, in
// row-major order; float32 parameters get the float64 draws rounded.
//
// # Training and evaluation
//
// Dropout, Dropout2d and BatchNorm behave differently in training and
// evaluation, and start in training mode as PyTorch's do. BatchNorm
// normalises with the batch's statistics in training and updates its
// running statistics, buffers saved beside the parameters ("running_mean",
// "running_var", "num_batches_tracked") but not trained; in evaluation it
// uses them. Its momentum is PyTorch's: running = (1 − 0.1)·running +
// 0.1·batch, with the unbiased batch variance (CS231n and ONNX write
// momentum 0.9 for the same update). SetTraining(net, false) switches every
// module of the tree (Walk reaches them through Container) to evaluation,
// where Dropout is the identity and draws nothing.
//
// # Inference
//
// A Predictor is the serving path: Predict(x) gives Forward's values bit
// for bit with no graph, written into buffers it keeps from call to call,
// so that an MLP's prediction allocates nothing once warm, at batch 1 as
// at batch 1000 (other layers run through Sequential.Forward and allocate
// as it does). Its result is overwritten by the next call; one Predictor
// per goroutine.
//
//	nn.SetTraining(net, false)
//	p := nn.NewPredictor(net)
//	y := p.Predict(x) // valid until the next Predict
//
// # Errors
//
// Configuration that comes from outside (activation and init scheme names,
// layer sizes and dropout probability in an MLPConfig, a state dict read
// from a file) is checked and returns an error that names the bad value or
// key and, for names, lists the valid ones. Graph building with wrong
// shapes is a programming error and panics with a *tensor.ShapeError naming
// the op and the shapes (for example "Linear" given [N, 5] for a weight
// [2, 3]); tensor.Try turns those panics into errors. NewLinear with a size
// below 1 and NewDropout with p outside [0, 1) panic too: NewMLP checks both
// first.
//
// # Concurrency
//
// Forward only reads a module's parameters, so evaluation-mode forward
// passes on ag.Untracked inputs may run on several goroutines at once, and
// beside training on another goroutine (ag.NoGrad may not: it switches
// recording off for the whole process). Dropout in training mode draws
// from its generator, and Backward adds into the parameters' gradients: a
// module being trained belongs to one goroutine at a time. Sequential
// recycles its intermediate outputs when no graph is recorded, so a layer
// must not keep its input.
package nn
