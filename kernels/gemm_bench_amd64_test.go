//go:build !purego

package kernels

import "testing"

// The AVX2 benchmarks force the AVX2 implementation, so that the path Zen 3
// and other CPUs without AVX-512 take can be measured on an AVX-512
// machine. Their FMA peak here is half of AVX-512's, so compare them with
// each other (before and after a change), not with BenchmarkSgemm.

var avx2Sizes = []int{64, 128, 256, 512, 1024}

func BenchmarkSgemmAVX2(b *testing.B) {
	if cpuLevel < 1 {
		b.Skip("no AVX2 and FMA")
	}
	g := newSgemmAVX2()
	b.Run("square", func(b *testing.B) { benchSquare(b, avx2Sizes, g.gemm) })
	b.Run("mlp", func(b *testing.B) { benchMLP(b, g.gemm) })
}

func BenchmarkDgemmAVX2(b *testing.B) {
	if cpuLevel < 1 {
		b.Skip("no AVX2 and FMA")
	}
	g := newDgemmAVX2()
	b.Run("square", func(b *testing.B) { benchSquare(b, avx2Sizes, g.gemm) })
	b.Run("mlp", func(b *testing.B) { benchMLP(b, g.gemm) })
}
