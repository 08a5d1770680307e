package kernels

import (
	"fmt"

	"github.com/nabla-go/nabla/internal/freelist"
)

// ConvGeom describes a 2-D convolution over contiguous NCHW data, in
// PyTorch's terms (cross-correlation, no kernel flip):
//
//	y[n, k, oh, ow] = Σ x[n, g·Cg + c, oh·SH − PT + i·DH, ow·SW − PL + j·DW] · w[k, c, i, j]
//
// summed over c < C/Groups, i < KH, j < KW, where g = k / (K/Groups) is
// the group of output channel k; positions outside the input read zero.
// The input is [N, C, H, W], the weight [K, C/Groups, KH, KW] and the
// output [N, K, OH, OW]. The padding at the bottom and right is implied by
// OH and OW: any row or column past the input reads zero.
type ConvGeom struct {
	N, C, H, W int // input
	K, KH, KW  int // output channels and kernel size
	OH, OW     int // output size
	SH, SW     int // stride
	PT, PL     int // padding at the top and on the left
	DH, DW     int // dilation
	Groups     int
}

// Check panics with a message naming the geometry when a size is out of
// range or the channels do not divide into the groups.
func (g ConvGeom) Check() {
	ok := g.N >= 0 && g.C >= 1 && g.H >= 0 && g.W >= 0 && g.K >= 1 && g.KH >= 1 && g.KW >= 1 &&
		g.OH >= 0 && g.OW >= 0 && g.SH >= 1 && g.SW >= 1 && g.PT >= 0 && g.PL >= 0 &&
		g.DH >= 1 && g.DW >= 1 && g.Groups >= 1 && g.C%g.Groups == 0 && g.K%g.Groups == 0
	if !ok {
		panic(fmt.Sprintf("kernels: bad convolution geometry %+v", g))
	}
}

// cols is the number of rows of the unfolded input of one group: C/G·KH·KW.
func (g ConvGeom) cols() int { return g.C / g.Groups * g.KH * g.KW }

// pointwise reports whether the convolution is a 1×1, stride-1, unpadded
// one, whose unfolded input is the input itself.
func (g ConvGeom) pointwise() bool {
	return g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PT == 0 && g.PL == 0 && g.OH == g.H && g.OW == g.W
}

// tile returns how many output pixels one unfolded tile holds: the whole
// image when its unfolded input fits in tileElems elements (about the L2
// cache), else the most whole 32-column panels that fit, never fewer than
// 64 pixels, so that the products stay wide enough for the GEMM to run
// near its peak (tiles of 81 pixels, two panels and a ragged edge, ran
// the 64×196×800 product of the MNIST CNN at a third of its speed).
func (g ConvGeom) tile() int {
	p := g.OH * g.OW
	if p == 0 {
		return 1
	}
	t := max(tileElems/max(g.cols(), 1)/32*32, 64)
	if t >= p {
		return p
	}
	return t
}

// tileElems bounds the elements of one unfolded tile (see ConvGeom.tile):
// 2 MiB of float32, the L2 cache of the development machine's cores. The
// second convolution of the MNIST CNN (800×196) and its transposed
// convolution for the input gradient (1600×196) fit whole.
const tileElems = 512 << 10

// Scratch buffers come from pools, one per purpose (unfolded tiles,
// flipped kernels, weight-gradient partial sums, one image's output
// before pooling) and element type, so that
// a warm convolution allocates nothing and buffers of one size do not
// displace those of another.
type scratch int

const (
	scratchCol scratch = iota
	scratchKernel
	scratchPartial
	scratchOut
	scratchKinds
)

var bufPools [scratchKinds][2]freelist.List[any] // *[]float32, *[]float64

func getBuf[T float32 | float64](kind scratch, n int) *[]T {
	if x, ok := poolOf[T](kind).Get(); ok {
		if b := x.(*[]T); cap(*b) >= n {
			*b = (*b)[:n]
			return b
		}
	}
	s := make([]T, n)
	return &s
}

func putBuf[T float32 | float64](kind scratch, b *[]T) { poolOf[T](kind).Put(b) }

func poolOf[T float32 | float64](kind scratch) *freelist.List[any] {
	var z T
	if _, ok := any(z).(float32); ok {
		return &bufPools[kind][0]
	}
	return &bufPools[kind][1]
}

// gemm is Sgemm or Dgemm, by T, with alpha 1; with serial set it runs on
// the calling goroutine (the caller is already spread over the pool, and
// a nested parallel product would only add hand-overs); with relu set the
// kernel stores max(0, ·) of each finished element (the GEMM's epilogue:
// no second pass).
func gemm[T float32 | float64](serial, relu bool, tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		gemmOn(sImpl, serial, relu, tA, tB, m, n, k, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		gemmOn(dImpl, serial, relu, tA, tB, m, n, k, a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

func gemmOn[T float32 | float64](g *gemmImpl[T], serial, relu bool, tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ep := epilogue[T]{relu: relu}
	if !serial || m == 0 || n == 0 || k == 0 {
		g.gemmEp(tA, tB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc, ep)
		return
	}
	checkGEMM(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if g.takesGemv(tA, tB, m, lda) {
		// As gemmEp would: the same kernel, so the same bits, whether
		// the caller runs the product serially or not.
		g.gemv(m, n, k, 1, a, lda, b, ldb, beta, c, ldc, ep)
		return
	}
	g.serial(tA, tB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc, ep)
}

// perImage reports whether a convolution over n images spreads the images
// over the pool (each product then runs serially) rather than running the
// images in turn with parallel products: when there are at least as many
// images as threads.
func perImage(n int) bool { return n >= Threads() }

// validCols returns the output columns [lo, hi) whose input column
// ow·SW − PL + j·DW falls inside the image, for kernel column j.
func (g *ConvGeom) validCols(j int) (lo, hi int) {
	off := j*g.DW - g.PL // input column of output column 0
	// ow·SW + off ≥ 0  ⇔  ow ≥ ⌈−off/SW⌉
	if off < 0 {
		lo = (-off + g.SW - 1) / g.SW
	}
	// ow·SW + off ≤ W − 1  ⇔  ow ≤ ⌊(W − 1 − off)/SW⌋
	if last := g.W - 1 - off; last >= 0 {
		hi = last/g.SW + 1
	}
	return min(lo, g.OW), min(max(hi, lo), g.OW)
}

// im2col unfolds the pixels [p0, p1) of one group of one image x
// ([C/G, H, W]) into col ([C/G·KH·KW, p1−p0], row r = (c·KH + i)·KW + j).
// Each output row is a run whose padded ends are cleared and whose middle
// is a copy (stride 1) or a strided gather: no test per element.
func im2col[T float32 | float64](g *ConvGeom, x, col []T, p0, p1 int) {
	if g.SH == 1 && g.SW == 1 && g.OW == g.W {
		im2colShift(g, x, col, p0, p1)
		return
	}
	np := p1 - p0
	cg := g.C / g.Groups
	r := 0
	for c := range cg {
		xc := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for i := range g.KH {
			for j := range g.KW {
				row := col[r*np : (r+1)*np]
				r++
				lo, hi := g.validCols(j)
				off := j*g.DW - g.PL
				oh, ow := p0/g.OW, p0%g.OW
				for q := 0; q < np; {
					n := min(g.OW-ow, np-q) // the run: columns [ow, ow+n) of output row oh
					dst := row[q : q+n]
					ih := oh*g.SH - g.PT + i*g.DH
					if ih < 0 || ih >= g.H {
						clear(dst)
					} else {
						a, b := max(lo, ow), min(hi, ow+n)
						if a >= b {
							clear(dst)
						} else {
							clear(dst[:a-ow])
							clear(dst[b-ow:])
							xr := xc[ih*g.W:]
							mid := dst[a-ow : b-ow]
							iw := a*g.SW + off
							if g.SW == 1 {
								copy(mid, xr[iw:iw+len(mid)])
							} else {
								for t := range mid {
									mid[t] = xr[iw+t*g.SW]
								}
							}
						}
					}
					q += n
					ow = 0
					oh++
				}
			}
		}
	}
}

// im2colShift is im2col for a stride-1 convolution whose output rows are
// as wide as the input's ("same" padding, the common case): then row
// (c, i, j) of the unfolded input is the flattened channel shifted by
// di·W + dj (di = i·DH − PT, dj = j·DW − PL), so it is one copy, with the
// rows that fall off the top or bottom and the |dj| columns that wrap
// around each row's edge cleared.
func im2colShift[T float32 | float64](g *ConvGeom, x, col []T, p0, p1 int) {
	np := p1 - p0
	cg := g.C / g.Groups
	hw := g.H * g.W
	r := 0
	for c := range cg {
		xc := x[c*hw : (c+1)*hw]
		for i := range g.KH {
			di := i*g.DH - g.PT
			for j := range g.KW {
				dj := j*g.DW - g.PL
				row := col[r*np : (r+1)*np]
				r++
				// Output pixels p whose input row oh+di is inside, and whose
				// shifted index p + di·W + dj stays in the channel.
				shift := di*g.W + dj
				a := max(p0, -di*g.W, -shift)
				b := min(p1, (g.H-di)*g.W, hw-shift)
				if a >= b {
					clear(row)
					continue
				}
				clear(row[:a-p0])
				copy(row[a-p0:b-p0], xc[a+shift:b+shift])
				clear(row[b-p0:])
				if dj == 0 {
					continue
				}
				// Clear the columns whose input column ow+dj wraps around:
				// ow < −dj on the left, ow ≥ W − dj on the right.
				c0, c1 := 0, -dj // [c0, c1) of each row
				if dj > 0 {
					c0, c1 = g.W-dj, g.W
				}
				c0, c1 = max(c0, 0), min(c1, g.W)
				for oh := max(a, p0) / g.W; oh*g.W < b; oh++ {
					// A few elements per row: a loop, not a call to clear.
					for t := max(oh*g.W+c0, a); t < min(oh*g.W+c1, b); t++ {
						row[t-p0] = 0
					}
				}
			}
		}
	}
}

// col2im adds the unfolded tile col (as im2col lays it out) back into one
// group of one image dx ([C/G, H, W]): the adjoint of im2col.
func col2im[T float32 | float64](g *ConvGeom, col, dx []T, p0, p1 int) {
	np := p1 - p0
	cg := g.C / g.Groups
	r := 0
	for c := range cg {
		xc := dx[c*g.H*g.W : (c+1)*g.H*g.W]
		for i := range g.KH {
			for j := range g.KW {
				row := col[r*np : (r+1)*np]
				r++
				lo, hi := g.validCols(j)
				off := j*g.DW - g.PL
				oh, ow := p0/g.OW, p0%g.OW
				for q := 0; q < np; {
					n := min(g.OW-ow, np-q)
					ih := oh*g.SH - g.PT + i*g.DH
					if ih >= 0 && ih < g.H {
						if a, b := max(lo, ow), min(hi, ow+n); a < b {
							xr := xc[ih*g.W:]
							src := row[q+a-ow : q+b-ow]
							iw := a*g.SW + off
							if g.SW == 1 {
								d := xr[iw : iw+len(src)]
								for t, v := range src {
									d[t] += v
								}
							} else {
								for t, v := range src {
									xr[iw+t*g.SW] += v
								}
							}
						}
					}
					q += n
					ow = 0
					oh++
				}
			}
		}
	}
}

// Conv2D computes y = conv(x, w) + bias (see ConvGeom), then max(0, ·)
// when relu is set, into y, which is written and never read. bias is nil
// or holds K elements. x, w and y are contiguous NCHW, [K, C/G, KH, KW]
// and [N, K, OH, OW] slices of exactly those sizes.
//
// Each group of each image is unfolded (im2col) a tile of output pixels
// at a time, so that no [C/G·KH·KW, OH·OW] buffer larger than about
// tileElems elements is built, and multiplied by the group's weight with
// the GEMM, onto the bias written into y first, with the ReLU applied by
// the GEMM as it stores each finished element (no second pass); a 1×1
// unpadded stride-1 convolution multiplies the input in place. Images are
// spread over the worker pool; the scratch tiles come
// from a pool, so a warm call allocates nothing.
func Conv2D[T float32 | float64](g ConvGeom, x, w, bias, y []T, relu bool) {
	checkConvInputs("Conv2D", &g, x, w, bias)
	checkLen("Conv2D", "y", len(y), g.N*g.K*g.OH*g.OW)
	P := g.OH * g.OW
	if P == 0 || g.N == 0 {
		return
	}
	ser := perImage(g.N)
	ParallelFor(g.N, grainOf(ser, g.N), func(lo, hi int) {
		buf := colBuf[T](&g)
		if buf != nil {
			defer putBuf(scratchCol, buf)
		}
		for n := lo; n < hi; n++ {
			convImage(&g, ser, x[n*g.C*g.H*g.W:(n+1)*g.C*g.H*g.W], w, bias, y[n*g.K*P:(n+1)*g.K*P], buf, relu)
		}
	})
}

// checkConvInputs panics, naming op, when g is not a valid geometry or x,
// w and bias (nil, or K elements) do not have its sizes.
func checkConvInputs[T float32 | float64](op string, g *ConvGeom, x, w, bias []T) {
	g.Check()
	checkLen(op, "x", len(x), g.N*g.C*g.H*g.W)
	checkLen(op, "w", len(w), g.K*g.cols())
	if bias != nil {
		checkLen(op, "bias", len(bias), g.K)
	}
}

// Conv2DMaxPool computes y = maxpool(conv(x, w) + bias), then max(0, ·)
// when relu is set: Conv2D followed by MaxPool2D over the planes of its
// output (pool's H and W are g's OH and OW), image by image, so that the
// convolution's output is held one image at a time, in cache while it is
// pooled, and never written to memory whole. y is [N, K, pool.OH,
// pool.OW]. idx is nil or receives, for each element of y, the flat index
// in the [N, K, OH, OW] convolution output of the element it took, as
// MaxPool2D would give it. Since max(0, ·) is monotone, pooling first and
// clamping after gives the values of pooling the clamped output, and the
// same index wherever the value is positive (elsewhere ReLU's gradient is
// zero, so which element was taken does not matter).
func Conv2DMaxPool[T float32 | float64](g ConvGeom, pool PoolGeom, x, w, bias, y []T, idx []int, relu bool) {
	checkConvInputs("Conv2DMaxPool", &g, x, w, bias)
	if pool.H != g.OH || pool.W != g.OW {
		panic(fmt.Sprintf("kernels: Conv2DMaxPool: pooling planes %d×%d, convolution output %d×%d", pool.H, pool.W, g.OH, g.OW))
	}
	P, PP := g.OH*g.OW, pool.OH*pool.OW
	checkLen("Conv2DMaxPool", "y", len(y), g.N*g.K*PP)
	if idx != nil {
		checkLen("Conv2DMaxPool", "idx", len(idx), len(y))
	}
	if len(y) == 0 {
		return
	}
	ser := perImage(g.N)
	ParallelFor(g.N, grainOf(ser, g.N), func(lo, hi int) {
		buf := colBuf[T](&g)
		if buf != nil {
			defer putBuf(scratchCol, buf)
		}
		out := getBuf[T](scratchOut, g.K*P)
		defer putBuf(scratchOut, out)
		var scratch *[]int
		if idx == nil {
			scratch = getIdx(PP)
			defer idxPool.Put(scratch)
		}
		for n := lo; n < hi; n++ {
			convImage(&g, ser, x[n*g.C*g.H*g.W:(n+1)*g.C*g.H*g.W], w, bias, *out, buf, false)
			for k := range g.K {
				o := (n*g.K + k) * PP
				maxPoolPlane(&pool, (*out)[k*P:(k+1)*P], y[o:o+PP], planeIdx(idx, scratch, o, PP), (n*g.K+k)*P)
			}
			if relu {
				reluInPlace(y[n*g.K*PP : (n+1)*g.K*PP])
			}
		}
	})
}

// colBuf returns a pooled buffer for one unfolded tile of g (see
// ConvGeom.tile), or nil for a pointwise convolution, which needs none.
func colBuf[T float32 | float64](g *ConvGeom) *[]T {
	if g.pointwise() {
		return nil
	}
	return getBuf[T](scratchCol, g.cols()*g.tile())
}

// convImage computes one image's convolution plus bias, then max(0, ·)
// with relu set, x [C, H, W] into y [K, OH, OW], a tile of output pixels
// at a time unfolded into buf (nil for a pointwise convolution, which
// multiplies x in place). serial runs the products on the calling
// goroutine.
func convImage[T float32 | float64](g *ConvGeom, serial bool, x, w, bias, y []T, buf *[]T, relu bool) {
	P, CK, cg, kg := g.OH*g.OW, g.cols(), g.C/g.Groups, g.K/g.Groups
	tile := g.tile()
	for gr := range g.Groups {
		xg := x[gr*cg*g.H*g.W:]
		yg := y[gr*kg*P:]
		wg := w[gr*kg*CK:]
		var beta T
		if bias != nil {
			for k := range kg {
				row := yg[k*P : (k+1)*P]
				b := bias[gr*kg+k]
				for i := range row {
					row[i] = b
				}
			}
			beta = 1
		}
		if buf == nil {
			gemm(serial, relu, false, false, kg, P, CK, wg, CK, xg, P, beta, yg, P)
			continue
		}
		for p0 := 0; p0 < P; p0 += tile {
			p1 := min(p0+tile, P)
			col := (*buf)[:CK*(p1-p0)]
			im2col(g, xg, col, p0, p1)
			gemm(serial, relu, false, false, kg, p1-p0, CK, wg, CK, col, p1-p0, beta, yg[p0:], P)
		}
	}
}

// reluInPlace is max(0, x) with NaN kept (ReLU32's rule), vectorised for
// float32.
func reluInPlace[T float32 | float64](x []T) {
	if x32, ok := any(x).([]float32); ok {
		ReLU32(x32, x32)
		return
	}
	for i, v := range x {
		if !(v > 0) && v == v {
			x[i] = 0
		}
	}
}

// Conv2DBackwardData computes dx = convᵀ(dy, w), the gradient of
// Σ dy⊙conv(x, w) with respect to x, into dx ([N, C, H, W], overwritten):
// the transposed convolution of dy by w. Each tile of dy is multiplied by
// the group's transposed weight and folded back (col2im).
func Conv2DBackwardData[T float32 | float64](g ConvGeom, dy, w, dx []T) {
	g.Check()
	checkLen("Conv2DBackwardData", "dy", len(dy), g.N*g.K*g.OH*g.OW)
	checkLen("Conv2DBackwardData", "w", len(w), g.K*g.cols())
	checkLen("Conv2DBackwardData", "dx", len(dx), g.N*g.C*g.H*g.W)
	P, CK, cg, kg := g.OH*g.OW, g.cols(), g.C/g.Groups, g.K/g.Groups
	if g.N == 0 {
		return
	}
	if P == 0 {
		clear(dx)
		return
	}
	if t, ok := g.transposed(); ok && !g.pointwise() && cg >= 8 {
		wf := getBuf[T](scratchKernel, len(w))
		flipKernel(g, w, *wf)
		Conv2D(t, dy, *wf, nil, dx, false)
		putBuf(scratchKernel, wf)
		return
	}
	tile := g.tile()
	ser := perImage(g.N)
	ParallelFor(g.N, grainOf(ser, g.N), func(lo, hi int) {
		buf := colBuf[T](&g)
		if buf != nil {
			defer putBuf(scratchCol, buf)
		}
		for n := lo; n < hi; n++ {
			for gr := range g.Groups {
				dxg := dx[(n*g.C+gr*cg)*g.H*g.W:]
				dyg := dy[(n*g.K+gr*kg)*P:]
				wg := w[gr*kg*CK:]
				if buf == nil {
					gemm(ser, false, true, false, CK, P, kg, wg, CK, dyg, P, 0, dxg, P)
					continue
				}
				clear(dxg[:cg*g.H*g.W])
				for p0 := 0; p0 < P; p0 += tile {
					p1 := min(p0+tile, P)
					col := (*buf)[:CK*(p1-p0)]
					gemm(ser, false, true, false, CK, p1-p0, kg, wg, CK, dyg[p0:], P, 0, col, p1-p0)
					col2im(&g, col, dxg, p0, p1)
				}
			}
		}
	})
}

// transposed returns, for a stride-1 convolution, the convolution that
// computes its input gradient: dy convolved with the kernel flipped in
// both spatial axes and with its channel axes swapped (flipKernel), padded
// by dilation·(k−1) minus the original padding on each side, so that
// dx[ih] = Σ dy[oh]·w[i] over oh = ih + PT − i·DH. Without it, the input
// gradient is unfolded and folded back (col2im), whose short runs cost
// more than the product. (Conv2DBackwardData takes this path when each
// group has at least 8 input channels: with fewer, the product of the
// transposed convolution has too few rows to run near the GEMM's peak.)
// ok is false for strides above 1, or padding
// beyond the dilated kernel (the transposed padding would be negative).
func (g ConvGeom) transposed() (ConvGeom, bool) {
	eh, ew := g.DH*(g.KH-1), g.DW*(g.KW-1)
	pb := (g.OH - 1) + eh + 1 - g.H - g.PT // the padding at the bottom
	pr := (g.OW - 1) + ew + 1 - g.W - g.PL
	if g.SH != 1 || g.SW != 1 || g.PT > eh || g.PL > ew || pb > eh || pr > ew || pb < 0 || pr < 0 {
		return ConvGeom{}, false
	}
	return ConvGeom{N: g.N, C: g.K, H: g.OH, W: g.OW, K: g.C, KH: g.KH, KW: g.KW, OH: g.H, OW: g.W,
		SH: 1, SW: 1, PT: eh - g.PT, PL: ew - g.PL, DH: g.DH, DW: g.DW, Groups: g.Groups}, true
}

// flipKernel writes into wf ([C, K/G, KH, KW]) the kernel w ([K, C/G, KH,
// KW]) with its channel axes swapped within each group and its spatial
// axes reversed: wf[g·C/G + c, k, i, j] = w[g·K/G + k, c, KH−1−i, KW−1−j].
func flipKernel[T float32 | float64](g ConvGeom, w, wf []T) {
	cg, kg, kk := g.C/g.Groups, g.K/g.Groups, g.KH*g.KW
	for gr := range g.Groups {
		for k := range kg {
			for c := range cg {
				src := w[((gr*kg+k)*cg+c)*kk:][:kk]
				dst := wf[((gr*cg+c)*kg+k)*kk:][:kk]
				for t, v := range src {
					dst[kk-1-t] = v
				}
			}
		}
	}
}

// weightChunks is the number of parts the batch is cut into for the
// weight gradient: each part sums into its own buffer and the parts are
// added in order, so the result does not depend on the thread count.
const weightChunks = 8

// Conv2DBackwardWeight computes dw = Σₙ dy[n]·unfold(x[n])ᵀ, the gradient
// of Σ dy⊙conv(x, w) with respect to w, into dw ([K, C/G, KH, KW],
// overwritten). The batch is cut into up to weightChunks parts, summed in
// parallel into separate buffers and added in a fixed order: the bits do
// not depend on the number of threads.
func Conv2DBackwardWeight[T float32 | float64](g ConvGeom, x, dy, dw []T) {
	g.Check()
	checkLen("Conv2DBackwardWeight", "x", len(x), g.N*g.C*g.H*g.W)
	checkLen("Conv2DBackwardWeight", "dy", len(dy), g.N*g.K*g.OH*g.OW)
	checkLen("Conv2DBackwardWeight", "dw", len(dw), g.K*g.cols())
	P, CK, cg, kg := g.OH*g.OW, g.cols(), g.C/g.Groups, g.K/g.Groups
	clear(dw)
	if g.N == 0 || P == 0 {
		return
	}
	parts := min(g.N, weightChunks)
	per := (g.N + parts - 1) / parts
	parts = (g.N + per - 1) / per
	partial := getBuf[T](scratchPartial, len(dw)*(parts-1))
	defer putBuf(scratchPartial, partial)
	tile := g.tile()
	ser := perImage(parts)
	ParallelFor(parts, grainOf(ser, parts), func(lo, hi int) {
		buf := colBuf[T](&g)
		if buf != nil {
			defer putBuf(scratchCol, buf)
		}
		for part := lo; part < hi; part++ {
			acc := dw
			if part > 0 {
				acc = (*partial)[(part-1)*len(dw) : part*len(dw)]
				clear(acc)
			}
			for n := part * per; n < min((part+1)*per, g.N); n++ {
				for gr := range g.Groups {
					xg := x[(n*g.C+gr*cg)*g.H*g.W:]
					dyg := dy[(n*g.K+gr*kg)*P:]
					ag := acc[gr*kg*CK:]
					if buf == nil {
						gemm(ser, false, false, true, kg, CK, P, dyg, P, xg, P, 1, ag, CK)
						continue
					}
					for p0 := 0; p0 < P; p0 += tile {
						p1 := min(p0+tile, P)
						col := (*buf)[:CK*(p1-p0)]
						im2col(&g, xg, col, p0, p1)
						gemm(ser, false, false, true, kg, CK, p1-p0, dyg[p0:], P, col, p1-p0, 1, ag, CK)
					}
				}
			}
		}
	})
	for part := 1; part < parts; part++ {
		src := (*partial)[(part-1)*len(dw) : part*len(dw)]
		for i, v := range src {
			dw[i] += v
		}
	}
}

// grainOf is the ParallelFor grain: 1 when the images are spread over the
// pool, all of them (one inline call) when the products are parallel.
func grainOf(perImage bool, n int) int {
	if perImage {
		return 1
	}
	return n
}

func checkLen(op, name string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("kernels: %s: %s has %d elements, want %d", op, name, got, want))
	}
}
