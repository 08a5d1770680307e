package kernels

import (
	"math"

	"github.com/nabla-go/nabla/internal/freelist"
)

// idxPool holds scratch index slices for MaxPool2D without indices.
var idxPool freelist.List[*[]int]

// PoolGeom describes a max pooling window over planes of H×W: output
// (oh, ow) looks at rows oh·SH − PH + i·DH (i < KH) and columns
// ow·SW − PW + j·DW (j < KW) that fall inside the plane.
type PoolGeom struct {
	H, W, OH, OW int
	KH, KW       int
	SH, SW       int
	PH, PW       int
	DH, DW       int
}

// MaxPool2D writes the maximum of each window of each of the planes of x
// ([planes, H, W]) into y ([planes, OH, OW]), and into idx the flat index
// in x of the element it took. Ties go to the first element in row-major
// window order and a NaN wins (it propagates), as in PyTorch's CPU kernel;
// a window with no element inside the plane gives −∞ and the index of its
// first in-plane element, which callers rule out (PyTorch refuses such
// sizes). idx may be nil when no gradient is wanted (inference): the
// indices are then not kept.
func MaxPool2D[T float32 | float64](g PoolGeom, planes int, x, y []T, idx []int) {
	P := g.OH * g.OW
	checkLen("MaxPool2D", "x", len(x), planes*g.H*g.W)
	checkLen("MaxPool2D", "y", len(y), planes*P)
	if idx != nil {
		checkLen("MaxPool2D", "idx", len(idx), planes*P)
	}
	ParallelFor(planes, max(1, 4096/max(P, 1)), func(lo, hi int) {
		var scratch *[]int
		if idx == nil {
			scratch = getIdx(P)
			defer idxPool.Put(scratch)
		}
		for pl := lo; pl < hi; pl++ {
			maxPoolPlane(&g, x[pl*g.H*g.W:(pl+1)*g.H*g.W], y[pl*P:(pl+1)*P], planeIdx(idx, scratch, pl*P, P), pl*g.H*g.W)
		}
	})
}

// getIdx returns a pooled index buffer of n elements, for a max pooling
// whose indices are not kept.
func getIdx(n int) *[]int {
	b, _ := idxPool.Get()
	if b == nil || cap(*b) < n {
		s := make([]int, n)
		return &s
	}
	*b = (*b)[:n]
	return b
}

// planeIdx returns where the indices of the P outputs from o go: idx's,
// or the scratch buffer when the caller keeps none (idx nil).
func planeIdx(idx []int, scratch *[]int, o, P int) []int {
	if idx != nil {
		return idx[o : o+P]
	}
	return *scratch
}

// maxPoolPlane pools one plane xp ([H, W]) into y ([OH, OW]), writing into
// idx the index of each output's element in xp plus base.
func maxPoolPlane[T float32 | float64](g *PoolGeom, xp, y []T, idx []int, base int) {
	if g.PH == 0 && g.PW == 0 && (g.OH-1)*g.SH+(g.KH-1)*g.DH < g.H && (g.OW-1)*g.SW+(g.KW-1)*g.DW < g.W {
		maxPoolInside(g, xp, y, idx, base)
		return
	}
	o := 0
	for oh := range g.OH {
		h0 := oh*g.SH - g.PH
		ih0 := h0
		for ih0 < 0 {
			ih0 += g.DH
		}
		for ow := range g.OW {
			w0 := ow*g.SW - g.PW
			iw0 := w0
			for iw0 < 0 {
				iw0 += g.DW
			}
			best, at := T(math.Inf(-1)), ih0*g.W+iw0
			for i := range g.KH {
				ih := h0 + i*g.DH
				if ih < 0 || ih >= g.H {
					continue
				}
				row := xp[ih*g.W : (ih+1)*g.W]
				for j := range g.KW {
					iw := w0 + j*g.DW
					if iw < 0 || iw >= g.W {
						continue
					}
					if v := row[iw]; v > best || v != v {
						best, at = v, ih*g.W+iw
					}
				}
			}
			y[o] = best
			idx[o] = base + at
			o++
		}
	}
}

// maxPoolInside is MaxPool2D for one plane whose windows all lie inside
// it (no padding, none running off the edge): no bounds tests, and the
// common 2×2 window unrolled, vectorised for float32 with column stride
// 2. The same comparisons in the same order, so the same ties and NaN
// rule (the last NaN in window order is taken, as each NaN replaces the
// best so far), and the value is always the element at the index.
func maxPoolInside[T float32 | float64](g *PoolGeom, xp, y []T, idx []int, base int) {
	if g.KH == 2 && g.KW == 2 && g.DH == 1 && g.DW == 1 {
		if x32, ok := any(xp).([]float32); ok && g.SW == 2 && maxPool2x2Vec(vecLevel, g, x32, any(y).([]float32), idx, base) {
			return
		}
		maxPool2x2Rows(g, xp, y, idx, base, 0, g.OH)
		return
	}
	o := 0
	for oh := range g.OH {
		for ow := range g.OW {
			h0, w0 := oh*g.SH, ow*g.SW
			best, at := T(math.Inf(-1)), h0*g.W+w0
			for i := range g.KH {
				r := (h0+i*g.DH)*g.W + w0
				for j := range g.KW {
					if v := xp[r+j*g.DW]; v > best || v != v {
						best, at = v, r+j*g.DW
					}
				}
			}
			y[o], idx[o] = best, base+at
			o++
		}
	}
}

// maxPool2x2Rows is maxPoolInside's 2×2 window (KH = KW = 2, DH = DW = 1)
// for output rows [oh0, oh1).
func maxPool2x2Rows[T float32 | float64](g *PoolGeom, xp, y []T, idx []int, base, oh0, oh1 int) {
	o := oh0 * g.OW
	for oh := oh0; oh < oh1; oh++ {
		r0 := oh * g.SH * g.W
		row0, row1 := xp[r0:r0+g.W], xp[r0+g.W:r0+2*g.W]
		for ow := range g.OW {
			c := ow * g.SW
			// Branch-free: with random data the winner of each
			// comparison is a coin toss, and mispredicted branches cost
			// more than the comparisons. Ties keep the earlier element
			// (strict >), as the sequential rule does.
			a, b, d, e := row0[c], row0[c+1], row1[c], row1[c+1]
			v0, v1 := max(a, b), max(d, e)
			i0, i1 := r0+c+b2i(b > a), r0+g.W+c+b2i(e > d)
			at := i0
			if v1 > v0 {
				at = i1
			}
			if v := max(v0, v1); v != v { // a NaN: the sequential rule picks the last one
				at = lastNaN(xp, r0+c, g.W)
			}
			// The element itself, not max's value: max(−0, +0) is +0
			// where the sequential rule keeps the first, −0.
			y[o], idx[o] = xp[at], base+at
			o++
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lastNaN returns the index of the last NaN, in row-major order, of the
// 2×2 window at r of a plane w wide.
func lastNaN[T float32 | float64](xp []T, r, w int) int {
	at := r
	for _, i := range [4]int{r, r + 1, r + w, r + w + 1} {
		if xp[i] != xp[i] {
			at = i
		}
	}
	return at
}

// ScatterPlanes adds src[i] into dst[idx[i]] for every i, planes at a
// time: src holds planes runs of len(src)/planes elements, and the indices
// of run p must fall in plane p of dst (dst holds planes equal planes), as
// MaxPool2D's indices do; the planes are spread over the pool. dst is
// added to, not cleared. It is max pooling's backward pass.
func ScatterPlanes[T float32 | float64](planes int, src []T, idx []int, dst []T) {
	checkLen("ScatterPlanes", "idx", len(idx), len(src))
	if planes == 0 || len(src) == 0 {
		return
	}
	per, size := len(src)/planes, len(dst)/planes
	checkLen("ScatterPlanes", "src", len(src), planes*per)
	ParallelFor(planes, max(1, 4096/max(per, 1)), func(lo, hi int) {
		d := dst[lo*size : hi*size]
		for i, j := range idx[lo*per : hi*per] {
			d[j-lo*size] += src[lo*per+i]
		}
	})
}

// GatherPlanes sets dst[i] = src[idx[i]] for every i, planes at a time
// (the adjoint of ScatterPlanes, with its layout).
func GatherPlanes[T float32 | float64](planes int, src []T, idx []int, dst []T) {
	checkLen("GatherPlanes", "idx", len(idx), len(dst))
	if planes == 0 || len(dst) == 0 {
		return
	}
	per := len(dst) / planes
	ParallelFor(planes, max(1, 4096/max(per, 1)), func(lo, hi int) {
		for i, j := range idx[lo*per : hi*per] {
			dst[lo*per+i] = src[j]
		}
	})
}

// AvgPlan describes average pooling over planes of H×W: output (oh, ow)
// is the sum of rows [HS[oh], HE[oh]) and columns [WS[ow], WE[ow]) divided
// by DivH[oh]·DivW[ow], or by Div when it is not 0.
type AvgPlan struct {
	H, W, OH, OW   int
	HS, HE, WS, WE []int
	DivH, DivW     []float64
	Div            float64
}

func (p *AvgPlan) scale(oh, ow int) float64 {
	if p.Div != 0 {
		return 1 / p.Div
	}
	return 1 / (p.DivH[oh] * p.DivW[ow])
}

// AvgPool2D writes the window averages of the planes of x ([planes, H, W])
// into y ([planes, OH, OW]).
func AvgPool2D[T float32 | float64](p *AvgPlan, planes int, x, y []T) {
	P := p.OH * p.OW
	checkLen("AvgPool2D", "x", len(x), planes*p.H*p.W)
	checkLen("AvgPool2D", "y", len(y), planes*P)
	ParallelFor(planes, max(1, 4096/max(P, 1)), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp := x[pl*p.H*p.W : (pl+1)*p.H*p.W]
			o := pl * P
			for oh := range p.OH {
				for ow := range p.OW {
					var s T
					for ih := p.HS[oh]; ih < p.HE[oh]; ih++ {
						for _, v := range xp[ih*p.W+p.WS[ow] : ih*p.W+p.WE[ow]] {
							s += v
						}
					}
					y[o] = s * T(p.scale(oh, ow))
					o++
				}
			}
		}
	})
}

// AvgPool2DBackward writes into dx ([planes, H, W], overwritten) the
// adjoint of AvgPool2D applied to dy ([planes, OH, OW]): each output's
// gradient, divided as its average was, spread over its window.
func AvgPool2DBackward[T float32 | float64](p *AvgPlan, planes int, dy, dx []T) {
	P := p.OH * p.OW
	checkLen("AvgPool2DBackward", "dy", len(dy), planes*P)
	checkLen("AvgPool2DBackward", "dx", len(dx), planes*p.H*p.W)
	ParallelFor(planes, max(1, 4096/max(P, 1)), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp := dx[pl*p.H*p.W : (pl+1)*p.H*p.W]
			clear(xp)
			o := pl * P
			for oh := range p.OH {
				for ow := range p.OW {
					v := dy[o] * T(p.scale(oh, ow))
					o++
					for ih := p.HS[oh]; ih < p.HE[oh]; ih++ {
						row := xp[ih*p.W+p.WS[ow] : ih*p.W+p.WE[ow]]
						for i := range row {
							row[i] += v
						}
					}
				}
			}
		}
	})
}
