package tensor

import (
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/nabla-go/nabla/internal/freelist"
)

// poison recycles a tensor of the given size filled with NaN, so that the
// next tensor of that size reuses a dirty buffer.
func poison(dt DType, shape ...int) {
	t := Full(dt, math.NaN(), shape...)
	Recycle(t)
	switch d := t.data.(type) {
	case []float32:
		if len(d) != 0 {
			panic("Recycle kept a large contiguous tensor")
		}
	case []float64:
		if len(d) != 0 {
			panic("Recycle kept a large contiguous tensor")
		}
	}
}

// Every operation that skips clearing a recycled buffer must overwrite all
// of it; New must clear it. Each result computed on a poisoned (NaN-filled,
// recycled) buffer must equal the one computed on a fresh buffer.
func TestRecycledBuffersAreOverwritten(t *testing.T) {
	const r, c = 160, 130 // 20 800 elements: above poolMin
	for _, dt := range []DType{Float32, Float64} {
		rng := NewRand(1)
		a, b := Normal(rng, dt, 0, 1, r, c), Normal(rng, dt, 0, 1, r, c)
		w := Normal(rng, dt, 0, 1, c, c)
		ops := map[string]func() *Tensor{
			"New":  func() *Tensor { return New(dt, r, c) },
			"Exp":  func() *Tensor { return Exp(a) },
			"ReLU": func() *Tensor { return ReLU(a) },
			"Add":  func() *Tensor { return Add(a, b) },
			"Add broadcast": func() *Tensor {
				return Add(a, Slice(b, 0, 0, 1))
			},
			"Where":        func() *Tensor { return Where(Greater(a, b), a, b) },
			"MaskPositive": func() *Tensor { return MaskPositive(a, b) },
			"MatMul":       func() *Tensor { return MatMul(a, w) },
			"Linear":       func() *Tensor { return Linear(a, w, nil) },
			"Linear bias":  func() *Tensor { return Linear(a, w, Slice(Reshape(b, -1), 0, 0, c)) },
			"LinearReLU":   func() *Tensor { return LinearReLU(a, w, nil) },
		}
		for name, op := range ops {
			want := op().Values()
			poison(dt, r, c)
			got := op().Values()
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%v %s: element %d is %v on a recycled buffer, %v on a fresh one", dt, name, i, got[i], want[i])
				}
			}
		}
	}
}

func TestRecycleLeavesSmallAndViewsAlone(t *testing.T) {
	small := Ones(Float32, 10)
	Recycle(small)
	if small.Float32s()[0] != 1 {
		t.Fatal("a small tensor was recycled")
	}
	big := Ones(Float32, 200, 200)
	view := Slice(big, 0, 0, 100)
	Recycle(view)
	Recycle(big.T())
	if big.Float32s()[0] != 1 {
		t.Fatal("recycling a view took the buffer")
	}
	Recycle(nil)
}

// Recycling a buffer and taking it back allocates nothing (the pool of
// sync.Pool it replaced boxed every buffer it stored).
func TestRecycleDoesNotAllocate(t *testing.T) {
	x := New(Float32, 64, 64)
	allocs := testing.AllocsPerRun(100, func() {
		Recycle(x)
		x.data = buffer(Float32, 64*64, false)
	})
	if allocs != 0 {
		t.Fatalf("Recycle and reuse: %v allocations, want 0", allocs)
	}
}

// A recycled buffer that is not reused goes back to the Go heap after
// garbage collections, as with sync.Pool: the pool does not pin memory.
func TestRecycledBuffersAgeOut(t *testing.T) {
	const n = 3 * 1024 * 7 // a size no other test uses
	Recycle(New(Float64, n))
	l, ok := bufPools.Load(poolKey{Float64, n})
	if !ok {
		t.Fatal("Recycle kept no free list for the size")
	}
	held := l.(*freelist.List[any]).Len
	if held() != 1 {
		t.Fatalf("free list holds %d buffers after one Recycle, want 1", held())
	}
	// Cleanups run on their own goroutine after a collection: give them time.
	for i := 0; i < 200 && held() > 0; i++ {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
	if held() > 0 {
		t.Fatal("a recycled buffer survived 200 garbage collections")
	}
}
