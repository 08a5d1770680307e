package kernels

// ChannelAffine writes y = x·scale[ch] + shift[ch] for the n·c planes of
// hw elements of x ([n, c, hw] in NCHW order), then max(0, ·) with relu
// (ReLU32's rule: NaN kept). shift may be nil (no shift). x and y may be
// the same slice. Channels are spread over the pool; float32 runs the
// vectorised loop of BatchNorm's normalisation pass. It is a BatchNorm in
// evaluation mode, and the input gradient of one.
func ChannelAffine[T float32 | float64](n, c, hw int, x, scale, shift []T, relu bool, y []T) {
	channelAffine(vecLevel, n, c, hw, x, scale, shift, relu, y)
}

// channelAffine is ChannelAffine with the float32 loops of vector level
// lvl.
func channelAffine[T float32 | float64](lvl, n, c, hw int, x, scale, shift []T, relu bool, y []T) {
	checkLen("ChannelAffine", "x", len(x), n*c*hw)
	checkLen("ChannelAffine", "y", len(y), n*c*hw)
	checkLen("ChannelAffine", "scale", len(scale), c)
	if shift != nil {
		checkLen("ChannelAffine", "shift", len(shift), c)
	}
	if len(x) == 0 {
		return
	}
	ParallelFor(c, 1, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var sh T
			if shift != nil {
				sh = shift[ch]
			}
			chAffine(lvl, y, x, ch*hw, n, hw, c*hw, scale[ch], sh, relu)
		}
	})
}
