package kernels

import (
	"fmt"

	"github.com/nabla-go/nabla/internal/freelist"
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices, where op(X) is X or Xᵀ as transA and transB say. op(A) is m×k,
// op(B) is k×n and C is m×n. When beta is 0, C is not read (NaNs in it do
// not propagate); when alpha is 0 or k is 0, A and B are not read.
//
// It panics if a dimension is negative, a leading dimension is smaller than
// the row it strides over, or a slice is too short for the matrix it holds.
// The work is spread over up to Threads() goroutines for large products.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sImpl.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is Sgemm for float64.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	dImpl.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmBias computes C = op(A)·op(B) + bias, a linear layer in one pass:
// bias[j] is added to column j of every row, and when relu is set every
// element x of the result becomes max(0, x) as ReLU32 computes it (NaN
// kept, −0 and negatives become +0). C is written, never read. A nil bias
// adds nothing; otherwise it needs at least n elements.
//
// The bias and the ReLU are applied by the micro-kernel as it stores each
// tile (the bias with the first slice of the inner dimension, in place of
// beta·C; the ReLU with the last), so no pass over C precedes or follows
// the product. The result equals Sgemm with beta = 1 on a C filled with
// the bias, followed by ReLU32, bit for bit. It panics as Sgemm does.
func SgemmBias(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, relu bool, c []float32, ldc int) {
	sImpl.gemmEp(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc, newEpilogue(n, bias, relu))
}

// DgemmBias is SgemmBias for float64.
func DgemmBias(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, bias []float64, relu bool, c []float64, ldc int) {
	dImpl.gemmEp(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc, newEpilogue(n, bias, relu))
}

// epilogue is what a kernel applies to a tile as it stores it, after
// alpha·A·B: with bias not nil, C = alpha·A·B + bias (bias[j] on column j,
// beta and C ignored); then, with relu, max(0, ·). The zero value is the
// plain C = alpha·A·B + beta·C.
type epilogue[T float32 | float64] struct {
	bias []T
	relu bool
}

func newEpilogue[T float32 | float64](n int, bias []T, relu bool) epilogue[T] {
	if bias != nil && len(bias) < n {
		panic(fmt.Sprintf("kernels: bias has %d elements, n=%d", len(bias), n))
	}
	return epilogue[T]{bias: bias, relu: relu}
}

// from returns the epilogue of the columns from j on.
func (e epilogue[T]) from(j int) epilogue[T] {
	if e.bias != nil {
		e.bias = e.bias[j:]
	}
	return e
}

// biasPtr returns the bias of an nr-wide tile for an assembly kernel, nil
// for none; the slicing keeps the kernel's reads inside the bias.
func (e epilogue[T]) biasPtr(nr int) *T {
	if e.bias == nil {
		return nil
	}
	return &e.bias[:nr][0]
}

// relu is ReLU32's rule: x unless x ≤ 0, so NaN stays and −0 becomes +0.
func relu[T float32 | float64](x T) T {
	if x <= 0 {
		return 0
	}
	return x
}

// The fast path follows BLIS (Van Zee & van de Geijn, 2015): for each
// nc-wide column block of C and kc-deep slice of the inner dimension, op(B)
// is packed into nr-wide panels that stay in L3; for each mc-tall row
// block, op(A) is packed into mr-tall panels that stay in L2; a micro-kernel
// then multiplies one mr×kc A panel by one kc×nr B panel (in L1) into an
// mr×nr tile of C held in registers. Packing is where transA and transB are
// undone, so every transpose case runs the same kernel; it also pads edge
// panels with zeros, so the kernel only ever sees full tiles. Small
// products skip the packing of full panels (see serial).

// microKernel computes the mr×nr tile C = alpha·Ap·Bp + beta·C from a
// packed mr×k A panel and a packed k×nr B panel, with k ≥ 1. When beta is
// 0 it must not read C. ep, when not the zero value, changes the store as
// epilogue says; its bias then holds (at least) the tile's nr columns.
type microKernel[T float32 | float64] func(k int, a, b, c []T, ldc int, alpha, beta T, ep epilogue[T])

// stridedKernel is microKernel for operands that need not be packed:
// element (i, p) of the A panel is a[i·rsa + p·csa] and row p of the B
// panel starts at b[p·ldb].
type stridedKernel[T float32 | float64] func(k int, a []T, rsa, csa int, b []T, ldb int, c []T, ldc int, alpha, beta T, ep epilogue[T])

// transPanel copies the k×nr block Xᵀ of a row-major X [nr, k] with
// stride ldx into a packed panel: d[p·nr+j] = x[j·ldx+p].
type transPanel[T float32 | float64] func(k int, x []T, ldx int, d []T)

// gemmImpl is one element type's kernel with the blocking tuned for it.
type gemmImpl[T float32 | float64] struct {
	name       string // for test messages
	mr, nr     int    // register tile of the kernel
	mc, kc, nc int    // cache blocks: multiples of mr, any, multiple of nr
	kernel     microKernel[T]
	// strided, if not nil, is the kernel for operands in place (see
	// stridedKernel); serial uses it when m·n·k ≤ directMax.
	strided   stridedKernel[T]
	directMax int
	// packT, if not nil, packs one full nr-wide panel of a transposed B
	// (see transPanel); packB falls back to a scalar loop without it.
	packT transPanel[T]
	// packTA, if not nil, packs one full mr-tall panel of a row-major A.
	packTA transPanel[T]
	// edge, if not nil, holds strided kernels for the edge tiles:
	// edge[r-1][v-1] computes an r×(v·nr/2) tile, for r ≤ mr and v = 1, 2.
	// With them an edge tile costs only the rows it has and, up to nr/2
	// columns, half the width; the last rows of an A read in place need no
	// packing; and a tile of exactly nr/2 or nr columns is written to C
	// directly.
	edge [][2]stridedKernel[T]
	// gemv, if not nil, is the matrix–vector path (gemv.go), taken for a
	// transposed B and at most gemvMaxM rows of A: no packing.
	gemv     gemvFunc[T]
	gemvMaxM int
	bufs     freelist.List[*packBuf[T]] // one per goroutine in a call
	calls    freelist.List[*gemmCall[T]]
}

// packBuf holds one goroutine's packed panels, kept between calls so a
// steady stream of GEMMs does not allocate.
type packBuf[T float32 | float64] struct {
	a, b, tmp []T
}

// parallelMin is the smallest m·n·k worth spreading over the pool: below
// it, waking a worker costs more than the work it takes.
const parallelMin = 96 * 96 * 96

func (g *gemmImpl[T]) gemm(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	g.gemmEp(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue[T]{})
}

// gemmEp is gemm with an epilogue (see epilogue) applied to all of C.
func (g *gemmImpl[T]) gemmEp(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, ep epilogue[T]) {
	checkGEMM(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			if ep.bias != nil {
				copy(row, ep.bias[:n])
			} else {
				scaleC(1, n, beta, row, ldc)
			}
			if ep.relu {
				for j, v := range row {
					row[j] = relu(v)
				}
			}
		}
		return
	}
	if g.takesGemv(transA, transB, m, lda) {
		g.gemvT(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
		return
	}
	if tail := n % g.nr; tail > 0 && g.gemv != nil && transB && (!transA || lda == 1) {
		// The last n mod nr columns would take a zero-padded register
		// tile (n = 100 leaves 4 columns in a 16-wide edge tile, n = 10
		// uses 10 lanes of 16): the matrix–vector kernels compute them
		// as dot products of contiguous rows instead, with every lane
		// busy (batch 1000, one thread, Zen 5: 1000×784×100 175 → 198
		// GFLOP/s, 1000×256×10 83 → 120). The split depends only on n,
		// so the bits do not depend on the thread count.
		n0 := n - tail
		if n0 > 0 {
			g.gemmEp(transA, transB, m, n0, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
		}
		g.gemvT(m, tail, k, alpha, a, lda, b[n0*ldb:], ldb, beta, c[n0:], ldc, ep.from(n0))
		return
	}
	par := Threads()
	if par > 1 && m*n*k >= parallelMin {
		// Split the larger of m and n into chunks of whole register tiles,
		// so that each element of C is computed by the same sequence of
		// operations whatever the thread count (same inputs, same bits).
		// Each chunk packs its own panels: with one chunk per goroutine
		// the repacking of the shared operand costs ~1% and needs no
		// barrier inside the loops. Products that run unpacked repack
		// nothing, so they take four chunks per goroutine: when another
		// process holds a core, the goroutines that do run take over the
		// chunks of the one that does not.
		per := 1
		if g.strided != nil && m*n*k <= g.directMax*par {
			per = 4
		}
		call := g.newCall(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
		if m >= n {
			call.units = (m + g.mr - 1) / g.mr
			call.chunks = min(per*par, call.units)
			runChunks(call.chunks, par, call.rows)
		} else {
			call.units = (n + g.nr - 1) / g.nr
			call.chunks = min(per*par, call.units)
			runChunks(call.chunks, par, call.cols)
		}
		g.doneCall(call)
		return
	}
	g.serial(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
}

// gemmCall is one parallel product, split into chunks of rows (runRows)
// or of columns (runCols) of whole register tiles, or, on the
// matrix–vector path, of whole groups of four rows of A or B (runGemv).
// Calls are reused (newCall, doneCall), with their chunk functions bound
// once, so that a parallel product allocates nothing.
type gemmCall[T float32 | float64] struct {
	g                 *gemmImpl[T]
	transA, transB    bool
	m, n, k           int
	alpha, beta       T
	a, b, c           []T
	lda, ldb, ldc     int
	ep                epilogue[T]
	byRows            bool // runGemv: chunks of rows of A, not of B
	units, chunks     int
	rows, cols, gemvs func(chunk int) // runRows, runCols and runGemv, bound to this call
}

// newCall returns a call of g's for these arguments (units, chunks and
// byRows left for the caller to set).
func (g *gemmImpl[T]) newCall(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, ep epilogue[T]) *gemmCall[T] {
	call, _ := g.calls.Get()
	if call == nil {
		call = new(gemmCall[T])
		call.rows, call.cols, call.gemvs = call.runRows, call.runCols, call.runGemv // bound once: no closure a call
	}
	*call = gemmCall[T]{g: g, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
		b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, ep: ep, rows: call.rows, cols: call.cols, gemvs: call.gemvs}
	return call
}

// doneCall hands a finished call back for reuse, keeping no reference to
// the caller's memory.
func (g *gemmImpl[T]) doneCall(call *gemmCall[T]) {
	call.a, call.b, call.c, call.ep = nil, nil, nil, epilogue[T]{}
	g.calls.Put(call)
}

func (p *gemmCall[T]) runRows(i int) {
	g := p.g
	lo, hi := i*p.units/p.chunks*g.mr, min((i+1)*p.units/p.chunks*g.mr, p.m)
	ai := lo * p.lda
	if p.transA {
		ai = lo
	}
	g.serial(p.transA, p.transB, hi-lo, p.n, p.k, p.alpha, p.a[ai:], p.lda, p.b, p.ldb, p.beta, p.c[lo*p.ldc:], p.ldc, p.ep)
}

func (p *gemmCall[T]) runCols(i int) {
	g := p.g
	lo, hi := i*p.units/p.chunks*g.nr, min((i+1)*p.units/p.chunks*g.nr, p.n)
	bi := lo
	if p.transB {
		bi = lo * p.ldb
	}
	g.serial(p.transA, p.transB, p.m, hi-lo, p.k, p.alpha, p.a, p.lda, p.b[bi:], p.ldb, p.beta, p.c[lo:], p.ldc, p.ep.from(lo))
}

// takesGemv reports whether a product goes to the matrix–vector path: a
// transposed B with few rows of A, whose rows are contiguous (A
// row-major, or a single row given with stride 1), a linear layer at
// batch 1 or a few, where packing B would cost more than the product.
// Every entry point asks it, so that a product's bits do not depend on
// whether it was run in parallel or serially.
func (g *gemmImpl[T]) takesGemv(transA, transB bool, m, lda int) bool {
	return g.gemv != nil && transB && m <= g.gemvMaxM && (!transA || lda == 1)
}

// serial runs the blocked loops on the calling goroutine; m, n, k ≥ 1.
func (g *gemmImpl[T]) serial(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, ep epilogue[T]) {
	mr, nr := g.mr, g.nr
	// Equal-sized blocks: 300 = 150+150 keeps both kernels' loops long,
	// where 256+44 would run a short, overhead-bound second pass.
	kc := split(k, g.kc, 1)
	mc := split(m, g.mc, mr)
	nc := split(n, g.nc, nr)

	// Small products are dominated by packing, and their operands sit in
	// L1/L2 anyway: the strided kernel reads A (either layout) and an
	// untransposed B in place, and only the zero-padded edge panels are
	// packed. Large ones pack everything, for unit-stride streams and no
	// cache-set conflicts from power-of-two strides.
	direct := g.strided != nil && m*n*k <= g.directMax
	// A row-major A is also read in place when B is narrow (a layer of at
	// most 16 register tiles): its packed panels would serve only a few
	// column panels, so packing cost as much as the product (inference of
	// 784-100-10 at batch 1000: 2.3 → 1.6 ms).
	op := operands[T]{a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB,
		directA: direct || (g.strided != nil && !transA && n <= 16*nr), directB: direct && !transB}

	buf, _ := g.bufs.Get()
	if buf == nil {
		buf = &packBuf[T]{tmp: make([]T, mr*nr)}
	}
	buf.a = grow(buf.a, roundUp(mc, mr)*kc)
	buf.b = grow(buf.b, kc*roundUp(nc, nr))

	for jc := 0; jc < n; jc += nc {
		ncc := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kcc := min(kc, k-pc)
			if op.directB {
				if full := ncc / nr * nr; full < ncc {
					packB(transB, b, ldb, pc, jc+full, kcc, ncc-full, nr, buf.b[full*kcc:], g.packT)
				}
			} else {
				packB(transB, b, ldb, pc, jc, kcc, ncc, nr, buf.b, g.packT)
			}
			betaBlock := beta
			// The bias goes with the first slice (in place of beta·C),
			// the ReLU with the last.
			epBlock := epilogue[T]{relu: ep.relu && pc+kcc == k}
			if pc > 0 {
				betaBlock = 1 // later slices accumulate onto the first
			} else if ep.bias != nil {
				epBlock.bias = ep.bias[jc:]
			}
			for ic := 0; ic < m; ic += mc {
				mcc := min(mc, m-ic)
				if op.directA {
					if full := mcc / mr * mr; full < mcc && g.edge == nil {
						packA(transA, a, lda, ic+full, pc, mcc-full, kcc, mr, buf.a[full*kcc:], g.packTA)
					}
				} else {
					packA(transA, a, lda, ic, pc, mcc, kcc, mr, buf.a, g.packTA)
				}
				g.macro(&op, ic, jc, pc, mcc, ncc, kcc, alpha, betaBlock, epBlock, buf, c[ic*ldc+jc:], ldc)
			}
		}
	}
	g.bufs.Put(buf)
}

// operands describes A and B as the caller passed them, for the panels
// that the kernel reads in place.
type operands[T float32 | float64] struct {
	a, b             []T
	lda, ldb         int
	transA, transB   bool
	directA, directB bool // full panels are read in place, not packed
}

// macro multiplies the mc×kc block of op(A) at (ic, pc) by the kc×nc
// block of op(B) at (pc, jc) into C. The B panel (kc×nr) is the outer loop
// so it stays in L1 while the A panels stream from L2.
func (g *gemmImpl[T]) macro(op *operands[T], ic, jc, pc, mc, nc, kc int, alpha, beta T, epBlock epilogue[T], buf *packBuf[T], c []T, ldc int) {
	mr, nr := g.mr, g.nr
	for jr := 0; jr < nc; jr += nr {
		nrr := min(nr, nc-jr)
		ep := epBlock.from(jr)
		bp, bStride, bPacked := buf.b[jr*kc:(jr+nr)*kc], nr, true
		if op.directB && nrr == nr {
			bp, bStride, bPacked = op.b[pc*op.ldb+jc+jr:], op.ldb, false
		}
		for ir := 0; ir < mc; ir += mr {
			mrr := min(mr, mc-ir)
			ap, rsA, csA, aPacked := buf.a[ir*kc:(ir+mr)*kc], 1, mr, true
			if op.directA && (mrr == mr || g.edge != nil) {
				if op.transA {
					ap, rsA, csA = op.a[pc*op.lda+ic+ir:], 1, op.lda
				} else {
					ap, rsA, csA = op.a[(ic+ir)*op.lda+pc:], op.lda, 1
				}
				aPacked = false
			}
			if mrr == mr && nrr == nr {
				if aPacked && bPacked {
					g.kernel(kc, ap, bp, c[ir*ldc+jr:], ldc, alpha, beta, ep)
				} else {
					g.strided(kc, ap, rsA, csA, bp, bStride, c[ir*ldc+jr:], ldc, alpha, beta, ep)
				}
				continue
			}
			// Edge tile: the kernel writes a full tile to tmp, and only
			// the part inside C is merged.
			tmp := buf.tmp
			if g.edge != nil {
				nv := 2
				if 2*nrr <= nr {
					nv = 1
				}
				kern := g.edge[mrr-1][nv-1]
				if nrr == nv*nr/2 {
					kern(kc, ap, rsA, csA, bp, bStride, c[ir*ldc+jr:], ldc, alpha, beta, ep)
					continue
				}
				kern(kc, ap, rsA, csA, bp, bStride, tmp, nr, alpha, 0, epilogue[T]{})
			} else if aPacked && bPacked {
				g.kernel(kc, ap, bp, tmp, nr, alpha, 0, epilogue[T]{})
			} else {
				g.strided(kc, ap, rsA, csA, bp, bStride, tmp, nr, alpha, 0, epilogue[T]{})
			}
			for i := range mrr {
				row := c[(ir+i)*ldc+jr : (ir+i)*ldc+jr+nrr]
				t := tmp[i*nr : i*nr+nrr]
				switch {
				case ep.bias != nil:
					bias := ep.bias[:nrr]
					for j, v := range t {
						row[j] = v + bias[j]
					}
				case beta == 0:
					copy(row, t)
				default:
					for j, v := range t {
						row[j] = v + beta*row[j]
					}
				}
				if ep.relu {
					for j, v := range row {
						row[j] = relu(v)
					}
				}
			}
		}
	}
}

// packA copies op(A)[i0:i0+mc, p0:p0+kc] into mr-tall panels: panel r
// holds rows r·mr … r·mr+mr-1 column by column, rows past mc set to zero.
func packA[T float32 | float64](transA bool, a []T, lda, i0, p0, mc, kc, mr int, dst []T, packT transPanel[T]) {
	for ir := 0; ir < mc; ir += mr {
		mrr := min(mr, mc-ir)
		d := dst[ir*kc : (ir+mr)*kc]
		if transA {
			// op(A) column p is a contiguous run of A's row p0+p.
			for p := range kc {
				src := a[(p0+p)*lda+i0+ir:][:mrr]
				copy(d[p*mr:p*mr+mrr], src)
			}
		} else if packT != nil && mrr == mr {
			packT(kc, a[(i0+ir)*lda+p0:], lda, d)
		} else {
			packRows(a[(i0+ir)*lda+p0:], lda, kc, mrr, mr, d)
		}
		if mrr < mr {
			for p := range kc {
				clear(d[p*mr+mrr : p*mr+mr])
			}
		}
	}
}

// packB copies op(B)[p0:p0+kc, j0:j0+nc] into nr-wide panels: panel r holds
// columns r·nr … r·nr+nr-1 row by row, columns past nc set to zero.
func packB[T float32 | float64](transB bool, b []T, ldb, p0, j0, kc, nc, nr int, dst []T, packT transPanel[T]) {
	if !transB {
		packRowsB(b[p0*ldb+j0:], ldb, kc, nc, nr, dst)
		return
	}
	for jr := 0; jr < nc; jr += nr {
		nrr := min(nr, nc-jr)
		d := dst[jr*kc : (jr+nr)*kc]
		if packT != nil && nrr == nr {
			packT(kc, b[(j0+jr)*ldb+p0:], ldb, d)
		} else {
			for j := range nrr {
				col := b[(j0+jr+j)*ldb+p0:][:kc]
				for p, v := range col {
					d[p*nr+j] = v
				}
			}
		}
		if nrr < nr {
			for p := range kc {
				clear(d[p*nr+nrr : p*nr+nr])
			}
		}
	}
}

// packRowsB is packB of an untransposed B, whose kc×nc block starts at
// b[0]. It copies a band of 16 rows across all panels before the next
// band: the reads are then 16 sequential streams that the hardware
// prefetcher follows, where walking one panel down all kc rows touches a
// new page (and misses cache) every nr elements when ldb is large: that
// cost ~5% of a 2048³ product.
func packRowsB[T float32 | float64](b []T, ldb, kc, nc, nr int, dst []T) {
	const step = 16
	for p0 := 0; p0 < kc; p0 += step {
		h := min(step, kc-p0)
		for jr := 0; jr < nc; jr += nr {
			nrr := min(nr, nc-jr)
			d := dst[jr*kc+p0*nr : jr*kc+(p0+h)*nr]
			for p := range h {
				copy(d[p*nr:p*nr+nrr], b[(p0+p)*ldb+jr:][:nrr])
				if nrr < nr {
					clear(d[p*nr+nrr : p*nr+nr])
				}
			}
		}
	}
}

// packRows interleaves rows rows of length kc, stride lda, into d with
// stride mr: d[p·mr+i] = a[i·lda+p]. It walks 16 columns of each row at a
// time, so every row contributes whole cache lines at once; reading all
// rows in step instead misses L1 on every line when lda is a multiple of
// 4 KiB (the rows alias to one cache set), which cost 8% of a 2048³ GEMM.
func packRows[T float32 | float64](a []T, lda, kc, rows, mr int, d []T) {
	const step = 16
	d = d[:kc*mr]
	for p0 := 0; p0 < kc; p0 += step {
		w := min(step, kc-p0)
		for i := range rows {
			src := a[i*lda+p0:][:w]
			dst := d[p0*mr+i:]
			for j, v := range src {
				dst[j*mr] = v
			}
		}
	}
}

// scaleC sets C = beta·C, writing zeros without reading C when beta is 0.
func scaleC[T float32 | float64](m, n int, beta T, c []T, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// split divides n into the fewest blocks of at most max (rounded up to a
// multiple of unit) and returns the common block size, a multiple of unit.
func split(n, max, unit int) int {
	blocks := (n + max - 1) / max
	return roundUp((n+blocks-1)/blocks, unit)
}

func roundUp(n, unit int) int { return (n + unit - 1) / unit * unit }

// grow returns s if it holds n elements, or a new slice of n elements
// whose start is 64-byte aligned, so the kernel's vector loads of packed
// B never straddle a cache line.
func grow[T float32 | float64](s []T, n int) []T {
	if len(s) >= n {
		return s
	}
	return alignedSlice[T](n)
}

// checkGEMM panics when the arguments describe matrices that the slices
// cannot hold. The kernels write C through pointers, so this is what keeps
// them inside memory the caller owns.
func checkGEMM(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	checkMatrix("A", rowsA, colsA, la, lda)
	checkMatrix("B", rowsB, colsB, lb, ldb)
	checkMatrix("C", m, n, lc, ldc)
}

func checkMatrix(name string, rows, cols, length, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("kernels: ld%s=%d smaller than its %d columns", name, ld, cols))
	}
	if rows > 0 && cols > 0 && length < (rows-1)*ld+cols {
		panic(fmt.Sprintf("kernels: %s has %d elements, %d×%d with stride %d needs %d", name, length, rows, cols, ld, (rows-1)*ld+cols))
	}
}

// gemmRef is the plain triple loop: the reference the fast paths are
// tested against.
func gemmRef[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s T
			for p := 0; p < k; p++ {
				var av, bv T
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}
