package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ChannelAffine matches its definition element by element (the same one
// multiply and add, so the same bits), with and without a shift and a
// ReLU, at every vector level, over the pool and in place.
func TestChannelAffine(t *testing.T) {
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(4, 5))
	for _, lvl := range vecLevels() {
		for _, threads := range []int{1, 2} {
			SetThreads(threads)
			for _, sz := range [][3]int{{3, 4, 7}, {2, 5, 1}, {1, 3, 10000}, {0, 2, 3}} {
				n, c, hw := sz[0], sz[1], sz[2]
				x := randSliceConv[float32](rng, n*c*hw)
				if len(x) > 0 {
					x[0] = float32(math.NaN())
				}
				scale, shift := randSliceConv[float32](rng, c), randSliceConv[float32](rng, c)
				for _, withShift := range []bool{false, true} {
					for _, relu := range []bool{false, true} {
						sh := shift
						if !withShift {
							sh = nil
						}
						y := make([]float32, len(x))
						channelAffine(lvl, n, c, hw, x, scale, sh, relu, y)
						inPlace := append([]float32(nil), x...)
						channelAffine(lvl, n, c, hw, inPlace, scale, sh, relu, inPlace)
						for i, v := range x {
							ch := i / hw % c
							var shift float32
							if sh != nil {
								shift = sh[ch]
							}
							want := float32(v*scale[ch]) + shift
							if relu && want <= 0 {
								want = 0
							}
							if math.Float32bits(y[i]) != math.Float32bits(want) || math.Float32bits(inPlace[i]) != math.Float32bits(want) {
								t.Fatalf("level %d, %v shift=%v relu=%v threads=%d: element %d = %v (in place %v), want %v", lvl, sz, withShift, relu, threads, i, y[i], inPlace[i], want)
							}
						}
					}
				}
			}
		}
	}
}
