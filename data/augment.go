package data

import (
	"fmt"
	"math/rand/v2"

	"github.com/nabla-go/nabla/tensor"
)

// RandomCrop shifts each image of the batch x [B, C, H, W] in place, as
// PyTorch's RandomCrop(size=(H, W), padding=pad) does: the image is padded
// with pad zeros on every side and an H×W window is cut at a random
// offset. For each image it draws the row offset, then the column offset,
// each uniform in [0, 2·pad], from rng. pad 0 draws nothing. x must be
// contiguous; a batch of another rank or a negative pad panics.
func RandomCrop(x *tensor.Tensor, pad int, rng *rand.Rand) {
	b, c, h, w := imageDims("RandomCrop", x)
	if pad < 0 {
		panic(fmt.Sprintf("data.RandomCrop: negative padding %d", pad))
	}
	if pad == 0 {
		return
	}
	switch x.DType() {
	case tensor.Float64:
		cropAll(x.Float64s(), b, c, h, w, pad, rng)
	default:
		cropAll(x.Float32s(), b, c, h, w, pad, rng)
	}
}

func cropAll[T float32 | float64](d []T, b, c, h, w, pad int, rng *rand.Rand) {
	tmp := make([]T, h*w)
	for i := range b {
		dy := rng.IntN(2*pad+1) - pad // the window's top row in the unpadded image
		dx := rng.IntN(2*pad+1) - pad
		for ch := range c {
			plane := d[(i*c+ch)*h*w : (i*c+ch+1)*h*w]
			for r := range h {
				for col := range w {
					sr, sc := r+dy, col+dx
					var v T
					if sr >= 0 && sr < h && sc >= 0 && sc < w {
						v = plane[sr*w+sc]
					}
					tmp[r*w+col] = v
				}
			}
			copy(plane, tmp)
		}
	}
}

// RandomHFlip mirrors each image of the batch x [B, C, H, W] left to
// right, in place, with probability p, as PyTorch's RandomHorizontalFlip:
// one draw of rng.Float64() per image, flipped when it is below p. x must
// be contiguous; p outside [0, 1] panics.
func RandomHFlip(x *tensor.Tensor, p float64, rng *rand.Rand) {
	b, c, h, w := imageDims("RandomHFlip", x)
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("data.RandomHFlip: probability %v is not in [0, 1]", p))
	}
	switch x.DType() {
	case tensor.Float64:
		flipAll(x.Float64s(), b, c, h, w, p, rng)
	default:
		flipAll(x.Float32s(), b, c, h, w, p, rng)
	}
}

func flipAll[T float32 | float64](d []T, b, c, h, w int, p float64, rng *rand.Rand) {
	for i := range b {
		if rng.Float64() >= p {
			continue
		}
		for row := range c * h {
			line := d[(i*c*h+row)*w : (i*c*h+row+1)*w]
			for l, r := 0, w-1; l < r; l, r = l+1, r-1 {
				line[l], line[r] = line[r], line[l]
			}
		}
	}
}

func imageDims(op string, x *tensor.Tensor) (b, c, h, w int) {
	sh := x.Shape()
	if len(sh) != 4 || !x.IsContiguous() {
		panic(&tensor.ShapeError{Op: op, Shapes: [][]int{sh}, Msg: "want a contiguous batch of images [B, C, H, W]"})
	}
	return sh[0], sh[1], sh[2], sh[3]
}
