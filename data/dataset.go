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

// BatchWriter is a Dataset that can gather a batch into buffers the caller
// owns, as the Loader's reused buffers (see Loader.ReuseBuffers), instead of
// allocating new ones. InMemory is one.
type BatchWriter interface {
	Dataset
	// BatchInto writes the examples at idx, converted to float32, into
	// x[:len(idx)·Features()] (row r is example idx[r]) and their labels
	// into y[:len(idx)]. It panics if an index is out of range or a buffer
	// is too short.
	BatchInto(x []float32, y []int, idx []int)
}

// InMemory is a Dataset held in memory, in one of two forms:
//
//   - X, an [N, D] tensor (float32 from every constructor in this package;
//     an X of another layout or dtype works but costs a copy of X on every
//     batch), or
//   - Bytes, N×D 8-bit values row by row with X nil, each read as
//     ByteValues[b] (b itself when ByteValues is nil): image data at its
//     own width, a quarter of the memory of float32. LoadMNIST returns this
//     form; a batch converts only its own examples, and Values gives the
//     whole [N, D] float32 tensor where a caller needs one.
//
// Y holds the N labels, each in [0, NumClasses). ExampleShape, when set, is
// the shape of one example (its product D), which batches take; nil means
// [D]. A set held as Bytes with no ExampleShape has D = len(Bytes)/N.
type InMemory struct {
	X          *tensor.Tensor
	Y          []int
	NumClasses int
	Name       string
	// ExampleShape is the shape of one example (nil: [D]); see Shape.
	ExampleShape []int
	// Bytes holds the examples when X is nil; see InMemory.
	Bytes []byte
	// ByteValues maps each byte of Bytes to the float32 value a batch
	// holds (nil: the byte's own value). Share one table between sets.
	ByteValues *[256]float32
}

var (
	_ Dataset     = (*InMemory)(nil)
	_ BatchWriter = (*InMemory)(nil)
)

// identityBytes is the table of a set held as Bytes with nil ByteValues.
var identityBytes = func() *[256]float32 {
	var t [256]float32
	for b := range t {
		t[b] = float32(b)
	}
	return &t
}()

// ScaledBytes is the table that reads byte b as float32(b)/255, the pixel
// scaling of LoadMNIST (and of torchvision's ToTensor), computed with the
// same float32 division.
var ScaledBytes = func() *[256]float32 {
	var t [256]float32
	for b := range t {
		t[b] = float32(b) / 255
	}
	return &t
}()

func (d *InMemory) byteTable() *[256]float32 {
	if d.ByteValues != nil {
		return d.ByteValues
	}
	return identityBytes
}

// numValues is the number of stored values: X's elements or len(Bytes).
func (d *InMemory) numValues() int {
	if d.X != nil {
		return d.X.Len()
	}
	return len(d.Bytes)
}

// Len is the number of examples, N.
func (d *InMemory) Len() int { return len(d.Y) }

// Features is the input width D: the second dimension of X or, for a set
// held as Bytes, the product of ExampleShape (len(Bytes)/N without one).
func (d *InMemory) Features() int {
	if d.X == nil {
		if d.Bytes == nil {
			return 0
		}
		if d.ExampleShape != nil {
			n := 1
			for _, k := range d.ExampleShape {
				n *= k
			}
			return n
		}
		if len(d.Y) == 0 {
			return 0
		}
		return len(d.Bytes) / len(d.Y)
	}
	if d.X.Dims() < 2 {
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

// Batch returns rows idx of the data as a new [len(idx), Shape()...]
// float32 tensor and the matching labels (a new slice). It panics if an
// index is outside [0, Len()).
func (d *InMemory) Batch(idx []int) (*tensor.Tensor, []int) {
	x := make([]float32, len(idx)*d.Features())
	y := make([]int, len(idx))
	d.BatchInto(x, y, idx)
	return tensor.FromFloat32(x, append([]int{len(idx)}, d.Shape()...)...), y
}

// BatchInto writes rows idx of the data into x and their labels into y,
// converting straight from the stored form (no intermediate slice): see
// BatchWriter.
func (d *InMemory) BatchInto(x []float32, y []int, idx []int) {
	n, D := d.Len(), d.Features()
	for _, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("data.Batch: index %d out of range [0, %d) in %q", i, n, d.Name))
		}
	}
	if len(x) < len(idx)*D || len(y) < len(idx) {
		panic(fmt.Sprintf("data.BatchInto: buffers of %d values and %d labels for %d examples of %d features in %q", len(x), len(y), len(idx), D, d.Name))
	}
	switch {
	case len(idx) == 0 || D == 0:
	case d.X == nil:
		tab := d.byteTable()
		touchRows(d.Bytes, idx, D)
		for r, i := range idx {
			convertBytes(x[r*D:(r+1)*D], d.Bytes[i*D:(i+1)*D], tab)
		}
	case d.X.DType() == tensor.Float64:
		src := d.X.Float64s()
		for r, i := range idx {
			dst := x[r*D : (r+1)*D]
			for j, v := range src[i*D : (i+1)*D] {
				dst[j] = float32(v)
			}
		}
	default:
		src := d.X.Float32s()
		for r, i := range idx {
			copy(x[r*D:(r+1)*D], src[i*D:(i+1)*D])
		}
	}
	for r, i := range idx {
		y[r] = d.Y[i]
	}
}

// touchRows reads one byte of every cache line of the rows idx of src
// (rows of D bytes) before BatchInto converts them. A shuffled batch's
// rows lie anywhere in the data set (47 MB for MNIST, more than the
// caches); these loads depend on nothing, so the processor keeps many
// misses in flight at once, where the conversion, row after row, waited
// for each row's first lines in turn. BenchmarkBatchInto/images=60000:
// 85 µs a batch without it, 55 µs with it (Zen 5). It returns the sum of
// the bytes read, which keeps the loads: the compiler cannot drop them
// from a function that is not inlined and returns their sum.
//
//go:noinline
func touchRows(src []byte, idx []int, D int) byte {
	var s byte
	for _, i := range idx {
		row := src[i*D : (i+1)*D]
		for j := 0; j < len(row); j += 64 {
			s += row[j]
		}
		if len(row) > 0 {
			s += row[len(row)-1]
		}
	}
	return s
}

// convertBytes sets dst[j] = tab[src[j]], eight at a time.
func convertBytes(dst []float32, src []byte, tab *[256]float32) {
	dst = dst[:len(src)]
	j := 0
	for ; j+8 <= len(src); j += 8 {
		s, d := src[j:j+8:j+8], dst[j:j+8:j+8]
		d[0], d[1], d[2], d[3] = tab[s[0]], tab[s[1]], tab[s[2]], tab[s[3]]
		d[4], d[5], d[6], d[7] = tab[s[4]], tab[s[5]], tab[s[6]], tab[s[7]]
	}
	for ; j < len(src); j++ {
		dst[j] = tab[src[j]]
	}
}

// Values returns the examples as an [N, D] tensor: X itself when the set
// holds one (not a copy), otherwise a new float32 tensor converted from
// Bytes, four times their memory; call it only where the whole set is
// needed at once as floats.
func (d *InMemory) Values() *tensor.Tensor {
	if d.X != nil {
		return d.X
	}
	n, D := d.Len(), d.Features()
	out := make([]float32, n*D)
	if n > 0 && D > 0 {
		convertBytes(out, d.Bytes[:n*D], d.byteTable())
	}
	return tensor.FromFloat32(out, n, D)
}

// Subset returns a new data set holding the examples at idx, in that
// order, with copied X (or Bytes) and Y. It panics if an index is out of
// range.
func (d *InMemory) Subset(idx []int) *InMemory {
	if d.X == nil && d.Bytes != nil {
		n, D := d.Len(), d.Features()
		b := make([]byte, len(idx)*D)
		y := make([]int, len(idx))
		for r, i := range idx {
			if i < 0 || i >= n {
				panic(fmt.Sprintf("data.Subset: index %d out of range [0, %d) in %q", i, n, d.Name))
			}
			copy(b[r*D:(r+1)*D], d.Bytes[i*D:(i+1)*D])
			y[r] = d.Y[i]
		}
		return &InMemory{Bytes: b, ByteValues: d.ByteValues, Y: y, NumClasses: d.NumClasses, Name: d.Name, ExampleShape: d.ExampleShape}
	}
	x, y := d.Batch(idx)
	return &InMemory{X: tensor.Reshape(x, len(idx), d.Features()), Y: y, NumClasses: d.NumClasses, Name: d.Name, ExampleShape: d.ExampleShape}
}

// Validate reports whether d is well formed: X a 2-D tensor with one row
// per label, and every label in [0, NumClasses). Data sets built by this
// package are; call it on one assembled by hand from outside input.
func (d *InMemory) Validate() error {
	switch {
	case d.X == nil && d.Bytes == nil:
		return fmt.Errorf("data: %q has no X", d.Name)
	case d.X != nil && d.Bytes != nil:
		return fmt.Errorf("data: %q has both X and Bytes", d.Name)
	case d.X == nil:
		D := d.Features()
		if len(d.Bytes) != len(d.Y)*D || (d.ExampleShape == nil && len(d.Y) > 0 && len(d.Bytes)%len(d.Y) != 0) {
			return fmt.Errorf("data: %q: %d bytes do not hold %d examples of %d features", d.Name, len(d.Bytes), len(d.Y), D)
		}
	default:
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
