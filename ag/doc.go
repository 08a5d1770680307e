// Package ag is nabla's reverse-mode automatic differentiation: the chain
// rule applied op by op over a graph recorded as the program runs
// (define-by-run).
//
// # Ops and their VJPs
//
// Every op computes its value with package tensor and, in the same place,
// gives its vector-Jacobian product: a rule that turns the gradient of the
// loss with respect to the op's output into gradients with respect to its
// inputs. For y = W·x the rule is ∂L/∂x = Wᵀ·∂L/∂y, a matrix product; the
// Jacobian ∂y/∂x (here W itself, but for a batch of B rows through a layer
// of width H a (B·H)×(B·D) matrix, mostly zeros) is never built. This is
// why backpropagation costs about as much as the forward pass, and why
// training never needs a Jacobian. Jacobian, JacobianFwd, VJP, JVP,
// Hessian and HVP are there to look at the maths on small functions; their
// N forms (JacobianN, VJPN, JVPN, HessianN, HVPN) take functions of
// several inputs, and their At forms differentiate an output already built
// from leaves, such as a model's loss with respect to its parameters.
//
// User-defined ops go through Apply, exactly as the built-in ones do:
//
//	func Softsign(x *ag.Node) *ag.Node {
//		v := tensor.Div(x.Value(), tensor.AddScalar(tensor.Abs(x.Value()), 1))
//		return ag.Apply("Softsign", v, func(g *ag.Node, in []*ag.Node, _ *ag.Node, _ []bool) []*ag.Node {
//			return []*ag.Node{ag.Mul(g, ag.PowScalar(ag.AddScalar(ag.Abs(in[0]), 1), -2))}
//		}, x)
//	}
//
// # Gradients of gradients
//
// VJP rules are written with this package's ops. With CreateGraph the
// backward pass is itself recorded, so gradients can be differentiated
// again (Hessian-vector products, JVP through double backward); without
// it, the rules see detached inputs and run as plain tensor kernels.
//
// # Backward
//
// Backward(loss) adds ∂loss/∂x into the gradient of every leaf x created
// with Var (and of nodes marked RetainGrad); Grad returns gradients
// without storing them. Gradients of a value used several times add up.
// The graph is walked in a deterministic order (inputs in argument order),
// so the same program gives the same bits. The graph lives as long as the
// nodes that reach it: there is no global tape, and the garbage collector
// frees it.
//
// # Conventions at kinks
//
// Where an op is not differentiable the derivative follows PyTorch:
// ReLU'(0) = 0, LeakyReLU'(0) = slope, ELU'(0) = alpha, |x|' = 0 at 0,
// Clamp passes the gradient at its bounds, Maximum/Minimum split it evenly
// between equal operands, Max/Min reductions (and Norm with p = ∞) split
// it among ties, the 2-norm's gradient is 0 where the norm is 0, and
// Prod's is the product of the other elements, without dividing by a
// zero. MaxPool2D sends the gradient of a window whose maximum is tied to
// one element, the first in row-major window order, as PyTorch's CPU
// kernel does (a NaN in a window is its maximum and takes the gradient).
//
// # Convolutions
//
// Conv2D, Conv2DReLU and ConvTranspose2D follow
// torch.nn.functional.conv2d and conv_transpose2d: NCHW data, weights
// [out, in/groups, kh, kw] (transposed: [in, out/groups, kh, kw]),
// stride, padding (asymmetric allowed; SamePadding gives PyTorch's
// "same"), dilation and groups. Their VJPs are convolutions again, so
// second derivatives work. MaxPool2D, AvgPool2D and AdaptiveAvgPool2D
// follow the torch functions of the same names (ceil mode, padding counted
// or not); BatchNorm (batch statistics), LayerNorm and GroupNorm are
// compositions of Mean, Sub, Mul and PowScalar (BatchNorm also runs as a
// fused kernel when no graph of its gradient is recorded).
//
// Some primitives fuse ops that follow one another in networks, for
// speed and memory, with the values and gradients of the ops in turn:
// LinearReLU, Conv2DReLU, Conv2DMaxPool and Conv2DReLUMaxPool (the
// convolution's output pooled image by image, never stored whole),
// BatchNormReLU, and ChannelAffine(ReLU) (a BatchNorm in evaluation
// mode). nn.Sequential picks them (nn.Fuser).
//
// # Shapes
//
// MatMul follows torch.matmul, 1-D operands included: [k]·[k] is a
// scalar, [k]·[..., k, n] is [..., n] and [..., m, k]·[k] is [..., m].
// Slice takes negative indices counting from the end, as Python does.
// Binary ops broadcast as numpy does; the rules sum their gradients back
// to each input's shape. The engine checks that every gradient a rule
// returns has its input's shape and names the op when not.
//
// # Errors
//
// Shape and dtype mismatches panic with *tensor.ShapeError or
// *tensor.DTypeError naming the op and the shapes; wrap graph building
// driven by outside input in tensor.Try to get an error instead.
//
// # Concurrency
//
// Separate graphs may be built and differentiated on separate goroutines.
// A graph, and the gradients it accumulates, belong to one goroutine at a
// time. For inference beside training, start from an Untracked input: the
// ops that read it record nothing. NoGrad switches recording off
// process-wide (see its doc), for single-goroutine programs.
//
// # Memory
//
// Gradients that Backward stores own their buffers; Node.ReleaseGrad (what
// the optimisers' ZeroGrad calls) hands those buffers back for reuse by
// the next backward pass (tensor.Recycle). Copy a gradient you want to
// keep past ZeroGrad.
package ag
