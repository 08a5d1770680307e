//go:build !purego

package kernels

//go:generate go run gen_gemv.go

// gemvKernel is the signature of the generated kernels (gen_gemv.go): mx
// rows of A (stride lda) against blocks·r rows of B (stride ldb), r = 4
// or 1 rows per pass, into C (stride ldc); bias nil for none.
type gemvKernel[T float32 | float64] func(k int, a *T, lda int, b *T, ldb int, c *T, ldc int, blocks int, alpha, beta T, bias *T, relu bool)

// gemvQ4Kernel is the signature of the generated quarter-stream kernel
// (gen_gemv.go): one row of A against 4·q rows of B, four per pass, the
// rows of pass j being j, j+q, j+2q and j+3q (into the same columns of
// C). Each quarter of B is so read as one long stream, which the hardware
// prefetchers follow; passes over four adjacent rows start four short
// streams (2–3 KB in an MLP) every pass, and read B from L2 at about
// half the speed (Zen 5: 110 against 190–230 GB/s).
type gemvQ4Kernel[T float32 | float64] func(k int, a *T, b *T, ldb int, c *T, q int, alpha, beta T, bias *T, relu bool)

// asmGemv wraps a table of generated kernels (table[mx-1] = {four rows
// of B per pass, one row}) as a gemvFunc: the rows of A go in groups of
// up to len(table), the columns in groups of four and then one by one.
// With q4 (nil for none), a single row of A takes its groups of four in
// four quarters instead (gemvQ4Kernel). Each column gets the same
// operations either way (q4 is generated from the four-row kernel of one
// row of A, whose four lanes are reduced alike), so the bits do not
// change. Its bounds checks keep the kernels' pointer arithmetic inside
// the slices.
func asmGemv[T float32 | float64](table [][2]gemvKernel[T], q4 gemvQ4Kernel[T]) gemvFunc[T] {
	return func(m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, ep epilogue[T]) {
		n4 := n &^ 3
		_ = b[(n-1)*ldb+k-1]
		for i := 0; i < m; {
			mx := min(len(table), m-i)
			ai, ci := a[i*lda:], c[i*ldc:]
			_, _ = ai[(mx-1)*lda+k-1], ci[(mx-1)*ldc+n-1]
			kern := table[mx-1]
			switch {
			case q4 != nil && mx == 1 && n4 >= 8:
				q4(k, &ai[0], &b[0], ldb, &ci[0], n4/4, alpha, beta, ep.biasPtr(n4), ep.relu)
			case n4 > 0:
				kern[0](k, &ai[0], lda, &b[0], ldb, &ci[0], ldc, n4/4, alpha, beta, ep.biasPtr(n4), ep.relu)
			}
			if n4 < n {
				kern[1](k, &ai[0], lda, &b[n4*ldb], ldb, &ci[n4], ldc, n-n4, alpha, beta, ep.from(n4).biasPtr(n-n4), ep.relu)
			}
			i += mx
		}
	}
}

// gemvTable converts a generated table to gemvKernel values.
func gemvTable[T float32 | float64](t [][2]func(k int, a *T, lda int, b *T, ldb int, c *T, ldc int, blocks int, alpha, beta T, bias *T, relu bool)) [][2]gemvKernel[T] {
	out := make([][2]gemvKernel[T], len(t))
	for i := range t {
		out[i] = [2]gemvKernel[T]{t[i][0], t[i][1]}
	}
	return out
}
