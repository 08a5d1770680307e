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
// A Loader is not safe for concurrent use.
type Loader struct {
	ds       Dataset
	batch    int
	shuffle  bool
	dropLast bool
	rng      *rand.Rand

	order  []int // the current epoch's order; nil between epochs
	pos    int   // index into order of the next batch's first example
	epochs int   // epochs begun
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

// Epochs returns how many epochs have begun.
func (l *Loader) Epochs() int { return l.epochs }

// Next returns the next batch of the current epoch, beginning a new epoch
// if none is under way. At the end of an epoch it returns ok false (and x
// and y nil); the call after that begins the next epoch. An empty data set
// (or, with dropLast, one smaller than a batch) gives epochs with no
// batches.
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
	x, y = l.ds.Batch(idx)
	return x, y, true
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
		l.order = l.rng.Perm(n)
	} else {
		l.order = make([]int, n)
		for i := range l.order {
			l.order[i] = i
		}
	}
	l.pos = 0
	l.epochs++
}
