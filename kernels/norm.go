package kernels

import "math"

// BatchNorm normalises x ([n, c, hw] in NCHW order) per channel with the
// batch's statistics: mean[ch] and the biased variance varOut[ch] over
// the n·hw values of channel ch, then y = (x − mean)/√(var + eps)·w + b
// (w and b nil: 1 and 0), then, with relu, max(0, y) as ReLU32 computes
// it (NaN kept). It writes y, mean and varOut (c elements each
// for the last two). The mean and variance are taken in two passes (the
// mean first, then the squared deviations: no cancellation), summed in
// float64. Channels are spread over the pool.
func BatchNorm[T float32 | float64](n, c, hw int, x, w, b []T, eps float64, relu bool, y, mean, varOut []T) {
	checkLen("BatchNorm", "x", len(x), n*c*hw)
	checkLen("BatchNorm", "y", len(y), n*c*hw)
	checkLen("BatchNorm", "mean", len(mean), c)
	checkLen("BatchNorm", "var", len(varOut), c)
	cnt := float64(n * hw)
	ParallelFor(c, 1, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var s float64
			for i := range n {
				s += sum4(x[(i*c+ch)*hw:][:hw])
			}
			m := s / cnt
			var ss float64
			for i := range n {
				ss += sqDev4(x[(i*c+ch)*hw:][:hw], m)
			}
			v := ss / cnt
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
			for i := range n {
				o := (i*c + ch) * hw
				yo := y[o : o+hw]
				for j, v := range x[o : o+hw] {
					yo[j] = v*sc + sh
				}
				if relu {
					reluInPlace(yo)
				}
			}
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
func BatchNormBackward[T float32 | float64](n, c, hw int, x, g, w, mean, variance []T, eps float64, gx, gw, gb []T) {
	checkLen("BatchNormBackward", "x", len(x), n*c*hw)
	checkLen("BatchNormBackward", "g", len(g), n*c*hw)
	cnt := float64(n * hw)
	ParallelFor(c, 1, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			m := float64(mean[ch])
			inv := 1 / math.Sqrt(float64(variance[ch])+eps)
			var sg, sgx float64
			for i := range n {
				o := (i*c + ch) * hw
				a, b := dots4(g[o:o+hw], x[o:o+hw], m)
				sg += a
				sgx += b
			}
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
			ta, tb, td := T(a), T(bx), T(d)
			for i := range n {
				o := (i*c + ch) * hw
				xs := x[o : o+hw]
				for j, gv := range g[o : o+hw] {
					gx[o+j] = ta*gv + tb*xs[j] + td
				}
			}
		}
	})
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
