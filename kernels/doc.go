// Package kernels holds the numeric loops under package tensor: matrix
// products (GEMM) and the thread pool that runs them. It works on plain
// slices and knows nothing of shapes or gradients.
//
// # Layout
//
// Every matrix is row-major with a leading dimension (the distance, in
// elements, between the starts of two rows), as in CBLAS with
// CblasRowMajor.
//
// # Concurrency
//
// The functions are safe to call from several goroutines at once; each call
// may itself spread its work over the pool (see SetThreads).
package kernels
