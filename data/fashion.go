package data

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017: Zalando's article images)
// has MNIST's layout: 60000 training and 10000 test images of 28×28
// bytes, ten classes, in four IDX files named as MNIST's (MNISTFiles).

// FashionMNISTURL is the official address of the Fashion-MNIST .gz files,
// to pass to FetchFashionMNIST. Plain HTTP, as Zalando publishes them:
// every file is checked against its SHA-256 before it is kept.
const FashionMNISTURL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

// FashionMNISTDebianDir is where Debian's dataset-fashion-mnist package
// puts the four files. Debian recompresses them (its .gz files are not
// byte for byte the official ones, so FetchFashionMNIST's checksums do not
// apply to them); their contents are the official images and labels.
const FashionMNISTDebianDir = "/usr/share/datasets/fashion-mnist"

// FashionMNISTClasses names the ten classes, by label.
var FashionMNISTClasses = [10]string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// fashionGz holds the size and SHA-256 of each official .gz file, as
// tensorflow_datasets lists them for fashion_mnist
// (tensorflow_datasets/url_checksums/fashion_mnist.txt in
// github.com/tensorflow/datasets: URL, size, SHA-256), the same SHA-256
// values other loaders check (Flux's FashionMNIST, for one). They were
// also checked here against Debian's copies: each official file is
// Debian's with the gzip header's file name and time put back (see
// TestFetchFashionMNISTOfficial).
var fashionGz = map[string]fileSum{
	MNISTTrainImages: {"3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880},
	MNISTTrainLabels: {"a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515},
	MNISTTestImages:  {"346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102},
	MNISTTestLabels:  {"67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148},
}

var fashionFiles = idxFiles{name: "Fashion-MNIST", files: MNISTFiles, sums: fashionGz}

// fashionDebianDir is FashionMNISTDebianDir, which tests replace.
var fashionDebianDir = FashionMNISTDebianDir

// ErrFashionMNISTNotFound is wrapped by the error FindFashionMNIST returns
// when no directory holds the four files.
var ErrFashionMNISTNotFound = errors.New("Fashion-MNIST not found")

// LoadFashionMNIST reads the Fashion-MNIST training (60000) and test
// (10000) sets from dir, as LoadMNIST reads MNIST's (bytes, converted per
// batch; scale01 reads a pixel p as p/255); the sets are named
// fashion-mnist/train and fashion-mnist/test.
func LoadFashionMNIST(dir string, scale01 bool) (train, test *InMemory, err error) {
	train, test, err = LoadMNIST(dir, scale01)
	if err != nil {
		return nil, nil, err
	}
	train.Name, test.Name = "fashion-mnist/train", "fashion-mnist/test"
	return train, test, nil
}

// FashionMNISTCacheDir returns the per-user directory FindFashionMNIST
// searches last, os.UserCacheDir()/nabla/fashion-mnist: the place to
// FetchFashionMNIST into.
func FashionMNISTCacheDir() (string, error) { return cacheDir("fashion-mnist") }

// FindFashionMNIST returns a directory holding the four Fashion-MNIST
// files (see LoadFashionMNIST). It looks, in order:
//
//  1. in override (the CLI's --data-dir), if it is not empty; a directory
//     named there that lacks the files is an error, not skipped;
//  2. in $NABLA_DATA/fashion-mnist;
//  3. in FashionMNISTDebianDir (Debian's dataset-fashion-mnist);
//  4. in FashionMNISTCacheDir().
//
// When none has them the error, which wraps ErrFashionMNISTNotFound, lists
// the places searched and says how to get the files.
func FindFashionMNIST(override string) (string, error) {
	const how = "install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or put the four IDX files (" +
		MNISTTrainImages + ".gz and the other three, .gz or raw) in a folder and pass it with --data-dir, or in $NABLA_DATA/fashion-mnist"
	if override != "" {
		if hasMNIST(override) {
			return override, nil
		}
		return "", fmt.Errorf("data: %w in %s (missing %s); %s", ErrFashionMNISTNotFound, override, strings.Join(missingIDX(override), ", "), how)
	}
	var dirs []string
	if env := os.Getenv("NABLA_DATA"); env != "" {
		dirs = append(dirs, filepath.Join(env, "fashion-mnist"))
	}
	dirs = append(dirs, fashionDebianDir)
	if d, err := FashionMNISTCacheDir(); err == nil {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if hasMNIST(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("data: %w (looked in %s); %s", ErrFashionMNISTNotFound, strings.Join(dirs, ", "), how)
}

// FetchFashionMNIST downloads the four Fashion-MNIST .gz files from
// baseURL (for example FashionMNISTURL; the file name is appended after a
// slash) into dir, creating it if need be, with FetchMNIST's checks: each
// file's size and SHA-256 must be the official file's before it is put in
// place by an atomic rename, a file already there with the right hash is
// not downloaded again, and files fetched before an error stay.
func FetchFashionMNIST(baseURL, dir string) error { return fetchIDX(fashionFiles, baseURL, dir) }
