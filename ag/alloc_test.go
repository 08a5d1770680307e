package ag_test

import (
	"slices"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/tensor"
)

// Linear's gradient is computed by kernels on the buffers when no graph of
// it is wanted (tensor.LinearGrads) and by ag ops when one is
// (CreateGraph): both give the same bits, for both dtypes, with and
// without a bias and a ReLU, on a batch of rows, one row and a 3-D input.
func TestLinearGradientPathsAgree(t *testing.T) {
	rng := tensor.NewRand(4)
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, xs := range [][]int{{32, 20}, {1, 20}, {2, 3, 20}} {
			for _, bias := range []bool{true, false} {
				for _, relu := range []bool{true, false} {
					x := ag.Var(tensor.Normal(rng, dt, 0, 1, xs...))
					w := ag.Var(tensor.Normal(rng, dt, 0, 1, 7, 20))
					var b *ag.Node
					wrt := []*ag.Node{x, w}
					if bias {
						b = ag.Var(tensor.Normal(rng, dt, 0, 1, 7))
						wrt = append(wrt, b)
					}
					up := tensor.Normal(rng, dt, 0, 1, append(xs[:len(xs)-1:len(xs)-1], 7)...)
					f := func() *ag.Node {
						if relu {
							return ag.LinearReLU(x, w, b)
						}
						return ag.Linear(x, w, b)
					}
					fast := ag.Grad(f(), wrt, ag.WithUpstream(up))
					graph := ag.Grad(f(), wrt, ag.WithUpstream(up), ag.CreateGraph())
					for i := range wrt {
						if !slices.Equal(fast[i].Value().Values(), graph[i].Value().Values()) {
							t.Errorf("%v x%v bias %v relu %v: gradient %d differs between the kernel and graph paths", dt, xs, bias, relu, i)
						}
					}
					if !graph[1].RequiresGrad() {
						t.Errorf("%v x%v: the CreateGraph gradient is not differentiable", dt, xs)
					}
				}
			}
		}
	}
}
