package ag

import (
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// recycleGraph builds a loss whose backward pass passes gradients on as
// views (Reshape, T, Add's pass-through to both inputs), sums the
// gradients of values used several times, and has intermediate gradients
// large enough to be recycled.
func recycleGraph(x, w *Node, c *tensor.Tensor) *Node {
	h := Tanh(x)                     // [64, 300]
	a := Add(h, h)                   // g passed to h twice: summed
	r := Reshape(a, 300, 64)         // a view of g
	b := Mul(r, r)                   //
	m := MatMul(T(r), Const(c))      // [64, 64] through a transposed view
	u := LinearReLU(Tanh(h), w, nil) // h used a third time
	return Add(Add(Sum(b), Sum(Mul(m, m))), Sum(u))
}

func gradBits(ns ...*Node) []uint64 {
	var out []uint64
	for _, n := range ns {
		for _, v := range n.Grad().Values() {
			out = append(out, math.Float64bits(v))
		}
	}
	return out
}

// Recycling the dead intermediate gradients during Backward changes no
// bit: the gradients equal those of a backward pass with CreateGraph
// (which recycles nothing), pass after pass as recycled buffers come back.
func TestBackwardRecyclingSameBits(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		rng := tensor.NewRand(11)
		x := Var(tensor.Uniform(rng, dt, -1, 1, 64, 300))
		w := Var(tensor.Uniform(rng, dt, -0.1, 0.1, 200, 300))
		c := tensor.Uniform(rng, dt, -1, 1, 300, 64)

		Backward(recycleGraph(x, w, c), CreateGraph())
		want := gradBits(x, w)
		x.ZeroGrad()
		w.ZeroGrad()
		for pass := range 4 {
			Backward(recycleGraph(x, w, c))
			if got := gradBits(x, w); !slices.Equal(got, want) {
				t.Fatalf("%v pass %d: gradients differ from those with CreateGraph", dt, pass)
			}
			x.ReleaseGrad()
			w.ReleaseGrad()
		}
		// Grad, keeping only x's gradient, and a given upstream gradient
		// that must never be recycled.
		gx := Grad(recycleGraph(x, w, c), []*Node{x})[0]
		var bits []uint64
		for _, v := range gx.Value().Values() {
			bits = append(bits, math.Float64bits(v))
		}
		if !slices.Equal(bits, want[:64*300]) {
			t.Fatalf("%v: Grad differs", dt)
		}
		up := tensor.Uniform(rng, dt, -1, 1, 64, 300)
		keep := up.Clone()
		for range 3 {
			Backward(Tanh(Mul(x, x)), WithUpstream(up))
			x.ReleaseGrad()
		}
		if !slices.Equal(up.Values(), keep.Values()) {
			t.Fatalf("%v: the upstream gradient was overwritten", dt)
		}
	}
}

// The intermediate gradients of a chain of layers are recycled: after the
// first pass, a backward pass allocates less than they take.
func TestBackwardRecyclesIntermediates(t *testing.T) {
	// The pool keeps what it holds: no collection empties it, and with one
	// P no buffer waits in another P's private slot.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	rng := tensor.NewRand(12)
	const B = 128
	x := Const(tensor.Uniform(rng, tensor.Float32, 0, 1, B, 784))
	w1 := Var(tensor.Uniform(rng, tensor.Float32, -0.05, 0.05, 512, 784))
	w2 := Var(tensor.Uniform(rng, tensor.Float32, -0.05, 0.05, 256, 512))
	w3 := Var(tensor.Uniform(rng, tensor.Float32, -0.05, 0.05, 10, 256))
	forward := func() *Node {
		h := LinearReLU(LinearReLU(x, w1, nil), w2, nil)
		return Sum(Mul(Linear(h, w3, nil), Linear(h, w3, nil)))
	}
	step := func() {
		l := forward()
		w1.ReleaseGrad()
		w2.ReleaseGrad()
		w3.ReleaseGrad()
		Backward(l)
	}
	step()
	step()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	start := ms.TotalAlloc
	const steps = 5
	for range steps {
		step()
	}
	runtime.ReadMemStats(&ms)
	per := (ms.TotalAlloc - start) / steps
	// A step's buffers that are never handed back: the activations the
	// graph holds (B×(512+256) float32, and the small logits) and the
	// ReLU-masked gradients made inside the LinearReLU rules, which the
	// engine cannot see (as much again). The intermediate gradients (h's
	// two, their sum, h1's: B×(3·256+512) float32) are recycled, and the
	// next forward and backward passes take them back; without recycling
	// a step would allocate all of them afresh.
	held := uint64(2 * B * (512 + 256) * 4)
	inter := uint64(B * (3*256 + 512) * 4)
	if per > held+inter/2 {
		t.Errorf("a step allocated %d bytes; with its intermediate gradients (%d bytes) recycled it should stay under %d", per, inter, held+inter/2)
	}
}
