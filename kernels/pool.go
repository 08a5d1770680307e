package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nabla-go/nabla/internal/freelist"
)

// The pool is work-sharing rather than work-queuing: a parallel call
// publishes one job, runs chunks of it on the calling goroutine, and idle
// workers that pick the job up claim further chunks through an atomic
// counter. The caller only waits for chunks that a running goroutine has
// already claimed, so a job never waits on a worker that is busy elsewhere:
// nested calls (fn calling Sgemm) and concurrent callers cannot deadlock,
// and a pool whose workers are all busy degrades to running inline.
//
// Waking a parked goroutine on another core costs 40–150 µs on the VMs this
// runs on (the idle vCPU has to be woken by the hypervisor), as long as a
// 256³ GEMM. So both sides spin before they park: a worker keeps polling
// for jobs for spinFor after its last one, and a caller polls for its
// helpers' chunks for spinFor before it blocks. Back-to-back calls then
// hand over in well under a microsecond, at the price of up to spinFor of
// busy CPU per idle period.
//
// A spinning worker yields (runtime.Gosched) between polls: a worker that
// only polls holds its P, so other goroutines, the GC's background mark
// worker among them, wait or land on the caller's P (our reading of the
// profiles, where the MLP training steps ran slower on two threads than on
// one, with GOMAXPROCS 2 in both cases). Yielding keeps the P free for the
// GC and costs the spin nothing when there is nothing else to run; that
// makes a longer spin affordable, which bridges the gaps between the
// products of a training step.

var (
	threads atomic.Int32 // 0 means runtime.GOMAXPROCS(0)

	poolMu  sync.Mutex
	workers int         // goroutines started so far
	jobs    chan jobRef // published jobs; stale entries are harmless
	idle    freelist.List[*poolJob]
)

// spinFor bounds each busy-wait; see above. 400 µs rather than 100 µs:
// the big MLP step on two threads gains 5–10%; 1 ms gained no more.
const spinFor = 400 * time.Microsecond

// jobQueue is the capacity of the jobs channel. Publishing never blocks: a
// full queue only means fewer helpers for that call.
const jobQueue = 64

// SetThreads sets how many goroutines (the caller included) a GEMM or a
// ParallelFor may use. n <= 0 restores the default, runtime.GOMAXPROCS(0).
// It is safe to call at any time; calls already running keep the count
// they started with.
func SetThreads(n int) {
	if n < 0 {
		n = 0
	}
	threads.Store(int32(min(n, 1<<16)))
}

// Threads reports the number of goroutines a call may use (see SetThreads).
func Threads() int {
	if n := threads.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// poolJob is one parallel call: chunks [0, n) of fn. Jobs are reused
// (from idle), so a training step's dozens of parallel calls allocate no
// job each. A reused job gets a new generation, and everything a helper
// learns about a job comes from one atomic word (state: generation, n,
// next chunk), claimed by compare-and-swap: a helper holding a stale
// reference (an old entry of jobs) sees another generation and leaves;
// one that claims a chunk knows the job cannot be reused until that chunk
// is done.
type poolJob struct {
	fn    func(chunk int)
	state atomic.Uint64 // generation<<32 | n<<16 | next chunk to claim
	done  atomic.Int32  // chunks finished, polled while spinning
	wg    sync.WaitGroup
}

// jobRef is a job as published to the workers: the job and the
// generation it was published for.
type jobRef struct {
	j   *poolJob
	gen uint32
}

// maxChunks is the most chunks a job holds (16 bits of state).
const maxChunks = 1<<16 - 1

// help runs unclaimed chunks of generation gen until none are left.
func (j *poolJob) help(gen uint32) {
	for {
		s := j.state.Load()
		n, next := s>>16&maxChunks, s&maxChunks
		if uint32(s>>32) != gen || next >= n {
			return
		}
		if !j.state.CompareAndSwap(s, s+1) {
			continue
		}
		j.fn(int(next))
		// wg before done: a caller that sees done == n must find wg at
		// zero, or it would park in wg.Wait and need a slow wake-up.
		j.wg.Done()
		j.done.Add(1)
	}
}

// wait returns once every chunk has finished and every helper is done
// with the job's counters, so that the job can be reused.
func (j *poolJob) wait(n int32) {
	// No runtime.Gosched in the spin: yielding lets the scheduler move
	// both goroutines onto one P and park the other, which is the slow
	// wake-up this avoids. The spin is short next to the 10 ms after
	// which the runtime preempts anyway.
	for start := time.Now(); j.done.Load() < n && time.Since(start) < spinFor; {
	}
	j.wg.Wait()
	for j.done.Load() < n { // a helper between its wg.Done and done.Add
	}
}

// worker runs published jobs, spinning for spinFor after each before it
// parks on the channel.
func worker() {
	for {
		select {
		case r := <-jobs:
			r.j.help(r.gen)
			continue
		default:
		}
		for start := time.Now(); time.Since(start) < spinFor; {
			if len(jobs) == 0 {
				runtime.Gosched() // see above: lets the GC's worker in
				continue          // cheap poll; receive only when there is a job
			}
			select {
			case r := <-jobs:
				r.j.help(r.gen)
				start = time.Now()
			default:
			}
		}
		r := <-jobs
		r.j.help(r.gen)
	}
}

// ensureWorkers starts workers lazily until there are n of them. Workers
// are never stopped: an idle one costs a blocked goroutine.
func ensureWorkers(n int) {
	poolMu.Lock()
	defer poolMu.Unlock()
	if jobs == nil {
		jobs = make(chan jobRef, jobQueue)
	}
	for ; workers < n; workers++ {
		go worker()
	}
}

// runChunks runs fn(0) … fn(chunks-1) over at most par goroutines, the
// caller included, and returns when all have finished.
func runChunks(chunks, par int, fn func(chunk int)) {
	if chunks <= 1 || par <= 1 {
		for i := range chunks {
			fn(i)
		}
		return
	}
	if chunks > maxChunks { // more than a job holds: maxChunks chunks of chunks
		per := (chunks + maxChunks - 1) / maxChunks
		runChunks((chunks+per-1)/per, par, func(c int) {
			for i := c * per; i < min((c+1)*per, chunks); i++ {
				fn(i)
			}
		})
		return
	}
	helpers := min(par, chunks) - 1
	ensureWorkers(helpers)
	j, ok := idle.Get()
	if !ok {
		j = new(poolJob)
	}
	gen := uint32(j.state.Load()>>32) + 1
	j.fn = fn
	j.done.Store(0)
	j.wg.Add(chunks)
	j.state.Store(uint64(gen)<<32 | uint64(chunks)<<16) // publishes fn to the helpers
	for range helpers {
		select {
		case jobs <- jobRef{j, gen}:
		default: // queue full: fewer helpers
		}
	}
	j.help(gen)
	j.wait(int32(chunks))
	j.fn = nil
	idle.Put(j)
}

// ParallelFor calls fn(lo, hi) over consecutive ranges that together cover
// [0, n) exactly once, spreading them over the pool. Each range holds at
// least grain indices (except possibly the last). It runs fn inline when n
// < grain or Threads() == 1. fn must be safe to call from several
// goroutines at once; it may itself call ParallelFor or Sgemm. If fn
// panics on a worker, the program crashes, as with any goroutine.
func ParallelFor(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	par := Threads()
	if n < grain || par == 1 {
		fn(0, n)
		return
	}
	// A few chunks per goroutine balance the load when cores are shared,
	// without making the chunks much smaller than grain asks.
	chunks := min((n+grain-1)/grain, 4*par)
	size := (n + chunks - 1) / chunks
	chunks = (n + size - 1) / size
	runChunks(chunks, par, func(i int) {
		lo := i * size
		fn(lo, min(lo+size, n))
	})
}
