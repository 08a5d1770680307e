package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// dirNames lists the entries of dir, temporary files included.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// fetchServer serves files by path; a path in bad is served wrong in the
// way its value says: "flip" (one byte changed), "short" (the last byte
// missing), "long" (a byte too many) or "cut" (half the file, then the
// connection dropped, with the whole file's Content-Length announced).
func fetchServer(files map[string][]byte, bad map[string]string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		switch bad[r.URL.Path] {
		case "flip":
			b = bytes.Clone(b)
			b[len(b)/2] ^= 1
		case "short":
			b = b[:len(b)-1]
		case "long":
			b = append(bytes.Clone(b), 0)
		case "cut":
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.Write(b[:len(b)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // drops the connection mid-body
		}
		w.Write(b)
	}))
}

// The fetch path both data sets share: the right files are saved, and a
// file of the wrong size or hash, or one whose download breaks off, is
// refused and leaves nothing behind (no file, no temporary file), while
// the files fetched before it stay.
func TestFetchIDX(t *testing.T) {
	files := map[string][]byte{}
	set := idxFiles{name: "Test-MNIST", files: MNISTFiles, sums: map[string]fileSum{}}
	for k, name := range MNISTFiles {
		b := bytes.Repeat([]byte(name), 100*(k+1))
		files["/d/"+name+".gz"] = b
		h := sha256.Sum256(b)
		set.sums[name] = fileSum{hex.EncodeToString(h[:]), int64(len(b))}
	}
	bad := map[string]string{}
	srv := fetchServer(files, bad)
	defer srv.Close()

	dir := filepath.Join(t.TempDir(), "new")
	if err := fetchIDX(set, srv.URL+"/d", dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range MNISTFiles {
		if got, err := os.ReadFile(filepath.Join(dir, name+".gz")); err != nil || !bytes.Equal(got, files["/d/"+name+".gz"]) {
			t.Errorf("%s: %v", name, err)
		}
	}

	third := "/d/" + MNISTTestImages + ".gz" // the third file fetched
	for _, how := range []string{"flip", "short", "long", "cut"} {
		clear(bad)
		bad[third] = how
		dir := t.TempDir()
		err := fetchIDX(set, srv.URL+"/d/", dir)
		want := "checksum mismatch"
		if how == "cut" {
			want = "unexpected EOF"
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Test-MNIST") || !strings.Contains(err.Error(), MNISTTestImages) {
			t.Errorf("%s: %v (want %q)", how, err, want)
		}
		if got, want := dirNames(t, dir), []string{MNISTTrainImages + ".gz", MNISTTrainLabels + ".gz"}; !slices.Equal(got, want) {
			t.Errorf("%s: dir holds %v after the error, want %v", how, got, want)
		}
	}

	// A set with a file it has no checksum for is refused before any
	// download.
	delete(set.sums, MNISTTestLabels)
	dir = t.TempDir()
	if err := fetchIDX(set, srv.URL+"/d", dir); err == nil || !strings.Contains(err.Error(), "no checksum") {
		t.Errorf("missing checksum: %v", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("missing checksum: fetched %v", names)
	}
}

func TestFindFashionMNIST(t *testing.T) {
	root := t.TempDir()
	t.Setenv("NABLA_DATA", "")
	t.Setenv("XDG_CACHE_HOME", filepath.Join(root, "xdg"))
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("LocalAppData", filepath.Join(root, "local"))
	old := fashionDebianDir
	fashionDebianDir = filepath.Join(root, "debian")
	defer func() { fashionDebianDir = old }()

	_, err := FindFashionMNIST("")
	if !errors.Is(err, ErrFashionMNISTNotFound) {
		t.Fatalf("error %v does not wrap ErrFashionMNISTNotFound", err)
	}
	for _, want := range []string{"Fashion-MNIST not found", "apt-get install dataset-fashion-mnist", "--data-dir", fashionDebianDir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// Searched last: the user cache; before it, Debian's folder; before
	// that, $NABLA_DATA/fashion-mnist.
	cache, err := FashionMNISTCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	fakeMNISTDir(t, cache)
	if got, err := FindFashionMNIST(""); err != nil || got != cache {
		t.Errorf("user cache: %q, %v", got, err)
	}
	fakeMNISTDir(t, fashionDebianDir)
	if got, err := FindFashionMNIST(""); err != nil || got != fashionDebianDir {
		t.Errorf("Debian's folder: %q, %v", got, err)
	}
	nd := filepath.Join(root, "nabla-data")
	sub := fakeMNISTDir(t, filepath.Join(nd, "fashion-mnist"))
	fakeMNISTDir(t, nd) // MNIST in $NABLA_DATA itself is not Fashion-MNIST
	t.Setenv("NABLA_DATA", nd)
	if got, err := FindFashionMNIST(""); err != nil || got != sub {
		t.Errorf("$NABLA_DATA/fashion-mnist: %q, %v", got, err)
	}
	// First of all: the override, which must hold the files.
	over := fakeMNISTDir(t, filepath.Join(root, "over"))
	if got, err := FindFashionMNIST(over); err != nil || got != over {
		t.Errorf("override: %q, %v", got, err)
	}
	os.Remove(filepath.Join(over, MNISTTrainLabels+".gz"))
	_, err = FindFashionMNIST(over)
	if !errors.Is(err, ErrFashionMNISTNotFound) || !strings.Contains(err.Error(), over) || !strings.Contains(err.Error(), MNISTTrainLabels) || !strings.Contains(err.Error(), "dataset-fashion-mnist") {
		t.Errorf("override without one file: %v", err)
	}
}

// officialFromDebian rebuilds an official Fashion-MNIST .gz file from
// Debian's copy. Debian's build (strip-nondeterminism) rewrote each gzip
// header: the file name field taken out and its flag cleared, the time set
// to the package's build time. The compressed data and the trailer are
// untouched, so putting the name and the original time back gives the
// official file, byte for byte. The times were found by trying each
// second of 2017 against the published SHA-256: 1504176606 for the
// training files, 1504176627 for the test files (31 August 2017, 10:50
// UTC).
func officialFromDebian(deb []byte, name string) []byte {
	mtime := uint32(1504176627)
	if strings.HasPrefix(name, "train") {
		mtime = 1504176606
	}
	out := []byte{0x1f, 0x8b, 8, deb[3] | 0x08} // FNAME set
	out = binary.LittleEndian.AppendUint32(out, mtime)
	out = append(out, deb[8], deb[9]) // XFL, OS
	out = append(out, name...)
	out = append(out, 0)
	return append(out, deb[10:]...)
}

// The checksums FetchFashionMNIST holds are those of the official files:
// checked here on the official files rebuilt from Debian's copies, which
// are served as from the official address, fetched, found and loaded.
// Debian's files as they are (recompressed) are refused.
func TestFetchFashionMNISTOfficial(t *testing.T) {
	if !hasMNIST(FashionMNISTDebianDir) {
		// .ci/run installs the package and sets CI, so that there this
		// test runs or fails, and never skips.
		if os.Getenv("CI") != "" {
			t.Fatalf("Debian's dataset-fashion-mnist is not installed (%s), and CI is set", FashionMNISTDebianDir)
		}
		t.Skipf("skipped: Debian's dataset-fashion-mnist is not installed (%s)", FashionMNISTDebianDir)
	}
	official, debian := map[string][]byte{}, map[string][]byte{}
	for _, name := range MNISTFiles {
		deb, err := os.ReadFile(filepath.Join(FashionMNISTDebianDir, name+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		if len(deb) < 18 || deb[0] != 0x1f || deb[1] != 0x8b || deb[3] != 0 {
			t.Fatalf("%s: not a gzip file with a bare header", name)
		}
		debian["/"+name+".gz"] = deb
		official["/"+name+".gz"] = officialFromDebian(deb, name)
	}
	srv := fetchServer(official, nil)
	defer srv.Close()
	dir := t.TempDir()
	if err := FetchFashionMNIST(srv.URL, dir); err != nil {
		t.Fatal(err)
	}
	if got, err := FindFashionMNIST(dir); err != nil || got != dir {
		t.Fatalf("FindFashionMNIST after FetchFashionMNIST: %q, %v", got, err)
	}
	train, test, err := LoadFashionMNIST(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ds   *InMemory
		name string
		n    int
	}{{train, "fashion-mnist/train", 60000}, {test, "fashion-mnist/test", 10000}} {
		if tc.ds.Name != tc.name || tc.ds.Len() != tc.n || tc.ds.Features() != 784 {
			t.Errorf("%s: %d×%d", tc.ds.Name, tc.ds.Len(), tc.ds.Features())
		}
		for c, k := range tc.ds.ClassCounts() {
			if k != tc.n/10 { // Fashion-MNIST is balanced
				t.Errorf("%s: class %d (%s) has %d examples, want %d", tc.name, c, FashionMNISTClasses[c], k, tc.n/10)
			}
		}
	}

	srv2 := fetchServer(debian, nil)
	defer srv2.Close()
	dir = t.TempDir()
	err = FetchFashionMNIST(srv2.URL, dir)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), "Fashion-MNIST") {
		t.Errorf("Debian's recompressed files: %v", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("left after refusing Debian's files: %v", names)
	}
}
