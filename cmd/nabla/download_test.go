package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/data"
)

// fetchData downloads into the data set's cache folder and says so; a
// failed download returns the search's error with the download's.
func TestFetchData(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	notFound := errors.New("data: Fashion-MNIST not found (looked in A, B); install …")
	var got string
	d := download{"Fashion-MNIST", "http://example.invalid/", func() (string, error) { return cache, nil },
		func(url, dir string) error { got = url + " → " + dir; return os.MkdirAll(dir, 0o755) }}
	var log bytes.Buffer
	dir, err := fetchData(d, notFound, &log)
	if err != nil || dir != cache || got != "http://example.invalid/ → "+cache {
		t.Errorf("fetchData: %q, %v (fetched %q)", dir, err, got)
	}
	if want := "Fashion-MNIST not found locally; downloading it from http://example.invalid/ into " + cache; !strings.Contains(log.String(), want) {
		t.Errorf("log %q, want %q", log.String(), want)
	}

	// The real fetch from a server that lacks the files.
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	d = download{"Fashion-MNIST", srv.URL, func() (string, error) { return cache, nil }, data.FetchFashionMNIST}
	_, err = fetchData(d, notFound, &log)
	if err == nil || !strings.Contains(err.Error(), notFound.Error()) || !strings.Contains(err.Error(), "the download failed too") || !strings.Contains(err.Error(), "404") {
		t.Errorf("failed download: %v", err)
	}
	// No cache folder: the search's error alone.
	d.cache = func() (string, error) { return "", errors.New("no home") }
	if _, err := fetchData(d, notFound, &log); err != notFound {
		t.Errorf("no cache folder: %v", err)
	}
}
