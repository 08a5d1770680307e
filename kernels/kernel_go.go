package kernels

import "unsafe"

// kernelGo4x4 is the portable micro-kernel: a 4×4 tile of C in sixteen
// scalar accumulators, so each loaded element of A and B is used four
// times. It backs the purego build, other architectures, and amd64 CPUs
// without AVX2 and FMA.
func kernelGo4x4[T float32 | float64](k int, a, b, c []T, ldc int, alpha, beta T, ep epilogue[T]) {
	var c00, c01, c02, c03 T
	var c10, c11, c12, c13 T
	var c20, c21, c22, c23 T
	var c30, c31, c32, c33 T
	a, b = a[:4*k], b[:4*k]
	for len(a) >= 4 && len(b) >= 4 {
		a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		a, b = a[4:], b[4:]
	}
	storeRow4(c[0:4:4], alpha, beta, ep, c00, c01, c02, c03)
	storeRow4(c[ldc:ldc+4:ldc+4], alpha, beta, ep, c10, c11, c12, c13)
	storeRow4(c[2*ldc:2*ldc+4:2*ldc+4], alpha, beta, ep, c20, c21, c22, c23)
	storeRow4(c[3*ldc:3*ldc+4:3*ldc+4], alpha, beta, ep, c30, c31, c32, c33)
}

func storeRow4[T float32 | float64](c []T, alpha, beta T, ep epilogue[T], v0, v1, v2, v3 T) {
	switch {
	case ep.bias != nil:
		b := ep.bias[:4]
		c[0], c[1], c[2], c[3] = alpha*v0+b[0], alpha*v1+b[1], alpha*v2+b[2], alpha*v3+b[3]
	case beta == 0:
		c[0], c[1], c[2], c[3] = alpha*v0, alpha*v1, alpha*v2, alpha*v3
	default:
		c[0] = alpha*v0 + beta*c[0]
		c[1] = alpha*v1 + beta*c[1]
		c[2] = alpha*v2 + beta*c[2]
		c[3] = alpha*v3 + beta*c[3]
	}
	if ep.relu {
		c[0], c[1], c[2], c[3] = relu(c[0]), relu(c[1]), relu(c[2]), relu(c[3])
	}
}

// goImpl returns the portable configuration. With sixteen scalar
// accumulators the kernel is bound by the FPU, not memory, so the blocks
// only need to keep panels in cache. Its matrix–vector path was 2.1–2.9×
// faster than its blocked path at m = 16 and still at 24
// (BenchmarkLinearFewRows, Zen 5); it stops at 16 like AVX-512's.
func goImpl[T float32 | float64]() *gemmImpl[T] {
	return &gemmImpl[T]{name: "go", mr: 4, nr: 4, mc: 128, kc: 256, nc: 2048, kernel: kernelGo4x4[T],
		gemv: gemvGo[T], gemvMaxM: 16}
}

// alignedSlice returns n zeroed elements starting on a 64-byte boundary.
func alignedSlice[T float32 | float64](n int) []T {
	const align = 64
	var zero T
	size := int(unsafe.Sizeof(zero))
	s := make([]T, n+align/size)
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(s))) % align)
	skip := 0
	if off != 0 {
		skip = (align - off) / size
	}
	return s[skip : skip+n : skip+n]
}
