//go:build !purego

package kernels

//go:generate go run gen_asm.go

// Each kernel keeps a tile of C in registers as 2 vectors per row and
// loads one row of packed B (2 vectors) plus one broadcast element of A per
// row and step of k; the 2·mr independent FMA chains cover the FMA latency
// (4 cycles) on both FMA ports.
//
// AVX2 (16 YMM): 6×16 float32 / 6×8 float64 tiles in 12 accumulators.
// Blocks for a Zen 3-class core: kc·nr of B (16 KiB at kc=256) stays in a
// 32 KiB L1d, mc·kc of A (~240 KiB) takes half of a 512 KiB L2, kc·nc of B
// (4 MiB) is shared through L3.
//
// AVX-512 (32 ZMM): 12×32 float32 / 12×16 float64 tiles in 24
// accumulators, twice the flops per instruction of AVX2. Blocks for a
// 48 KiB L1d and 2 MiB L2 (Sapphire Rapids, Zen 4 has 1 MiB): kc·nr of B
// is 24 KiB at kc=192, mc·kc of A ~720 KiB.
var (
	sImpl = pickImpl(newSgemmAVX512, newSgemmAVX2)
	dImpl = pickImpl(newDgemmAVX512, newDgemmAVX2)
)

func newSgemmAVX512() *gemmImpl[float32] {
	return &gemmImpl[float32]{name: "avx512", mr: 12, nr: 32, mc: 240, kc: 400, nc: 4096,
		kernel: sgemmKernelAVX512, strided: sgemmStridedAVX512, directMax: directMax,
		packT: spackT32AVX512, packTA: spackT12AVX512, edge: edgeKernels(sgemmEdgeAVX512[:], 16),
		gemv: asmGemv(gemvTable(sgemvTAVX512[:]), sgemvQ4AVX512), gemvMaxM: gemvMaxMAVX512}
}

// edgeKernels wraps a generated table of edge kernels (edge[r-1][v-1]
// is an r×(v·w) tile) as gemmImpl.edge.
func edgeKernels[T float32 | float64](table [][2]func(k int, a *T, rsa, csa int, b *T, ldb int, c *T, ldc int, alpha, beta T, bias *T, relu bool), w int) [][2]stridedKernel[T] {
	e := make([][2]stridedKernel[T], len(table))
	for i := range e {
		for v := range e[i] {
			f, mr, nr := table[i][v], i+1, w*(v+1)
			e[i][v] = func(k int, a []T, rsa, csa int, b []T, ldb int, c []T, ldc int, alpha, beta T, ep epilogue[T]) {
				stridedBounds(k, mr, nr, a, rsa, csa, b, ldb, c, ldc)
				f(k, &a[0], rsa, csa, &b[0], ldb, &c[0], ldc, alpha, beta, ep.biasPtr(nr), ep.relu)
			}
		}
	}
	return e
}

func newSgemmAVX2() *gemmImpl[float32] {
	return &gemmImpl[float32]{name: "avx2", mr: 6, nr: 16, mc: 240, kc: 400, nc: 4096,
		kernel: sgemmKernelAVX2, strided: sgemmStridedAVX2, directMax: directMax,
		packT: spackT16AVX2, packTA: spackT6AVX2, edge: edgeKernels(sgemmEdgeAVX2[:], 8),
		gemv: asmGemv(gemvTable(sgemvTAVX2[:]), nil), gemvMaxM: gemvMaxMAVX2}
}

func newDgemmAVX512() *gemmImpl[float64] {
	return &gemmImpl[float64]{name: "avx512", mr: 12, nr: 16, mc: 240, kc: 256, nc: 2048,
		kernel: dgemmKernelAVX512, strided: dgemmStridedAVX512, directMax: directMax,
		packT: dpackT16AVX512, edge: edgeKernels(dgemmEdgeAVX512[:], 8),
		gemv: asmGemv(gemvTable(dgemvTAVX512[:]), nil), gemvMaxM: gemvMaxMAVX512}
}

func newDgemmAVX2() *gemmImpl[float64] {
	return &gemmImpl[float64]{name: "avx2", mr: 6, nr: 8, mc: 120, kc: 256, nc: 2048,
		kernel: dgemmKernelAVX2, strided: dgemmStridedAVX2, directMax: directMax,
		packT: dpackT8AVX2, edge: edgeKernels(dgemmEdgeAVX2[:], 4),
		gemv: asmGemv(gemvTable(dgemvTAVX2[:]), nil), gemvMaxM: gemvMaxMAVX2}
}

// candidateImpls returns a fresh copy of every configuration this CPU can
// run, so tests reach the kernels that the dispatch does not pick.
func candidateImpls() ([]*gemmImpl[float32], []*gemmImpl[float64]) {
	s, d := []*gemmImpl[float32]{goImpl[float32]()}, []*gemmImpl[float64]{goImpl[float64]()}
	if cpuLevel >= 1 {
		s, d = append(s, newSgemmAVX2()), append(d, newDgemmAVX2())
	}
	if cpuLevel >= 2 {
		s, d = append(s, newSgemmAVX512()), append(d, newDgemmAVX512())
	}
	return s, d
}

// gemvMaxMAVX512 and gemvMaxMAVX2 are the most rows of A that take the
// matrix–vector path (gemv.go) rather than the blocked GEMM, from
// BenchmarkLinearFewRows (float32, one thread, layers 512×784, 256×512,
// 100×784, Zen 5): the AVX-512 kernels (4 rows of A per pass over B) were
// 1.1–1.7× faster than the blocked path up to m = 24 and 1.3–2× at 16;
// the AVX2 ones (2 rows per pass, so twice the passes) 1.4–2× at m = 8,
// 1.1–1.5× at 12 and slower at 16 on 256×512. float64 uses the same
// limits (not measured apart).
const (
	gemvMaxMAVX512 = 16
	gemvMaxMAVX2   = 8
)

// directMax is the largest m·n·k (per goroutine) run on unpacked operands:
// up to 256³ skipping the packing gains 15–50% on this CPU; at 1024³
// the strided reads lose as much.
const directMax = 256 * 256 * 256

// cpuLevel is the best vector extension that both the CPU and the OS
// support: 0 (neither below), 1 (AVX2 and FMA) or 2 (also AVX-512F).
var cpuLevel = detectCPU()

func pickImpl[T float32 | float64](avx512, avx2 func() *gemmImpl[T]) *gemmImpl[T] {
	switch cpuLevel {
	case 2:
		return avx512()
	case 1:
		return avx2()
	}
	return goImpl[T]()
}

// detectCPU reads CPUID directly so the module needs no dependency
// (golang.org/x/sys/cpu) for two feature tests.
func detectCPU() int {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return 0
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return 0
	}
	// The OS must save the XMM and YMM registers (XCR0 bits 1, 2) on
	// context switches, and for AVX-512 also the opmask and ZMM state
	// (bits 5, 6, 7).
	xcr0, _ := xgetbv()
	if xcr0&0x6 != 0x6 {
		return 0
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const (
		avx2    = 1 << 5
		avx512f = 1 << 16
	)
	if ebx7&avx2 == 0 {
		return 0
	}
	if ebx7&avx512f != 0 && xcr0&0xe0 == 0xe0 {
		return 2
	}
	return 1
}

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

//go:noescape
func sgemmKernel6x16Strided(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, bias *float32, relu bool)

//go:noescape
func dgemmKernel6x8Strided(k int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, bias *float64, relu bool)

//go:noescape
func sgemmKernel12x32Strided(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, bias *float32, relu bool)

//go:noescape
func dgemmKernel12x16Strided(k int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, bias *float64, relu bool)

//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32, ldc int, alpha, beta float32, bias *float32, relu bool)

//go:noescape
func dgemmKernel6x8(k int, a, b, c *float64, ldc int, alpha, beta float64, bias *float64, relu bool)

//go:noescape
func sgemmKernel12x32(k int, a, b, c *float32, ldc int, alpha, beta float32, bias *float32, relu bool)

//go:noescape
func dgemmKernel12x16(k int, a, b, c *float64, ldc int, alpha, beta float64, bias *float64, relu bool)

// The wrappers adapt the assembly kernels to microKernel. Their bounds
// checks (three compares per tile) keep the pointer arithmetic inside the
// slices.

func sgemmKernelAVX2(k int, a, b, c []float32, ldc int, alpha, beta float32, ep epilogue[float32]) {
	_, _, _ = a[6*k-1], b[16*k-1], c[5*ldc+15]
	sgemmKernel6x16(k, &a[0], &b[0], &c[0], ldc, alpha, beta, ep.biasPtr(16), ep.relu)
}

func dgemmKernelAVX2(k int, a, b, c []float64, ldc int, alpha, beta float64, ep epilogue[float64]) {
	_, _, _ = a[6*k-1], b[8*k-1], c[5*ldc+7]
	dgemmKernel6x8(k, &a[0], &b[0], &c[0], ldc, alpha, beta, ep.biasPtr(8), ep.relu)
}

func sgemmKernelAVX512(k int, a, b, c []float32, ldc int, alpha, beta float32, ep epilogue[float32]) {
	_, _, _ = a[12*k-1], b[32*k-1], c[11*ldc+31]
	sgemmKernel12x32(k, &a[0], &b[0], &c[0], ldc, alpha, beta, ep.biasPtr(32), ep.relu)
}

func dgemmKernelAVX512(k int, a, b, c []float64, ldc int, alpha, beta float64, ep epilogue[float64]) {
	_, _, _ = a[12*k-1], b[16*k-1], c[11*ldc+15]
	dgemmKernel12x16(k, &a[0], &b[0], &c[0], ldc, alpha, beta, ep.biasPtr(16), ep.relu)
}

// stridedBounds panics unless the mr×k A panel with strides rsa, csa,
// the k×nr B panel with row stride ldb and the mr×nr C tile lie inside
// their slices; the kernels then cannot touch memory outside them.
func stridedBounds[T float32 | float64](k, mr, nr int, a []T, rsa, csa int, b []T, ldb int, c []T, ldc int) {
	_, _, _ = a[(mr-1)*rsa+(k-1)*csa], b[(k-1)*ldb+nr-1], c[(mr-1)*ldc+nr-1]
}

func sgemmStridedAVX2(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, ep epilogue[float32]) {
	stridedBounds(k, 6, 16, a, rsa, csa, b, ldb, c, ldc)
	sgemmKernel6x16Strided(k, &a[0], rsa, csa, &b[0], ldb, &c[0], ldc, alpha, beta, ep.biasPtr(16), ep.relu)
}

func dgemmStridedAVX2(k int, a []float64, rsa, csa int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64, ep epilogue[float64]) {
	stridedBounds(k, 6, 8, a, rsa, csa, b, ldb, c, ldc)
	dgemmKernel6x8Strided(k, &a[0], rsa, csa, &b[0], ldb, &c[0], ldc, alpha, beta, ep.biasPtr(8), ep.relu)
}

func sgemmStridedAVX512(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, ep epilogue[float32]) {
	stridedBounds(k, 12, 32, a, rsa, csa, b, ldb, c, ldc)
	sgemmKernel12x32Strided(k, &a[0], rsa, csa, &b[0], ldb, &c[0], ldc, alpha, beta, ep.biasPtr(32), ep.relu)
}

func dgemmStridedAVX512(k int, a []float64, rsa, csa int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64, ep epilogue[float64]) {
	stridedBounds(k, 12, 16, a, rsa, csa, b, ldb, c, ldc)
	dgemmKernel12x16Strided(k, &a[0], rsa, csa, &b[0], ldb, &c[0], ldc, alpha, beta, ep.biasPtr(16), ep.relu)
}

//go:noescape
func sgemmPackT16x16(k int, b *float32, ldb int, d *float32, ldd int)

// spackT32AVX512 is transPanel for nr = 32: the assembly transposes
// 16×16 blocks, the columns past the last multiple of 16 are copied here.
func spackT32AVX512(k int, x []float32, ldx int, d []float32) {
	const nr = 32
	_, _ = x[(nr-1)*ldx+k-1], d[k*nr-1]
	k16 := k &^ 15
	if k16 > 0 {
		sgemmPackT16x16(k16, &x[0], ldx, &d[0], nr)
		sgemmPackT16x16(k16, &x[16*ldx], ldx, &d[16], nr)
	}
	transTail(x, ldx, d, nr, k16, k)
}

//go:noescape
func sgemmPackT12x16(k int, b *float32, ldb int, d *float32, ldd int)

// spackT12AVX512 is transPanel for mr = 12 (packA of a row-major A).
func spackT12AVX512(k int, x []float32, ldx int, d []float32) {
	const mr = 12
	_, _ = x[(mr-1)*ldx+k-1], d[k*mr-1]
	k16 := k &^ 15
	if k16 > 0 {
		sgemmPackT12x16(k16, &x[0], ldx, &d[0], mr)
	}
	transTail(x, ldx, d, mr, k16, k)
}

//go:noescape
func sgemmPackT8x8(k int, b *float32, ldb int, d *float32, ldd int)

// spackT16AVX2 is transPanel for nr = 16: the assembly transposes 8×8
// blocks, the columns past the last multiple of 8 are copied here.
func spackT16AVX2(k int, x []float32, ldx int, d []float32) {
	const nr = 16
	_, _ = x[(nr-1)*ldx+k-1], d[k*nr-1]
	k8 := k &^ 7
	if k8 > 0 {
		sgemmPackT8x8(k8, &x[0], ldx, &d[0], nr)
		sgemmPackT8x8(k8, &x[8*ldx], ldx, &d[8], nr)
	}
	transTail(x, ldx, d, nr, k8, k)
}

//go:noescape
func sgemmPackT6x8(k int, b *float32, ldb int, d *float32, ldd int)

// spackT6AVX2 is transPanel for mr = 6 (packA of a row-major A). The
// assembly stores 8 elements per column, 2 past the column's end, so it
// stops short of the last column: k8 < k leaves it room.
func spackT6AVX2(k int, x []float32, ldx int, d []float32) {
	const mr = 6
	_, _ = x[(mr-1)*ldx+k-1], d[k*mr-1]
	k8 := (k - 1) &^ 7
	if k8 > 0 {
		sgemmPackT6x8(k8, &x[0], ldx, &d[0], mr)
	}
	transTail(x, ldx, d, mr, k8, k)
}

//go:noescape
func dgemmPackT4x4(k int, b *float64, ldb int, d *float64, ldd int)

//go:noescape
func dgemmPackT8x8(k int, b *float64, ldb int, d *float64, ldd int)

// dpackT8AVX2 is transPanel for float64 nr = 8: two columns of 4×4
// blocks, the columns past the last multiple of 4 copied here.
func dpackT8AVX2(k int, x []float64, ldx int, d []float64) {
	dpackT(k, x, ldx, d, 8, 4, dgemmPackT4x4)
}

// dpackT16AVX512 is transPanel for float64 nr = 16: two columns of 8×8
// blocks.
func dpackT16AVX512(k int, x []float64, ldx int, d []float64) {
	dpackT(k, x, ldx, d, 16, 8, dgemmPackT8x8)
}

// transTail writes columns [from, k) of the width rows of x (row stride
// ldx) into d transposed, row p of d holding column p: what the
// transposing packs leave past their last whole block.
func transTail[T float32 | float64](x []T, ldx int, d []T, width, from, k int) {
	for j := range width {
		col := x[j*ldx+from : j*ldx+k]
		for p, v := range col {
			d[(from+p)*width+j] = v
		}
	}
}

func dpackT(k int, x []float64, ldx int, d []float64, nr, blk int, asm func(k int, b *float64, ldb int, d *float64, ldd int)) {
	_, _ = x[(nr-1)*ldx+k-1], d[k*nr-1]
	kb := k / blk * blk
	if kb > 0 {
		for j := 0; j < nr; j += blk {
			asm(kb, &x[j*ldx], ldx, &d[j], nr)
		}
	}
	transTail(x, ldx, d, nr, kb, k)
}
