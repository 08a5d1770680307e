package tensor

import "github.com/nabla-go/nabla/kernels"

// elementGrain is the least number of elements an element-wise op hands to
// one worker: below it, waking a second core costs more than it saves.
const elementGrain = 1 << 14

// chunked runs fn over [0, n), split into chunks on the kernels' worker
// pool when n is large enough. Element-wise results do not depend on the
// split.
func chunked(n int, fn func(lo, hi int)) {
	if !parallelElements(n) {
		fn(0, n)
		return
	}
	kernels.ParallelFor(n, elementGrain, fn)
}
