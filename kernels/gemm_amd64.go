//go:build !purego

package kernels

//go:generate go run gen_asm.go

// AVX2 gives sixteen 256-bit registers: the float32 kernel keeps a 6×16
// tile of C in twelve of them (6 rows × 2 vectors of 8), the float64
// kernel a 6×8 tile (6 rows × 2 vectors of 4); the other four hold two
// B vectors and two broadcast A elements. Twelve independent FMA chains
// cover the FMA latency (4 cycles) on both ports.
//
// Blocks: kc·nr elements of B (16 KiB at kc=256) stay in a 32 KiB L1d;
// mc·kc of A (~240 KiB) take half of a 512 KiB L2; kc·nc of B (4 MiB) is
// shared through L3.
var (
	sImpl = pickImpl(&gemmImpl[float32]{mr: 6, nr: 16, mc: 240, kc: 256, nc: 4096, kernel: sgemmKernelAVX2})
	dImpl = pickImpl(&gemmImpl[float64]{mr: 6, nr: 8, mc: 120, kc: 256, nc: 2048, kernel: dgemmKernelAVX2})
)

// hasAVX2FMA reports whether the CPU and the OS support AVX2 and FMA.
var hasAVX2FMA = detectAVX2FMA()

func pickImpl[T float32 | float64](avx *gemmImpl[T]) *gemmImpl[T] {
	if hasAVX2FMA {
		return avx
	}
	return goImpl[T]()
}

// detectAVX2FMA reads CPUID directly so the module needs no dependency
// (golang.org/x/sys/cpu) for one feature test.
func detectAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	// The OS must save the XMM and YMM registers on context switches.
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx2 = 1 << 5
	return ebx7&avx2 != 0
}

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func dgemmKernel6x8(k int, a, b, c *float64, ldc int, alpha, beta float64)

// sgemmKernelAVX2 adapts the assembly kernel to microKernel. The bounds
// checks (three compares per tile) keep the pointer arithmetic inside the
// slices.
func sgemmKernelAVX2(k int, a, b, c []float32, ldc int, alpha, beta float32) {
	_, _, _ = a[6*k-1], b[16*k-1], c[5*ldc+15]
	sgemmKernel6x16(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

// dgemmKernelAVX2 adapts the assembly kernel to microKernel.
func dgemmKernelAVX2(k int, a, b, c []float64, ldc int, alpha, beta float64) {
	_, _, _ = a[6*k-1], b[8*k-1], c[5*ldc+7]
	dgemmKernel6x8(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
}
