package data

import (
	"fmt"
	"iter"
	"math/rand/v2"

	"github.com/nabla-go/nabla/tensor"
)

// Loader reads a Dataset in mini-batches, one epoch after another.
//
// An epoch begins with the first Next after NewLoader, after Reset, or
// after the previous epoch ended (Next returned ok false). When shuffling,
// that is the moment the loader draws a fresh permutation of [0, Len())
// from its rng (rng.Perm) — it does not reuse the previous order — so the
// rng state at an epoch boundary determines the next epoch's order exactly:
// saving it there and restoring it later reproduces that epoch. Without
// shuffling the order is 0, 1, …, Len()-1 and rng is not used.
//
// By default every batch is a new tensor. After ReuseBuffers, batches are
// gathered into buffers the loader keeps and reuses (see Next).
//
// A Loader is not safe for concurrent use.
type Loader struct {
	ds       Dataset
	batch    int
	shuffle  bool
	dropLast bool
	rng      *rand.Rand

	order  []int // the current epoch's order; nil between epochs
	store  []int // order's storage, kept from epoch to epoch
	pos    int   // index into order of the next batch's first example
	epochs int   // epochs begun

	reuse bool           // ReuseBuffers: gather into xbuf and ybuf
	xbuf  []float32      // batch·Features() values
	ybuf  []int          // batch labels
	full  *tensor.Tensor // xbuf as a full batch [batch, Shape()...]
}

// NewLoader returns a loader over ds yielding batches of batch examples.
// With dropLast the final, short batch of an epoch (when batch does not
// divide Len()) is skipped; otherwise it is returned. rng is needed only
// when shuffle is true. It panics if batch < 1 or if shuffle is true and
// rng is nil.
func NewLoader(ds Dataset, batch int, shuffle, dropLast bool, rng *rand.Rand) *Loader {
	if batch < 1 {
		panic(fmt.Sprintf("data.NewLoader: batch size %d", batch))
	}
	if shuffle && rng == nil {
		panic("data.NewLoader: shuffle needs an rng")
	}
	return &Loader{ds: ds, batch: batch, shuffle: shuffle, dropLast: dropLast, rng: rng}
}

// Dataset returns the data set the loader reads.
func (l *Loader) Dataset() Dataset { return l.ds }

// BatchSize returns the (full) batch size.
func (l *Loader) BatchSize() int { return l.batch }

// NumBatches is the number of batches in one epoch.
func (l *Loader) NumBatches() int {
	n := l.ds.Len()
	if l.dropLast {
		return n / l.batch
	}
	return (n + l.batch - 1) / l.batch
}

// ReuseBuffers makes Next gather every batch into the same two buffers,
// allocated once (batch·Features() float32 values and batch labels), with
// no intermediate copy when the data set is a BatchWriter (InMemory is):
// no allocation and no page faults per batch. The price is that a batch
// stays valid only until the next call to Next, Reset or Epoch's next
// iteration: the caller must be done with x and y by then (the trainer's
// Step is: it keeps nothing of x). It returns l.
func (l *Loader) ReuseBuffers() *Loader {
	l.reuse = true
	return l
}

// Epochs returns how many epochs have begun.
func (l *Loader) Epochs() int { return l.epochs }

// Next returns the next batch of the current epoch, beginning a new epoch
// if none is under way. At the end of an epoch it returns ok false (and x
// and y nil); the call after that begins the next epoch. An empty data set
// (or, with dropLast, one smaller than a batch) gives epochs with no
// batches. x and y are new unless ReuseBuffers was called; then they are
// the loader's buffers, overwritten by the next call.
func (l *Loader) Next() (x *tensor.Tensor, y []int, ok bool) {
	if l.order == nil {
		l.begin()
	}
	n := len(l.order)
	end := min(l.pos+l.batch, n)
	if l.pos >= n || (l.dropLast && end-l.pos < l.batch) {
		l.order = nil
		return nil, nil, false
	}
	idx := l.order[l.pos:end]
	l.pos = end
	if l.reuse {
		x, y = l.gather(idx)
	} else {
		x, y = l.ds.Batch(idx)
	}
	return x, y, true
}

// gather writes the batch idx into the reused buffers.
func (l *Loader) gather(idx []int) (*tensor.Tensor, []int) {
	D := l.ds.Features()
	if l.xbuf == nil {
		l.xbuf = make([]float32, l.batch*D)
		l.ybuf = make([]int, l.batch)
	}
	k := len(idx)
	if w, ok := l.ds.(BatchWriter); ok {
		w.BatchInto(l.xbuf[:k*D], l.ybuf[:k], idx)
	} else {
		x, y := l.ds.Batch(idx)
		copy(l.xbuf[:k*D], x.Float32s())
		copy(l.ybuf[:k], y)
	}
	if k == l.batch {
		if l.full == nil {
			l.full = tensor.FromFloat32(l.xbuf, append([]int{k}, l.ds.Shape()...)...)
		}
		return l.full, l.ybuf[:k]
	}
	return tensor.FromFloat32(l.xbuf[:k*D], append([]int{k}, l.ds.Shape()...)...), l.ybuf[:k]
}

// Reset abandons the current epoch, if any: the next call to Next begins a
// new one (drawing its permutation then, not now).
func (l *Loader) Reset() {
	l.order = nil
	l.pos = 0
}

// Epoch returns an iterator over the batches of a new epoch: it calls Reset
// and then yields each batch Next returns. Breaking out of the loop early
// abandons the epoch.
//
//	for x, y := range loader.Epoch() { … }
func (l *Loader) Epoch() iter.Seq2[*tensor.Tensor, []int] {
	return func(yield func(*tensor.Tensor, []int) bool) {
		l.Reset()
		for {
			x, y, ok := l.Next()
			if !ok {
				return
			}
			if !yield(x, y) {
				l.Reset()
				return
			}
		}
	}
}

func (l *Loader) begin() {
	n := l.ds.Len()
	if l.shuffle {
		// rng.Perm's numbers, drawn into the slice of the last epoch
		// (the same shuffle as rand.Rand.Perm, so the same order).
		l.order = perm(l.rng, l.store[:0], n)
	} else {
		l.order = l.store[:0]
		for i := range n {
			l.order = append(l.order, i)
		}
	}
	l.store = l.order
	l.pos = 0
	l.epochs++
}

// perm appends to dst a permutation of [0, n) drawn exactly as rng.Perm(n)
// draws it (math/rand/v2's Perm: the identity, then rng.Shuffle with the
// swap), reusing dst's storage.
func perm(rng *rand.Rand, dst []int, n int) []int {
	for i := range n {
		dst = append(dst, i)
	}
	rng.Shuffle(n, func(i, j int) { dst[i], dst[j] = dst[j], dst[i] })
	return dst
}
