package kernels

import "math"

// SGDMomentum applies one step of SGD with momentum to a stretch of
// float32 parameters, in place, for every i:
//
//	d    = g[i] + wd·w[i]
//	b[i] = mom·b[i] + damp·d
//	u    = d + mom·b[i] (nesterov) or b[i]
//	w[i] = w[i] − lr·u
//
// (torch.optim.SGD's rule after its first step, which sets b = d). On amd64 with AVX2 the products are fused
// multiply-adds, so results may differ from unfused arithmetic in the last
// bit; any given machine gives the same bits on every run and for every
// split of the slices. The slices must have equal lengths.
func SGDMomentum(w, g, b []float32, lr, mom, damp, wd float32, nesterov bool) {
	if len(g) != len(w) || len(b) != len(w) {
		panic("kernels: SGDMomentum: slices of different lengths")
	}
	n := sgdMomentumVec(w, g, b, lr, mom, damp, wd, nesterov)
	sgdMomentumGo(w[n:], g[n:], b[n:], lr, mom, damp, wd, nesterov)
}

// sgdMomentumGo is the portable loop, and the tail after the vector loop.
func sgdMomentumGo(w, g, b []float32, lr, mom, damp, wd float32, nesterov bool) {
	g, b = g[:len(w)], b[:len(w)]
	for i := range w {
		d := g[i] + wd*w[i]
		b[i] = mom*b[i] + damp*d
		u := b[i]
		if nesterov {
			u = d + mom*b[i]
		}
		w[i] -= lr * u
	}
}

// Adam applies one step of Adam (or AdamW) to a stretch of float32
// parameters, in place, for every i:
//
//	w[i] = decay·w[i]                (decoupled weight decay; decay = 1 for none)
//	d    = g[i] + l2·w               (coupled L2; l2 = 0 for none)
//	m[i] = b1·m[i] + (1−b1)·d
//	v[i] = b2·v[i] + (1−b2)·d²
//	w[i] = w[i] + negStep · m[i] / (√v[i]/bc2sqrt + eps)
//
// where negStep = −lr/(1−b1ᵗ) and bc2sqrt = √(1−b2ᵗ) carry the bias
// corrections (torch.optim.Adam and AdamW, without amsgrad). As with
// SGDMomentum, amd64 uses fused multiply-adds.
func Adam(w, g, m, v []float32, decay, l2, b1, b2, eps, bc2sqrt, negStep float32) {
	if len(g) != len(w) || len(m) != len(w) || len(v) != len(w) {
		panic("kernels: Adam: slices of different lengths")
	}
	c := adamConsts{decay, l2, b1, 1 - b1, b2, 1 - b2, eps, bc2sqrt, negStep}
	n := adamVec(w, g, m, v, &c)
	adamGo(w[n:], g[n:], m[n:], v[n:], &c)
}

// adamConsts are Adam's per-step constants, in the order the vector loop
// loads them.
type adamConsts struct {
	decay, l2, b1, omb1, b2, omb2, eps, bc2sqrt, negStep float32
}

func adamGo(w, g, m, v []float32, c *adamConsts) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i := range w {
		wi := w[i] * c.decay
		d := g[i] + c.l2*w[i]
		m[i] = c.b1*m[i] + c.omb1*d
		v[i] = c.b2*v[i] + c.omb2*d*d
		den := float32(math.Sqrt(float64(v[i])))/c.bc2sqrt + c.eps
		w[i] = wi + c.negStep*(m[i]/den)
	}
}
