package data

import (
	"slices"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// RandomCrop moves each image by the offsets it draws, filling with zeros,
// the same for every channel; pad 0 changes and draws nothing.
func TestRandomCrop(t *testing.T) {
	img := []float64{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}
	x := tensor.FromFloat64(append(append([]float64{}, img...), img...), 1, 2, 3, 3)
	rng := tensor.NewRand(5)
	RandomCrop(x, 1, rng)
	ref := tensor.NewRand(5)
	dy, dx := ref.IntN(3)-1, ref.IntN(3)-1
	want := make([]float64, 9)
	for r := range 3 {
		for c := range 3 {
			if sr, sc := r+dy, c+dx; sr >= 0 && sr < 3 && sc >= 0 && sc < 3 {
				want[r*3+c] = img[sr*3+sc]
			}
		}
	}
	got := x.Values()
	if !slices.Equal(got[:9], want) || !slices.Equal(got[9:], want) {
		t.Errorf("offsets (%d, %d): got %v, want %v in both channels", dy, dx, got, want)
	}
	// Over many draws every offset in [−pad, pad]² appears.
	seen := map[[2]int]bool{}
	for range 200 {
		y := tensor.FromFloat32([]float32{0, 0, 0, 0, 1, 0, 0, 0, 0}, 1, 1, 3, 3)
		RandomCrop(y, 1, rng)
		for k, v := range y.Values() {
			if v == 1 {
				seen[[2]int{k / 3, k % 3}] = true
			}
		}
	}
	if len(seen) != 9 {
		t.Errorf("the centre pixel reached %d of 9 places", len(seen))
	}
	r9 := tensor.NewRand(9)
	z := tensor.FromFloat32(make([]float32, 9), 1, 1, 3, 3)
	RandomCrop(z, 0, r9)
	if r9.Uint64() != tensor.NewRand(9).Uint64() {
		t.Error("pad 0 drew from the generator")
	}
	if err := tensor.Try(func() { RandomCrop(tensor.Zeros(tensor.Float32, 2, 3), 1, rng) }); err == nil {
		t.Error("a batch that is not [B, C, H, W]: no error")
	}
}

// RandomHFlip mirrors the rows of the images it draws below p.
func TestRandomHFlip(t *testing.T) {
	x := tensor.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 1, 1, 2, 3)
	RandomHFlip(x, 1, tensor.NewRand(1))
	if got := x.Values(); !slices.Equal(got, []float64{3, 2, 1, 6, 5, 4}) {
		t.Errorf("p=1: %v", got)
	}
	RandomHFlip(x, 0, tensor.NewRand(1))
	if got := x.Values(); !slices.Equal(got, []float64{3, 2, 1, 6, 5, 4}) {
		t.Errorf("p=0 changed the image: %v", got)
	}
	flipped := 0
	rng := tensor.NewRand(3)
	for range 1000 {
		y := tensor.FromFloat32([]float32{1, 2}, 1, 1, 1, 2)
		RandomHFlip(y, 0.5, rng)
		if y.Values()[0] == 2 {
			flipped++
		}
	}
	if flipped < 400 || flipped > 600 {
		t.Errorf("p=0.5 flipped %d of 1000", flipped)
	}
}
