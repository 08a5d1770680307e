package kernels

// ChannelAffine writes y = x·scale[ch] + shift[ch] for the n·c planes of
// hw elements of x ([n, c, hw] in NCHW order), then max(0, ·) with relu
// (ReLU32's rule: NaN kept). shift may be nil (no shift). x and y may be
// the same slice. Planes are spread over the pool. It is a BatchNorm in
// evaluation mode, and the input gradient of one.
func ChannelAffine[T float32 | float64](n, c, hw int, x, scale, shift []T, relu bool, y []T) {
	checkLen("ChannelAffine", "x", len(x), n*c*hw)
	checkLen("ChannelAffine", "y", len(y), n*c*hw)
	checkLen("ChannelAffine", "scale", len(scale), c)
	if shift != nil {
		checkLen("ChannelAffine", "shift", len(shift), c)
	}
	if len(x) == 0 {
		return
	}
	ParallelFor(n*c, max(1, 8192/max(hw, 1)), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			ch := pl % c
			var sh T
			if shift != nil {
				sh = shift[ch]
			}
			yo := y[pl*hw : (pl+1)*hw]
			affineRow(x[pl*hw:(pl+1)*hw], yo, scale[ch], sh)
			if relu {
				reluInPlace(yo)
			}
		}
	})
}

// affineRow writes y[i] = x[i]·sc + sh.
func affineRow[T float32 | float64](x, y []T, sc, sh T) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = v*sc + sh
	}
}
