// Package freelist keeps reusable scratch objects (buffers, mostly) for
// the kernels and the tensor package.
//
// sync.Pool is the standard tool, but it does not fit this use: an object
// put back on one P sits in that P's private slot, which a Get on another
// P never looks at, so a goroutine that moved between threads (as the
// training loop's does, whenever the runtime reschedules it) allocates a
// fresh buffer, a megabyte of packed panels for a GEMM, with its page
// faults; and it can hold only pointers, so storing a slice in one boxes
// it again. A List is a plain stack under a mutex, visible to every
// goroutine, and storing in it allocates nothing once its stack has grown.
//
// Like sync.Pool it does not pin memory: every garbage collection ages the
// lists, and an object not taken back within two collections is dropped.
package freelist

import (
	"runtime"
	"sync"
)

// List is a stack of reusable objects of type T, safe for concurrent use.
// The zero value is an empty list.
type List[T any] struct {
	mu         sync.Mutex
	cur, old   []T // this generation and the one before the last collection
	registered bool
}

// Get takes an object from the list, the most recently put first; ok is
// false when the list is empty.
func (l *List[T]) Get() (x T, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range [2]*[]T{&l.cur, &l.old} {
		if n := len(*s); n > 0 {
			x = (*s)[n-1]
			var zero T
			(*s)[n-1] = zero
			*s = (*s)[:n-1]
			return x, true
		}
	}
	return x, false
}

// Put adds x to the list for a later Get.
func (l *List[T]) Put(x T) {
	l.mu.Lock()
	l.cur = append(l.cur, x)
	first := !l.registered
	l.registered = true
	l.mu.Unlock()
	if first {
		register(l)
	}
}

// Len is the number of objects held.
func (l *List[T]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.cur) + len(l.old)
}

// age drops the older generation and makes the newer one old, keeping
// both stacks' capacity.
func (l *List[T]) age() {
	l.mu.Lock()
	clear(l.old)
	l.cur, l.old = l.old[:0], l.cur
	l.mu.Unlock()
}

type ager interface{ age() }

var (
	registry struct {
		sync.Mutex
		lists []ager
	}
	hookOnce sync.Once
)

func register(l ager) {
	registry.Lock()
	registry.lists = append(registry.lists, l)
	registry.Unlock()
	hookOnce.Do(armGCHook)
}

// sentinel is an object whose only use is to become garbage: its cleanup
// runs after a garbage collection, ages every list and arms a new
// sentinel. (It holds a pointer so that it is not a tiny allocation,
// whose cleanups may never run.)
type sentinel struct {
	_ *int
	_ [2]int
}

func armGCHook() {
	runtime.AddCleanup(new(sentinel), func(struct{}) {
		registry.Lock()
		lists := registry.lists
		registry.Unlock()
		for _, l := range lists {
			l.age()
		}
		armGCHook()
	}, struct{}{})
}
