package freelist

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestGetPutOrder(t *testing.T) {
	var l List[int]
	if _, ok := l.Get(); ok {
		t.Fatal("an empty list gave an object")
	}
	l.Put(1)
	l.Put(2)
	for _, want := range []int{2, 1} {
		if x, ok := l.Get(); !ok || x != want {
			t.Fatalf("Get = %d, %v; want %d, true", x, ok, want)
		}
	}
	if _, ok := l.Get(); ok {
		t.Fatal("a drained list gave an object")
	}
}

// Storing a slice and taking it back allocates nothing once the stack has
// grown (sync.Pool would box the slice on every Put).
func TestPutGetDoesNotAllocate(t *testing.T) {
	var l List[[]float32]
	buf := make([]float32, 1024)
	l.Put(buf)
	if n := testing.AllocsPerRun(100, func() {
		b, _ := l.Get()
		l.Put(b)
	}); n != 0 {
		t.Fatalf("Get and Put: %v allocations, want 0", n)
	}
}

// An object put on one goroutine is found by a Get on any other (a
// sync.Pool's private slot is seen by its own P only).
func TestSharedAcrossGoroutines(t *testing.T) {
	var l List[*int]
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.Put(&i)
		}()
	}
	wg.Wait()
	found := 0
	for range 8 {
		if _, ok := l.Get(); ok {
			found++
		}
	}
	if found != 8 {
		t.Fatalf("found %d of 8 objects put by other goroutines", found)
	}
}

// An object not taken back goes to the garbage collector after
// collections: the list does not pin memory.
func TestObjectsAgeOut(t *testing.T) {
	var l List[[]byte]
	l.Put(make([]byte, 1<<20))
	if l.Len() != 1 {
		t.Fatalf("Len = %d after one Put", l.Len())
	}
	// Cleanups run on their own goroutine after a collection: give them time.
	for i := 0; i < 200 && l.Len() > 0; i++ {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
	if l.Len() > 0 {
		t.Fatal("an object survived 200 garbage collections")
	}
}
