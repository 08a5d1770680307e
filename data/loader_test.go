package data

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// epoch runs one epoch of l with Next and returns the batches' indices.
func epoch(t *testing.T, l *Loader, classes int) [][]int {
	t.Helper()
	var out [][]int
	for {
		x, y, ok := l.Next()
		if !ok {
			if x != nil || y != nil {
				t.Fatal("Next returned data with ok false")
			}
			return out
		}
		out = append(out, indices(t, x, y, classes))
	}
}

func flat(b [][]int) []int { return slices.Concat(b...) }

func sizes(b [][]int) []int {
	out := make([]int, len(b))
	for i := range b {
		out[i] = len(b[i])
	}
	return out
}

func TestLoaderEveryIndexOnce(t *testing.T) {
	ds := indexSet(10, 3)
	for _, shuffle := range []bool{false, true} {
		l := NewLoader(ds, 3, shuffle, false, tensor.NewRand(1))
		if l.NumBatches() != 4 {
			t.Errorf("NumBatches %d, want 4", l.NumBatches())
		}
		for e := range 3 {
			b := epoch(t, l, 3)
			if !equalInts(sizes(b), []int{3, 3, 3, 1}) {
				t.Fatalf("shuffle %v epoch %d: batch sizes %v", shuffle, e, sizes(b))
			}
			got := flat(b)
			if !shuffle && !slices.IsSorted(got) {
				t.Errorf("unshuffled order %v", got)
			}
			slices.Sort(got)
			if !equalInts(got, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
				t.Fatalf("shuffle %v epoch %d: indices %v", shuffle, e, got)
			}
		}
		if l.Epochs() != 3 {
			t.Errorf("Epochs %d", l.Epochs())
		}
	}
}

func TestLoaderDropLast(t *testing.T) {
	ds := indexSet(10, 3)
	l := NewLoader(ds, 3, true, true, tensor.NewRand(2))
	if l.NumBatches() != 3 {
		t.Errorf("NumBatches %d, want 3", l.NumBatches())
	}
	for range 3 {
		b := epoch(t, l, 3)
		if !equalInts(sizes(b), []int{3, 3, 3}) {
			t.Fatalf("batch sizes %v", sizes(b))
		}
		got := flat(b)
		slices.Sort(got)
		if len(slices.Compact(got)) != 9 {
			t.Fatalf("repeated index in %v", got)
		}
	}
	// Exact multiple: nothing dropped.
	if got := sizes(epoch(t, NewLoader(indexSet(9, 3), 3, false, true, nil), 3)); !equalInts(got, []int{3, 3, 3}) {
		t.Errorf("9 by 3, dropLast: %v", got)
	}
	// Smaller than a batch: no batches.
	small := NewLoader(indexSet(2, 3), 3, false, true, nil)
	if small.NumBatches() != 0 || len(epoch(t, small, 3)) != 0 {
		t.Error("2 examples by 3, dropLast")
	}
}

func TestLoaderReproducible(t *testing.T) {
	ds := indexSet(50, 5)
	a := NewLoader(ds, 8, true, false, tensor.NewRand(9))
	b := NewLoader(ds, 8, true, false, tensor.NewRand(9))
	c := NewLoader(ds, 8, true, false, tensor.NewRand(10))
	var prev []int
	for e := range 4 {
		ea, eb, ec := flat(epoch(t, a, 5)), flat(epoch(t, b, 5)), flat(epoch(t, c, 5))
		if !equalInts(ea, eb) {
			t.Fatalf("epoch %d: same seed, different order", e)
		}
		if equalInts(ea, ec) {
			t.Errorf("epoch %d: seeds 9 and 10 give the same order", e)
		}
		if equalInts(ea, prev) {
			t.Errorf("epoch %d repeats the previous epoch's order", e)
		}
		prev = ea
	}
}

// The permutation is drawn from the rng when an epoch begins, so saving the
// generator's state at an epoch boundary replays the next epoch.
func TestLoaderRNGStateAtEpochBoundary(t *testing.T) {
	ds := indexSet(40, 4)
	pcg := rand.NewPCG(1, 2)
	l := NewLoader(ds, 6, true, false, rand.New(pcg))
	epoch(t, l, 4)
	epoch(t, l, 4)
	state, err := pcg.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{flat(epoch(t, l, 4)), flat(epoch(t, l, 4))}

	restored := new(rand.PCG)
	if err := restored.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	l2 := NewLoader(ds, 6, true, false, rand.New(restored))
	for e := range want {
		if got := flat(epoch(t, l2, 4)); !equalInts(got, want[e]) {
			t.Fatalf("epoch %d after restoring: %v, want %v", e, got, want[e])
		}
	}

	// Reset draws nothing: the state after Reset is still a boundary.
	pcg3 := rand.NewPCG(1, 2)
	l3 := NewLoader(ds, 6, true, false, rand.New(pcg3))
	l3.Next()
	l3.Reset()
	s1, _ := pcg3.MarshalBinary()
	l3.Reset()
	s2, _ := pcg3.MarshalBinary()
	if string(s1) != string(s2) {
		t.Error("Reset used the rng")
	}
}

func TestLoaderResetAndEpoch(t *testing.T) {
	ds := indexSet(10, 2)
	l := NewLoader(ds, 4, true, false, tensor.NewRand(3))
	ref := NewLoader(ds, 4, true, false, tensor.NewRand(3))

	// Abandon an epoch half way: the next epoch is the reference's second.
	l.Next()
	l.Reset()
	epoch(t, ref, 2)
	if got, want := flat(epoch(t, l, 2)), flat(epoch(t, ref, 2)); !equalInts(got, want) {
		t.Errorf("after Reset: %v, want %v", got, want)
	}

	// Epoch yields what Next would.
	var got [][]int
	for x, y := range l.Epoch() {
		got = append(got, indices(t, x, y, 2))
	}
	if want := epoch(t, ref, 2); !equalInts(flat(got), flat(want)) || !equalInts(sizes(got), []int{4, 4, 2}) {
		t.Errorf("Epoch: %v, want %v", got, want)
	}

	// Breaking out of Epoch abandons the epoch; the next Epoch starts afresh.
	for range l.Epoch() {
		break
	}
	epoch(t, ref, 2)
	n := 0
	for range l.Epoch() {
		n++
	}
	if n != 3 {
		t.Errorf("epoch after a break had %d batches, want 3", n)
	}
	// A Next-driven epoch under way is abandoned by Epoch too.
	l.Next()
	n = 0
	for range l.Epoch() {
		n++
	}
	if n != 3 {
		t.Errorf("Epoch after a partial Next epoch had %d batches, want 3", n)
	}
}

func TestLoaderEdgeCases(t *testing.T) {
	empty := NewLoader(indexSet(0, 2), 4, true, false, tensor.NewRand(1))
	if empty.NumBatches() != 0 {
		t.Error("empty NumBatches")
	}
	for range 2 {
		if _, _, ok := empty.Next(); ok {
			t.Error("empty data set gave a batch")
		}
	}
	big := NewLoader(indexSet(5, 2), 100, false, false, nil)
	if got := sizes(epoch(t, big, 2)); !equalInts(got, []int{5}) || big.NumBatches() != 1 {
		t.Errorf("batch larger than data set: %v", got)
	}
	if big.BatchSize() != 100 || big.Dataset().Len() != 5 {
		t.Error("accessors")
	}
	mustPanic(t, "batch 0", func() { NewLoader(indexSet(5, 2), 0, false, false, nil) })
	mustPanic(t, "shuffle without rng", func() { NewLoader(indexSet(5, 2), 2, true, false, nil) })
}
