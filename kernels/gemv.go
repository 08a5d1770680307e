package kernels

// The matrix–vector path: C = alpha·A·Bᵀ (+ bias or + beta·C) (ReLU) for
// an A of a few rows and a B [n, k] read in place. This is a linear layer
// y = x·Wᵀ + b at batch 1 (or a few rows), W [out, in] in PyTorch's
// layout. The blocked GEMM would pack all of W into panels before using
// each element of it once or a few times: at batch 1 the packing took more
// than half of each call. Here each output is a dot product of a row of A
// with a row of B, both contiguous, so nothing is packed; the kernels take
// several rows of B per pass, sharing the loads of A, and several rows of
// A, sharing the loads of B (see gen_gemv.go).

// gemvFunc computes the m×n block C = alpha·A·Bᵀ (+ ep) on the calling
// goroutine: row i of A is a[i·lda:][:k] and row j of B is b[j·ldb:][:k],
// both contiguous; m, n, k ≥ 1. The epilogue is that of gemmEp (a bias
// replaces beta·C, and C is not read when beta is 0).
type gemvFunc[T float32 | float64] func(m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, ep epilogue[T])

// gemvParallelMin is the smallest m·n·k that gemvT spreads over the pool.
// Below it the product takes less than ~10 µs, and waking a worker and
// waiting for it costs a good part of what the second core saves.
const gemvParallelMin = 128 * 1024

// gemvT runs g.gemv over C, split over up to Threads() goroutines when
// the product is large enough: into runs of whole four-column groups, or,
// with more rows of A than gemvMaxM, of whole four-row groups. Each
// element of C is computed by the same kernel whatever the split (the
// groups of four and the last n mod 4 columns, or the kernels' groups of
// at most four rows, are the same for every chunk boundary), so the
// result does not depend on the thread count.
func (g *gemmImpl[T]) gemvT(m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, ep epilogue[T]) {
	par := Threads()
	// Many rows (the last columns of a large product, see gemmEp) are
	// split into runs of whole groups of four rows, which the kernels
	// take together whatever the split; few rows, into runs of columns.
	byRows := m > g.gemvMaxM
	units := (n + 3) / 4
	if byRows {
		units = (m + 3) / 4
	}
	if par <= 1 || units < 2 || m*n*k < gemvParallelMin {
		g.gemv(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
		return
	}
	call := g.newCall(false, true, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
	call.byRows, call.units, call.chunks = byRows, units, min(par, units)
	runChunks(call.chunks, par, call.gemvs)
	g.doneCall(call)
}

// runGemv is chunk i of a parallel matrix–vector product: whole groups
// of four rows of A (byRows) or of B.
func (p *gemmCall[T]) runGemv(i int) {
	if p.byRows {
		lo, hi := i*p.units/p.chunks*4, min((i+1)*p.units/p.chunks*4, p.m)
		p.g.gemv(hi-lo, p.n, p.k, p.alpha, p.a[lo*p.lda:], p.lda, p.b, p.ldb, p.beta, p.c[lo*p.ldc:], p.ldc, p.ep)
		return
	}
	lo, hi := i*p.units/p.chunks*4, min((i+1)*p.units/p.chunks*4, p.n)
	p.g.gemv(p.m, hi-lo, p.k, p.alpha, p.a, p.lda, p.b[lo*p.ldb:], p.ldb, p.beta, p.c[lo:], p.ldc, p.ep.from(lo))
}

// gemvStore is one element of the epilogue: alpha·s plus the bias or
// beta·c, then the ReLU.
func gemvStore[T float32 | float64](s, alpha, beta T, c *T, ep epilogue[T], j int) {
	v := alpha * s
	switch {
	case ep.bias != nil:
		v += ep.bias[j]
	case beta != 0:
		v += beta * *c
	}
	if ep.relu {
		v = relu(v)
	}
	*c = v
}

// gemvGo is the portable gemvFunc: four rows of B per pass, each dot
// product in its own accumulator, so one load of A feeds four independent
// chains.
func gemvGo[T float32 | float64](m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, ep epilogue[T]) {
	for i := range m {
		x := a[i*lda:][:k]
		ci := c[i*ldc:][:n]
		j := 0
		for ; j+4 <= n; j += 4 {
			w0, w1, w2, w3 := b[j*ldb:][:k], b[(j+1)*ldb:][:k], b[(j+2)*ldb:][:k], b[(j+3)*ldb:][:k]
			var s0, s1, s2, s3 T
			for p, v := range x {
				s0 += v * w0[p]
				s1 += v * w1[p]
				s2 += v * w2[p]
				s3 += v * w3[p]
			}
			gemvStore(s0, alpha, beta, &ci[j], ep, j)
			gemvStore(s1, alpha, beta, &ci[j+1], ep, j+1)
			gemvStore(s2, alpha, beta, &ci[j+2], ep, j+2)
			gemvStore(s3, alpha, beta, &ci[j+3], ep, j+3)
		}
		for ; j < n; j++ {
			w := b[j*ldb:][:k]
			var s T
			for p, v := range x {
				s += v * w[p]
			}
			gemvStore(s, alpha, beta, &ci[j], ep, j)
		}
	}
}
