package data

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// byteSet is a set of n examples of shape [1, 3, 2] held as bytes (every
// byte value appears), and the same set held as float32 the way LoadMNIST
// built it before it kept bytes: float32(p)/255 with scale, float32(p)
// without.
func byteSet(n int, scale bool) (b, f *InMemory) {
	rng := rand.New(rand.NewPCG(7, 7))
	const D = 6
	pix := make([]byte, n*D)
	for i := range pix {
		pix[i] = byte(i*37 + rng.IntN(256))
	}
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(4)
	}
	x := make([]float32, len(pix))
	for i, p := range pix {
		if scale {
			x[i] = float32(p) / 255
		} else {
			x[i] = float32(p)
		}
	}
	shape := []int{1, 3, 2}
	b = &InMemory{Bytes: pix, Y: y, NumClasses: 4, Name: "bytes", ExampleShape: shape}
	if scale {
		b.ByteValues = ScaledBytes
	}
	f = &InMemory{X: tensor.FromFloat32(x, n, D), Y: slices.Clone(y), NumClasses: 4, Name: "floats", ExampleShape: shape}
	return b, f
}

func sameBits(t *testing.T, what string, a, b *tensor.Tensor) {
	t.Helper()
	if !tensor.EqualShape(a.Shape(), b.Shape()) || !slices.Equal(a.Float32s(), b.Float32s()) {
		t.Fatalf("%s: %v %v differs from %v %v", what, a.Shape(), a.Float32s(), b.Shape(), b.Float32s())
	}
}

// A set held as bytes gives batches bit-identical to the float32 set it
// replaces, through Batch, BatchInto, Values, Subset, Split and Normalizer.
func TestBytesSameAsFloats(t *testing.T) {
	for _, scale := range []bool{true, false} {
		b, f := byteSet(300, scale)
		if err := b.Validate(); err != nil {
			t.Fatal(err)
		}
		if b.Features() != 6 || !slices.Equal(b.Shape(), []int{1, 3, 2}) || b.Len() != 300 {
			t.Fatalf("features %d shape %v len %d", b.Features(), b.Shape(), b.Len())
		}
		idx := []int{299, 0, 17, 17, 150}
		xb, yb := b.Batch(idx)
		xf, yf := f.Batch(idx)
		sameBits(t, "Batch", xb, xf)
		if !equalInts(yb, yf) {
			t.Fatalf("labels %v, want %v", yb, yf)
		}
		buf, lab := make([]float32, 40), make([]int, 7)
		b.BatchInto(buf, lab, idx)
		if !slices.Equal(buf[:30], xf.Float32s()) || !equalInts(lab[:5], yf) {
			t.Fatalf("BatchInto %v %v", buf[:30], lab[:5])
		}
		sameBits(t, "Values", b.Values(), f.X)
		sb, sf := b.Subset(idx), f.Subset(idx)
		if sb.X != nil || len(sb.Bytes) != 30 || sb.Validate() != nil {
			t.Fatalf("Subset of bytes: X %v, %d bytes, %v", sb.X, len(sb.Bytes), sb.Validate())
		}
		sameBits(t, "Subset", sb.Values(), sf.X)
		trb, vab := Split(b, 0.3, rand.New(rand.NewPCG(1, 2)))
		trf, vaf := Split(f, 0.3, rand.New(rand.NewPCG(1, 2)))
		sameBits(t, "Split train", trb.Values(), trf.X)
		sameBits(t, "Split val", vab.Values(), vaf.X)
		nb, nf := FitNormalizer(b), FitNormalizer(f)
		if !slices.Equal(nb.Mean, nf.Mean) || !slices.Equal(nb.Std, nf.Std) {
			t.Fatalf("normaliser %v %v, want %v %v", nb.Mean, nb.Std, nf.Mean, nf.Std)
		}
		sameBits(t, "Normalizer.Apply", nb.Apply(b).X, nf.Apply(f).X)
	}
}

func TestBytesValidate(t *testing.T) {
	b, _ := byteSet(4, true)
	for name, bad := range map[string]*InMemory{
		"short":  {Bytes: b.Bytes[:23], Y: b.Y, NumClasses: 4, ExampleShape: b.ExampleShape},
		"both":   {Bytes: b.Bytes, X: tensor.New(tensor.Float32, 4, 6), Y: b.Y, NumClasses: 4},
		"ragged": {Bytes: b.Bytes[:23], Y: b.Y, NumClasses: 4},
		"label":  {Bytes: b.Bytes, Y: []int{0, 1, 2, 4}, NumClasses: 4, ExampleShape: b.ExampleShape},
	} {
		if bad.Validate() == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
	// Without an example shape, the width is len(Bytes)/N.
	flat := &InMemory{Bytes: b.Bytes, Y: b.Y, NumClasses: 4}
	if err := flat.Validate(); err != nil || flat.Features() != 6 || !slices.Equal(flat.Shape(), []int{6}) {
		t.Errorf("flat: %v, %d features, shape %v", err, flat.Features(), flat.Shape())
	}
	mustPanic(t, "out of range", func() { b.Batch([]int{4}) })
	mustPanic(t, "short buffer", func() { b.BatchInto(make([]float32, 11), make([]int, 2), []int{0, 1}) })
	mustPanic(t, "subset out of range", func() { b.Subset([]int{-1}) })
}

// onlyBatch hides InMemory's BatchInto: a Dataset that can only Batch.
type onlyBatch struct{ *InMemory }

func (o onlyBatch) BatchInto() {}

// A loader with ReuseBuffers yields the same batches, in the same order
// from the same generator, as one without, epoch after epoch, gathering
// every full batch into the same buffer, and allocates nothing per batch.
func TestLoaderReuseBuffers(t *testing.T) {
	b, _ := byteSet(50, true)
	for _, ds := range []Dataset{b, onlyBatch{b}, indexSet(50, 3)} {
		for _, dropLast := range []bool{false, true} {
			ref := NewLoader(ds, 8, true, dropLast, rand.New(rand.NewPCG(3, 4)))
			l := NewLoader(ds, 8, true, dropLast, rand.New(rand.NewPCG(3, 4))).ReuseBuffers()
			var first *tensor.Tensor
			for ep := range 3 {
				for k := 0; ; k++ {
					xr, yr, okr := ref.Next()
					x, y, ok := l.Next()
					if ok != okr {
						t.Fatalf("epoch %d batch %d: ok %v, want %v", ep, k, ok, okr)
					}
					if !ok {
						break
					}
					sameBits(t, "batch", x, xr)
					if !equalInts(y, yr) {
						t.Fatalf("labels %v, want %v", y, yr)
					}
					if len(y) == 8 {
						if first == nil {
							first = x
						} else if !tensor.SameBuffer(x, first) {
							t.Fatal("a full batch is not in the reused buffer")
						}
					}
				}
			}
		}
	}
	l := NewLoader(b, 10, true, false, rand.New(rand.NewPCG(3, 4))).ReuseBuffers()
	l.Next()
	if n := testing.AllocsPerRun(3, func() { l.Next() }); n != 0 {
		t.Errorf("Next with ReuseBuffers: %v allocations per batch, want 0", n)
	}
}

// BenchmarkBatchInto gathers batches of 128 MNIST-sized images held as
// bytes into a reused buffer, as the training loop does every step: from
// a set of 4096 images (3 MB, in the caches) and from one of MNIST's size
// (60000 images, 47 MB), walking a shuffled order as an epoch does.
func BenchmarkBatchInto(b *testing.B) {
	const D = 784
	for _, n := range []int{4096, 60000} {
		b.Run(fmt.Sprintf("images=%d", n), func(b *testing.B) {
			pix := make([]byte, n*D)
			for i := range pix {
				pix[i] = byte(i * 7)
			}
			ds := &InMemory{Bytes: pix, ByteValues: ScaledBytes, Y: make([]int, n), NumClasses: 10, ExampleShape: []int{1, 28, 28}}
			order := rand.New(rand.NewPCG(1, 1)).Perm(n)
			x, y := make([]float32, 128*D), make([]int, 128)
			b.ReportAllocs()
			pos := 0
			for b.Loop() {
				if pos+128 > n {
					pos = 0
				}
				ds.BatchInto(x, y, order[pos:pos+128])
				pos += 128
			}
			b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gvalues/s")
		})
	}
}
