package data

import (
	"errors"
	"testing"
)

// BenchmarkLoadMNIST is LoadMNIST of the real MNIST files (the four .gz
// files FindMNIST finds), as `nabla train --data mnist` reads them. B/op
// is what the load allocates: the 55 MB the data sets hold when no
// buffer is copied.
func BenchmarkLoadMNIST(b *testing.B) {
	dir, err := FindMNIST("")
	if errors.Is(err, ErrMNISTNotFound) {
		b.Skipf("skipped: %v", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := LoadMNIST(dir, true); err != nil {
			b.Fatal(err)
		}
	}
}
