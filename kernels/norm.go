package kernels

import "math"

// BatchNorm normalises x ([n, c, hw] in NCHW order) per channel with the
// batch's statistics: mean[ch] and the biased variance varOut[ch] over
// the n·hw values of channel ch, then y = (x − mean)/√(var + eps)·w + b
// (w and b nil: 1 and 0), then, with relu, max(0, y) as ReLU32 computes
// it (NaN kept). It writes y, mean and varOut (c elements each
// for the last two). The mean and variance are taken in two passes (the
// mean first, then the squared deviations: no cancellation), summed in
// float64. Channels are spread over the pool. For float32 the channel
// loops are vectorised (AVX-512 or AVX2 where the CPU has them); they
// differ from the portable loops only in the order of the float64 sums.
func BatchNorm[T float32 | float64](n, c, hw int, x, w, b []T, eps float64, relu bool, y, mean, varOut []T) {
	checkLen("BatchNorm", "x", len(x), n*c*hw)
	checkLen("BatchNorm", "y", len(y), n*c*hw)
	checkLen("BatchNorm", "mean", len(mean), c)
	checkLen("BatchNorm", "var", len(varOut), c)
	batchNorm(vecLevel, n, c, hw, x, w, b, eps, relu, y, mean, varOut)
}

// batchNorm is BatchNorm with the float32 loops of vector level lvl.
func batchNorm[T float32 | float64](lvl, n, c, hw int, x, w, b []T, eps float64, relu bool, y, mean, varOut []T) {
	cnt := float64(n * hw)
	ParallelFor(c, 1, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			// Channel ch: n runs of hw elements, c·hw apart, from ch·hw.
			m := chSum(lvl, x, ch*hw, n, hw, c*hw) / cnt
			v := chSqDev(lvl, x, ch*hw, n, hw, c*hw, m) / cnt
			mean[ch], varOut[ch] = T(m), T(v)
			scale, shift := 1/math.Sqrt(v+eps), 0.0
			if w != nil {
				scale *= float64(w[ch])
			}
			if b != nil {
				shift = float64(b[ch])
			}
			// y = (x − m)·scale + shift
			sc, sh := T(scale), T(shift-m*scale)
			chAffine(lvl, y, x, ch*hw, n, hw, c*hw, sc, sh, relu)
		}
	})
}

// BatchNormBackward is BatchNorm's backward pass given the upstream
// gradient g, the same x, and the mean and variance BatchNorm returned:
// with x̂ = (x − mean)/√(var + eps) and N = n·hw,
//
//	gb = Σ g,  gw = Σ g·x̂,  gx = w/√(var + eps)·(g − gb/N − x̂·gw/N)
//
// per channel (w nil: 1). gx, gw and gb may each be nil when not wanted.
// float32 is vectorised as in BatchNorm.
func BatchNormBackward[T float32 | float64](n, c, hw int, x, g, w, mean, variance []T, eps float64, gx, gw, gb []T) {
	checkLen("BatchNormBackward", "x", len(x), n*c*hw)
	checkLen("BatchNormBackward", "g", len(g), n*c*hw)
	batchNormBackward(vecLevel, n, c, hw, x, g, w, mean, variance, eps, gx, gw, gb)
}

// batchNormBackward is BatchNormBackward with the float32 loops of vector
// level lvl.
func batchNormBackward[T float32 | float64](lvl, n, c, hw int, x, g, w, mean, variance []T, eps float64, gx, gw, gb []T) {
	cnt := float64(n * hw)
	ParallelFor(c, 1, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			m := float64(mean[ch])
			inv := 1 / math.Sqrt(float64(variance[ch])+eps)
			sg, sgx := chDots(lvl, g, x, ch*hw, n, hw, c*hw, m)
			sgx *= inv // Σ g·x̂
			if gb != nil {
				gb[ch] = T(sg)
			}
			if gw != nil {
				gw[ch] = T(sgx)
			}
			if gx == nil {
				continue
			}
			wv := 1.0
			if w != nil {
				wv = float64(w[ch])
			}
			// gx = a·g + b·x + d, with a = w·inv, b = −w·inv²·Σg·x̂/N,
			// d = −w·inv·Σg/N − b·m.
			a := wv * inv
			bx := -a * inv * sgx / cnt
			d := -a*sg/cnt - bx*m
			chBackward(lvl, gx, g, x, ch*hw, n, hw, c*hw, T(a), T(bx), T(d))
		}
	})
}

// The ch functions run one channel, rows runs of cols elements stride
// apart from element o, with the float32 kernels of level lvl or the
// portable chan loops.

func chSum[T float32 | float64](lvl int, x []T, o, rows, cols, stride int) float64 {
	if rows == 0 || cols == 0 {
		return 0
	}
	if x32, ok := any(x).([]float32); ok {
		return bnSum32(lvl, x32[o:], rows, cols, stride)
	}
	return chanSum(x[o:], rows, cols, stride)
}

func chSqDev[T float32 | float64](lvl int, x []T, o, rows, cols, stride int, m float64) float64 {
	if rows == 0 || cols == 0 {
		return 0
	}
	if x32, ok := any(x).([]float32); ok {
		return bnSqDev32(lvl, x32[o:], rows, cols, stride, m)
	}
	return chanSqDev(x[o:], rows, cols, stride, m)
}

func chDots[T float32 | float64](lvl int, g, x []T, o, rows, cols, stride int, m float64) (float64, float64) {
	if rows == 0 || cols == 0 {
		return 0, 0
	}
	if x32, ok := any(x).([]float32); ok {
		return bnDots32(lvl, any(g).([]float32)[o:], x32[o:], rows, cols, stride, m)
	}
	return chanDots(g[o:], x[o:], rows, cols, stride, m)
}

func chAffine[T float32 | float64](lvl int, y, x []T, o, rows, cols, stride int, sc, sh T, relu bool) {
	if rows == 0 || cols == 0 {
		return
	}
	if x32, ok := any(x).([]float32); ok {
		bnAffine32(lvl, any(y).([]float32)[o:], x32[o:], rows, cols, stride, float32(sc), float32(sh), relu)
		return
	}
	chanAffine(y[o:], x[o:], rows, cols, stride, sc, sh, relu)
}

func chBackward[T float32 | float64](lvl int, gx, g, x []T, o, rows, cols, stride int, a, b, d T) {
	if rows == 0 || cols == 0 {
		return
	}
	if x32, ok := any(x).([]float32); ok {
		bnBackward32(lvl, any(gx).([]float32)[o:], any(g).([]float32)[o:], x32[o:], rows, cols, stride, float32(a), float32(b), float32(d))
		return
	}
	chanBackward(gx[o:], g[o:], x[o:], rows, cols, stride, a, b, d)
}

// chanSum is Σ x over one channel (see chSum), a float64 sum per run.
func chanSum[T float32 | float64](x []T, rows, cols, stride int) float64 {
	var s float64
	for i := range rows {
		s += sum4(x[i*stride:][:cols])
	}
	return s
}

// chanSqDev is Σ (x − m)² over one channel.
func chanSqDev[T float32 | float64](x []T, rows, cols, stride int, m float64) float64 {
	var s float64
	for i := range rows {
		s += sqDev4(x[i*stride:][:cols], m)
	}
	return s
}

// chanDots is Σ g and Σ g·(x − m) over one channel.
func chanDots[T float32 | float64](g, x []T, rows, cols, stride int, m float64) (float64, float64) {
	var sg, sgx float64
	for i := range rows {
		a, b := dots4(g[i*stride:][:cols], x[i*stride:][:cols], m)
		sg += a
		sgx += b
	}
	return sg, sgx
}

// chanAffine sets y = x·sc + sh over one channel, then with relu applies
// ReLU32's rule. The conversion rounds the product, so that no compiler
// fuses it with the sum: the vector kernels give the same bits.
func chanAffine[T float32 | float64](y, x []T, rows, cols, stride int, sc, sh T, relu bool) {
	for i := range rows {
		yo, xo := y[i*stride:][:cols], x[i*stride:][:cols]
		for j, v := range xo {
			yo[j] = T(v*sc) + sh
		}
		if relu {
			reluInPlace(yo)
		}
	}
}

// chanBackward sets gx = (a·g + b·x) + d over one channel, each product
// and sum rounded (see chanAffine).
func chanBackward[T float32 | float64](gx, g, x []T, rows, cols, stride int, a, b, d T) {
	for i := range rows {
		gxi, gi, xi := gx[i*stride:][:cols], g[i*stride:][:cols], x[i*stride:][:cols]
		for j, gv := range gi {
			gxi[j] = T(T(a*gv)+T(b*xi[j])) + d
		}
	}
}

// sum4 is Σ x in float64, in four independent running sums so that the
// additions do not wait on one another (one chain ran at the adder's
// latency, a quarter of its throughput).
func sum4[T float32 | float64](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// sqDev4 is Σ (x − m)² in float64, four running sums (see sum4).
func sqDev4[T float32 | float64](x []T, m float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		d0, d1, d2, d3 := float64(x[i])-m, float64(x[i+1])-m, float64(x[i+2])-m, float64(x[i+3])-m
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(x); i++ {
		d := float64(x[i]) - m
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// dots4 returns Σ g and Σ g·(x − m) in float64, four running sums each
// (see sum4).
func dots4[T float32 | float64](g, x []T, m float64) (float64, float64) {
	x = x[:len(g)]
	var a0, a1, a2, a3, b0, b1, b2, b3 float64
	i := 0
	for ; i+4 <= len(g); i += 4 {
		g0, g1, g2, g3 := float64(g[i]), float64(g[i+1]), float64(g[i+2]), float64(g[i+3])
		a0 += g0
		a1 += g1
		a2 += g2
		a3 += g3
		b0 += g0 * (float64(x[i]) - m)
		b1 += g1 * (float64(x[i+1]) - m)
		b2 += g2 * (float64(x[i+2]) - m)
		b3 += g3 * (float64(x[i+3]) - m)
	}
	for ; i < len(g); i++ {
		a0 += float64(g[i])
		b0 += float64(g[i]) * (float64(x[i]) - m)
	}
	return (a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3)
}
