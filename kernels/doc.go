// Package kernels holds the numeric loops under package tensor and the
// optimisers: matrix products (Sgemm, Dgemm, and SgemmBias/DgemmBias,
// which add a bias and apply a ReLU as the product is stored), vectorised
// element-wise loops (ReLU32 and its backward mask MaskPositive32), the
// optimiser update rules (SGD and AdamStep, generic over float32 and
// float64, with vector loops for float32: the one definition of each rule,
// which package optim calls), convolution and pooling loops, and the
// thread pool that runs them. It works on plain slices and knows nothing
// of shapes or gradients.
//
// # Layout
//
// Every matrix is row-major with a leading dimension (the distance, in
// elements, between the starts of two rows), as in CBLAS with
// CblasRowMajor.
//
// # Errors
//
// Sgemm and Dgemm panic on programmer errors: a negative dimension, a
// leading dimension smaller than the row it strides over, or a slice too
// short for the matrix it describes. They return nothing else.
//
// # Speed
//
// Sgemm and Dgemm follow BLIS: operands are packed into cache-sized
// panels (transposes undone while packing) and multiplied by a micro-kernel
// that holds a tile of C in vector registers. On amd64 the kernels are
// assembly, AVX-512F (12×32 float32, 12×16 float64) or AVX2+FMA (6×16,
// 6×8), chosen at start-up from CPUID; products up to 256³ skip packing
// and read A and B in place. Elsewhere, with the purego build tag, or on
// CPUs without AVX2, a portable 4×4 Go kernel runs in the same blocked
// loops. gen_asm.go generates the assembly (go generate).
//
// The update rules and the element-wise loops run AVX2 code on amd64
// where the CPU has it (8 float32 lanes, fused multiply-adds) and a Go
// loop for the tail and elsewhere; tests check each vector loop against
// its Go loop.
//
// Results do not depend on the number of threads: work is split along
// whole register tiles, so each element of C sees the same operations.
//
// Conv2D, Conv2DBackwardData and Conv2DBackwardWeight run convolutions
// (NCHW, groups, stride, dilation, asymmetric padding) on the GEMM: each
// image's input is unfolded (im2col) into a buffer of at most 2 MiB,
// split in tiles of whole 32-column panels beyond that, and multiplied by
// the weight; stride-1 input gradients are the convolution by the flipped
// kernel. Images are spread over the pool, scratch buffers come from
// pools, and the weight gradient sums the batch in a fixed number of
// parts, so its bits do not depend on the thread count either.
// They can differ in the last bits between kernels (FMA versus separate
// multiply and add) and from a naive loop (summation order).
//
// # Concurrency
//
// The functions are safe to call from several goroutines at once; each call
// may itself spread its work over the pool (see SetThreads). The pool's
// goroutines start on first use and live for the life of the process.
// ParallelFor exposes the pool for element-wise loops; a function it runs
// may call Sgemm or ParallelFor again, and when every worker is busy such
// nested calls simply run on the calling goroutine. To hand work over in
// well under a microsecond, idle workers spin for up to 400 µs before they
// sleep.
package kernels
