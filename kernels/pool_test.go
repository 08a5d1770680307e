package kernels

import (
	"sync"
	"sync/atomic"
	"testing"
)

// Jobs are reused: many goroutines calling ParallelFor back to back with
// tiny chunks (so that workers often hold stale references to a job that
// has been reused) still run every index exactly once, nested calls
// included. Run it with -race too.
func TestJobReuseUnderContention(t *testing.T) {
	defer SetThreads(0)
	SetThreads(4)
	const n = 37
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for it := range 300 {
				var hits [n]atomic.Int32
				ParallelFor(n, 1, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						hits[i].Add(1)
					}
					if g == 0 && it%50 == 0 { // nested
						var inner [8]atomic.Int32
						ParallelFor(8, 1, func(lo, hi int) {
							for i := lo; i < hi; i++ {
								inner[i].Add(1)
							}
						})
						for i := range inner {
							if inner[i].Load() != 1 {
								t.Errorf("nested: index %d run %d times", i, inner[i].Load())
							}
						}
					}
				})
				for i := range hits {
					if h := hits[i].Load(); h != 1 {
						t.Errorf("goroutine %d call %d: index %d run %d times", g, it, i, h)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// More chunks than a job's state holds are grouped, each still run once.
func TestRunChunksBeyondAJob(t *testing.T) {
	const chunks = maxChunks*2 + 5
	hits := make([]atomic.Int32, chunks)
	runChunks(chunks, 2, func(i int) { hits[i].Add(1) })
	for i := range hits {
		if h := hits[i].Load(); h != 1 {
			t.Fatalf("chunk %d run %d times", i, h)
		}
	}
}

// A parallel call allocates no job once warm: only ParallelFor's own
// range closure remains.
func TestParallelForAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	defer SetThreads(0)
	SetThreads(2)
	var sink atomic.Int64
	fn := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	ParallelFor(1000, 10, fn)
	if n := testing.AllocsPerRun(50, func() { ParallelFor(1000, 10, fn) }); n > 1 {
		t.Fatalf("ParallelFor: %v allocations a call, want at most 1", n)
	}
}
