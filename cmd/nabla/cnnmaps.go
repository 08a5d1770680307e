package main

// What a CNN's figures and the browser's CNN view both compute: the first
// layer's filters as images, each layer's feature maps for one example,
// and the saliency map. `nabla plot filters|features|saliency` draw them
// as PNGs (cnnplot.go); `nabla serve` sends them to the page (serve_cnn.go).

import (
	"fmt"
	"math"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

// imageFilters is a model's first layer whose weights are images: a
// Conv2d, or a Linear layer straight over a one-channel image input.
type imageFilters struct {
	Path   string
	What   string   // one line describing the layer and its filters
	Weight *ag.Node // its weight: Grad is the filters' gradient after a backward pass
	N      int      // filters
	H, W   int      // each filter's size
	conv   [4]int   // a Conv2d's weight shape [out, in/groups, kh, kw] (zero for a Linear)
}

// firstImageFilters returns the model's first layer whose weights are
// images, or nil when it has none (its first Linear is not over an image).
func firstImageFilters(m nn.Module, in train.Input) *imageFilters {
	var f *imageFilters
	stop := fmt.Errorf("stop")
	nn.Walk(m, func(path string, x nn.Module) error {
		if f != nil {
			return nil
		}
		switch l := x.(type) {
		case *nn.Conv2d:
			sh := l.Weight.Value().Shape() // [out, in/groups, kh, kw]
			f = &imageFilters{Path: path, Weight: l.Weight, N: sh[0], H: sh[2], W: sh[3], conv: [4]int{sh[0], sh[1], sh[2], sh[3]}}
			f.What = fmt.Sprintf("layer %s (%s): %d filters of %d×%d", path, l, sh[0], sh[2], sh[3])
			if sh[1] > 1 {
				f.What += fmt.Sprintf(", each the mean over its %d input channels", sh[1])
			}
		case *nn.Linear:
			if len(in.Shape) != 3 || l.In != in.Features() || in.Shape[0] != 1 {
				return stop
			}
			h, w := in.Shape[1], in.Shape[2]
			f = &imageFilters{Path: path, Weight: l.Weight, N: l.Out, H: h, W: w}
			f.What = fmt.Sprintf("layer %s (%s): each unit's weights over the %d×%d input", path, l, h, w)
		}
		return nil
	})
	return f
}

// images folds values shaped as the layer's weight (the weight itself, or
// its gradient) into at most most H×W images, one per filter; a
// convolution's filter over several input channels is their mean.
func (f *imageFilters) images(vals []float64, most int) [][]float64 {
	var out [][]float64
	if f.conv[0] == 0 {
		in := f.H * f.W
		for o := range min(f.N, most) {
			out = append(out, vals[o*in:(o+1)*in])
		}
		return out
	}
	chans, hw := f.conv[1], f.H*f.W
	per := chans * hw
	for o := range min(f.N, most) {
		pix := make([]float64, hw)
		for c := range chans {
			for k := range pix {
				pix[k] += vals[o*per+c*hw+k] / float64(chans)
			}
		}
		out = append(out, pix)
	}
	return out
}

// featureLayer is one layer's feature maps for the first example of a
// traced batch: the outputs shaped [N, C, H, W].
type featureLayer struct {
	Path, Kind string
	C, H, W    int
	Maps       [][]float64 // the first min(C, most) channels, each H×W
}

// featureLayers returns the feature maps of every layer whose output is
// [N, C, H, W], in the order of the forward pass.
func featureLayers(traced []nn.Traced, most int) []featureLayer {
	var out []featureLayer
	for _, tr := range traced {
		if tr.Out == nil || tr.Out.Value().Dims() != 4 {
			continue
		}
		sh := tr.Out.Shape() // [N, C, H, W]
		vals := tr.Out.Value().Values()
		hw := sh[2] * sh[3]
		l := featureLayer{Path: tr.Path, Kind: kindOf(tr.Module), C: sh[1], H: sh[2], W: sh[3]}
		for c := range min(sh[1], most) {
			l.Maps = append(l.Maps, vals[c*hw:(c+1)*hw])
		}
		out = append(out, l)
	}
	return out
}

// saliency returns the class probabilities of x (a batch of one), the
// class c differentiated (class, or the predicted one when class < 0),
// and the gradient of c's score with respect to each input value; ok is
// false (and grad nil) when class is not one of the model's.
func saliency(m nn.Module, x *tensor.Tensor, class int) (probs []float64, c int, grad []float64, ok bool) {
	// Backprop to the input: the pixels are the leaf that needs a
	// gradient; the parameters' gradients are not wanted (ag.Grad leaves
	// their accumulated gradients alone).
	in := ag.Var(x)
	scores := m.Forward(in)
	probs = softmaxRow(scores.Value().Values())
	c = class
	if c < 0 {
		c = argmax(probs)
	}
	if c >= len(probs) {
		return probs, c, nil, false
	}
	return probs, c, ag.Grad(ag.Sum(ag.Slice(scores, 1, c, c+1)), []*ag.Node{in})[0].Value().Values(), true
}

// foldSaliency reduces an input gradient over its channels: for each of
// the hw pixels, the largest |g| over the channels and that g, signed.
func foldSaliency(g []float64, chans, hw int) (abs, signed []float64) {
	abs = make([]float64, hw)
	signed = make([]float64, hw)
	for k := range abs {
		for ch := range chans {
			v := g[ch*hw+k]
			if math.Abs(v) > abs[k] {
				abs[k], signed[k] = math.Abs(v), v
			}
		}
	}
	return abs, signed
}
