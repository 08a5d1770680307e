package tensor

import (
	"sync"

	"github.com/nabla-go/nabla/internal/freelist"
)

// Large buffers are recycled. In a training step every large tensor has
// the size of one from the step before, and taking a fresh one from the Go
// heap costs page faults and clearing: allocating 256 KiB took 25–35 µs on
// the development machine, clearing a recycled one 4 µs.
//
// Only Recycle puts a buffer back, and only code that knows the buffer is
// dead calls it (the optimisers, for gradients they are done with;
// Backward, for intermediate gradients; ag.Release, for a finished step's
// activations).

// poolMin is the least number of elements of a recycled buffer: smaller
// ones are cheap to allocate. (With 16 Ki, a training step of the MNIST
// MLP still allocated 45 kB of logits and small gradients a step; with
// 1 Ki, 20–26 kB, BenchmarkMLPTrainStep; with 256, the 512- and 256-wide
// bias gradients are pooled too: 5.6 kB with the rest of the allocation
// work, TestTrainerStepAllocations.)
const poolMin = 1 << 8

type poolKey struct {
	dt DType
	n  int
}

// bufPools holds a free list per size and dtype (internal/freelist: a
// sync.Pool would box each buffer it stores, about 33 allocations a
// training step of the MNIST MLP, and hide buffers put on another thread).
var bufPools sync.Map // poolKey → *freelist.List[any], each a []float32 or []float64 of the key's size

// buffer returns n elements of dtype dt, from the pool when one of that
// size is there. zero asks for a cleared buffer; operations that write
// every element skip the clearing.
func buffer(dt DType, n int, zero bool) any {
	if n >= poolMin {
		if l, ok := bufPools.Load(poolKey{dt, n}); ok {
			if b, ok := l.(*freelist.List[any]).Get(); ok {
				if zero {
					switch d := b.(type) {
					case []float32:
						clear(d)
					case []float64:
						clear(d)
					}
				}
				return b
			}
		}
	}
	switch dt {
	case Float32:
		return make([]float32, n)
	case Float64:
		return make([]float64, n)
	}
	panic("tensor: unknown dtype " + dt.String())
}

// newUninit is New for an operation that overwrites every element: a
// recycled buffer is not cleared first.
func newUninit(dt DType, shape ...int) *Tensor {
	n := checkShape("New", shape)
	t := newTensor(dt, shape)
	t.data = buffer(dt, n, false)
	return t
}

// Recycle hands t's buffer back for reuse by a later tensor of the same
// size and dtype, and empties t, so that using t afterwards panics rather
// than reading another tensor's values. Call it only when nothing else
// uses the buffer: no view of t (Reshape, Slice, T, …) may be used again
// either, and those are not emptied. Small tensors and views that do not
// cover their whole buffer (slices, transposes) are left alone; a view
// that does (a Reshape of a contiguous tensor) recycles the buffer it
// shares, like its owner would.
func Recycle(t *Tensor) {
	if t == nil || t.offset != 0 || !t.IsContiguous() {
		return
	}
	n := t.Len()
	if n < poolMin {
		return
	}
	data := t.data
	switch d := data.(type) {
	case []float32:
		if len(d) != n {
			return
		}
		t.data = []float32(nil)
	case []float64:
		if len(d) != n {
			return
		}
		t.data = []float64(nil)
	default:
		return
	}
	l, ok := bufPools.Load(poolKey{t.dtype, n})
	if !ok {
		l, _ = bufPools.LoadOrStore(poolKey{t.dtype, n}, new(freelist.List[any]))
	}
	l.(*freelist.List[any]).Put(data)
}

// BufferKey identifies t's buffer, for code that tracks which tensors
// share one before recycling it (ag.Backward): two tensors share a buffer
// (SameBuffer) exactly when their keys are equal and not nil. It is nil
// for an empty tensor. The key holds a pointer into the buffer, so keep it
// no longer than the tensor.
func BufferKey(t *Tensor) any {
	switch d := t.data.(type) {
	case []float32:
		if len(d) > 0 {
			return &d[0]
		}
	case []float64:
		if len(d) > 0 {
			return &d[0]
		}
	}
	return nil
}
