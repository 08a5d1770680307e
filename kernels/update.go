package kernels

import "math"

// Float is the element type of the update rules: float32 or float64.
type Float interface{ ~float32 | ~float64 }

// SGD applies one step of torch.optim.SGD to a stretch of parameters, in
// place: the one definition of the rule, which package optim calls for
// both dtypes. With b nil there is no momentum:
//
//	d    = g[i] + wd·w[i]           (wd = 0: no decay)
//	w[i] = w[i] − lr·d
//
// and with a momentum buffer b:
//
//	b[i] = d on the first step (first), mom·b[i] + damp·d after it
//	u    = d + mom·b[i] (nesterov) or b[i]
//	w[i] = w[i] − lr·u
//
// float32 with momentum after the first step runs the vector loop
// (SGDMomentum). The slices must have equal lengths (b may be nil).
func SGD[T Float](w, g, b []T, lr, mom, damp, wd T, first, nesterov bool) {
	if w32, ok := any(w).([]float32); ok && b != nil && !first {
		SGDMomentum(w32, any(g).([]float32), any(b).([]float32), float32(lr), float32(mom), float32(damp), float32(wd), nesterov)
		return
	}
	sgdGo(w, g, b, lr, mom, damp, wd, first, nesterov)
}

// sgdGo is the portable loop of SGD, and the tail after the vector loop.
func sgdGo[T Float](w, g, b []T, lr, mom, damp, wd T, first, nesterov bool) {
	g = g[:len(w)]
	negLR := -lr
	if b == nil {
		for j, gj := range g {
			if wd != 0 {
				gj += wd * w[j]
			}
			w[j] += negLR * gj
		}
		return
	}
	b = b[:len(w)]
	for j := range w {
		gj := g[j]
		if wd != 0 {
			gj += wd * w[j]
		}
		if first {
			b[j] = gj
		} else {
			b[j] = b[j]*mom + damp*gj
		}
		if nesterov {
			gj += mom * b[j]
		} else {
			gj = b[j]
		}
		w[j] += negLR * gj
	}
}

// AdamStep applies one step of torch.optim.Adam or AdamW to a stretch of
// parameters, in place: the one definition of the rule, which package
// optim calls for both dtypes. For every i:
//
//	w[i] = decay·w[i]                (decoupled weight decay, AdamW)
//	d    = g[i] + l2·w[i]            (coupled L2, Adam; l2 = 0 for none)
//	m[i] = b1·m[i] + (1−b1)·d
//	v[i] = b2·v[i] + (1−b2)·d²
//	v̂    = max(vmax[i], v[i]), kept in vmax (amsgrad; vmax nil: v̂ = v[i])
//	w[i] = w[i] + negStep · m[i] / (√v̂/bc2sqrt + eps)
//
// where negStep = −lr/(1−b1ᵗ) and bc2sqrt = √(1−b2ᵗ) carry the bias
// corrections. float32 without amsgrad runs the vector loop (Adam).
func AdamStep[T Float](w, g, m, v, vmax []T, decoupled bool, decay, l2, b1, b2, eps, bc2sqrt, negStep T) {
	if w32, ok := any(w).([]float32); ok && vmax == nil {
		dec := float32(1)
		if decoupled {
			dec = float32(decay)
		}
		Adam(w32, any(g).([]float32), any(m).([]float32), any(v).([]float32), dec, float32(l2), float32(b1), float32(b2), float32(eps), float32(bc2sqrt), float32(negStep))
		return
	}
	adamGeneric(w, g, m, v, vmax, decoupled, decay, l2, b1, b2, 1-b1, 1-b2, eps, bc2sqrt, negStep)
}

// adamGeneric is the portable loop of AdamStep, and the tail after the
// vector loop.
func adamGeneric[T Float](w, g, m, v, vmax []T, decoupled bool, decay, l2, b1, b2, omb1, omb2, eps, bc2sqrt, negStep T) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for j := range w {
		gj := g[j]
		if decoupled {
			w[j] *= decay
		} else if l2 != 0 {
			gj += l2 * w[j]
		}
		m[j] = m[j]*b1 + omb1*gj
		v[j] = v[j]*b2 + omb2*gj*gj
		vj := v[j]
		if vmax != nil {
			if vj > vmax[j] || vj != vj { // a NaN sticks, as torch.maximum's
				vmax[j] = vj
			}
			vj = vmax[j]
		}
		d := T(math.Sqrt(float64(vj)))/bc2sqrt + eps
		w[j] += negStep * (m[j] / d)
	}
}

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

// sgdMomentumGo is the tail after the vector loop: SGD's portable loop.
func sgdMomentumGo(w, g, b []float32, lr, mom, damp, wd float32, nesterov bool) {
	sgdGo(w, g, b, lr, mom, damp, wd, false, nesterov)
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

// adamGo is the tail after the vector loop: AdamStep's portable loop
// (decay ≠ 1 means decoupled decay; the vector loop applies both terms,
// which is the same arithmetic when the unused one is 1 or 0).
func adamGo(w, g, m, v []float32, c *adamConsts) {
	adamGeneric(w, g, m, v, nil, c.decay != 1, c.decay, c.l2, c.b1, c.b2, c.omb1, c.omb2, c.eps, c.bc2sqrt, c.negStep)
}
