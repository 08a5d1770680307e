package data

import (
	"fmt"

	"github.com/nabla-go/nabla/tensor"
)

// Dataset is a labelled classification data set that can be read in
// batches. Package train reads every data set through it.
type Dataset interface {
	// Len is the number of examples.
	Len() int
	// Features is the number of values D in one example.
	Features() int
	// Shape is the shape of one example: [D] for vectors, [1, 28, 28]
	// for MNIST images. Its product is Features().
	Shape() []int
	// Classes is the number of classes; labels are in [0, Classes()).
	Classes() int
	// Batch returns the examples at idx as a new float32 tensor of shape
	// [len(idx), Shape()...] and their labels, in the order of idx. It
	// panics if an index is out of range.
	Batch(idx []int) (x *tensor.Tensor, y []int)
}

// InMemory is a Dataset held in memory: X has shape [N, D] and Y holds the
// N labels, each in [0, NumClasses). ExampleShape, when set, is the shape
// of one example (its product D), which batches take; nil means [D]. Every constructor in this package
// returns X as a contiguous float32 tensor; an X of another layout or dtype
// works but costs a copy of X on every Batch.
type InMemory struct {
	X          *tensor.Tensor
	Y          []int
	NumClasses int
	Name       string
	// ExampleShape is the shape of one example (nil: [D]); see Shape.
	ExampleShape []int
}

var _ Dataset = (*InMemory)(nil)

// Len is the number of examples, N.
func (d *InMemory) Len() int { return len(d.Y) }

// Features is the input width D (the second dimension of X).
func (d *InMemory) Features() int {
	if d.X == nil || d.X.Dims() < 2 {
		return 0
	}
	return d.X.Dim(1)
}

// Shape is ExampleShape, or [D] when it is nil.
func (d *InMemory) Shape() []int {
	if d.ExampleShape != nil {
		return d.ExampleShape
	}
	return []int{d.Features()}
}

// Classes is NumClasses.
func (d *InMemory) Classes() int { return d.NumClasses }

// Batch returns rows idx of X as a new [len(idx), D] float32 tensor and
// the matching labels (a new slice). It panics if an index is outside
// [0, Len()).
func (d *InMemory) Batch(idx []int) (*tensor.Tensor, []int) {
	n, D := d.Len(), d.Features()
	x := make([]float32, len(idx)*D)
	y := make([]int, len(idx))
	for _, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("data.Batch: index %d out of range [0, %d) in %q", i, n, d.Name))
		}
	}
	if len(idx) > 0 {
		switch d.X.DType() {
		case tensor.Float64:
			src := d.X.Float64s()
			for r, i := range idx {
				for j, v := range src[i*D : (i+1)*D] {
					x[r*D+j] = float32(v)
				}
			}
		default:
			src := d.X.Float32s()
			for r, i := range idx {
				copy(x[r*D:(r+1)*D], src[i*D:(i+1)*D])
			}
		}
	}
	for r, i := range idx {
		y[r] = d.Y[i]
	}
	return tensor.FromFloat32(x, append([]int{len(idx)}, d.Shape()...)...), y
}

// Subset returns a new data set holding the examples at idx, in that
// order, with copied X and Y. It panics if an index is out of range.
func (d *InMemory) Subset(idx []int) *InMemory {
	x, y := d.Batch(idx)
	return &InMemory{X: tensor.Reshape(x, len(idx), d.Features()), Y: y, NumClasses: d.NumClasses, Name: d.Name, ExampleShape: d.ExampleShape}
}

// Validate reports whether d is well formed: X a 2-D tensor with one row
// per label, and every label in [0, NumClasses). Data sets built by this
// package are; call it on one assembled by hand from outside input.
func (d *InMemory) Validate() error {
	if d.X == nil {
		return fmt.Errorf("data: %q has no X", d.Name)
	}
	if d.X.Dims() != 2 {
		return fmt.Errorf("data: %q: X has shape %v, want [N, D]", d.Name, d.X.Shape())
	}
	if d.ExampleShape != nil {
		n := 1
		for _, k := range d.ExampleShape {
			n *= k
		}
		if n != d.X.Dim(1) {
			return fmt.Errorf("data: %q: example shape %v does not hold the %d features of X", d.Name, d.ExampleShape, d.X.Dim(1))
		}
	}
	if d.X.Dim(0) != len(d.Y) {
		return fmt.Errorf("data: %q: X has %d rows but there are %d labels", d.Name, d.X.Dim(0), len(d.Y))
	}
	if d.NumClasses < 1 {
		return fmt.Errorf("data: %q: NumClasses is %d", d.Name, d.NumClasses)
	}
	for i, c := range d.Y {
		if c < 0 || c >= d.NumClasses {
			return fmt.Errorf("data: %q: label %d of example %d is outside [0, %d)", d.Name, c, i, d.NumClasses)
		}
	}
	return nil
}

// ClassCounts returns how many examples each class has.
func (d *InMemory) ClassCounts() []int {
	counts := make([]int, d.NumClasses)
	for _, c := range d.Y {
		if c >= 0 && c < len(counts) {
			counts[c]++
		}
	}
	return counts
}
