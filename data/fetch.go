package data

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nabla-go/nabla/internal/fsutil"
)

// fileSum is the expected size and SHA-256 (hex) of a download.
type fileSum struct {
	sha256 string
	size   int64
}

// idxFiles is a data set that comes as four IDX .gz files (MNIST's layout)
// which FetchMNIST and FetchFashionMNIST download through fetchIDX.
type idxFiles struct {
	name  string             // the data set, as messages name it
	files [4]string          // file names without .gz: MNISTFiles
	sums  map[string]fileSum // each file's .gz, by name without .gz
}

// fetchClient bounds every download, so that a closed network fails
// instead of hanging.
var fetchClient = &http.Client{Timeout: 5 * time.Minute}

// cacheDir is os.UserCacheDir()/nabla/name, where downloads go.
func cacheDir(name string) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	return filepath.Join(base, "nabla", name), nil
}

// fetchIDX downloads set's .gz files from baseURL (the file name is
// appended after a slash) into dir, creating it if need be. Each file's
// size and SHA-256 are checked against set.sums before it is put in place
// by an atomic rename, so dir never holds a partial or corrupt file; a
// file already in dir with the right hash is not downloaded again. Files
// fetched before an error stay; the temporary files of downloads killed
// before they ended are removed (see internal/fsutil.CleanTemps).
func fetchIDX(set idxFiles, baseURL, dir string) error {
	for _, name := range set.files {
		if _, ok := set.sums[name]; !ok {
			return fmt.Errorf("data: fetching %s: no checksum for %s", set.name, name)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := fsutil.CleanTemps(dir); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	for _, name := range set.files {
		want := set.sums[name]
		path := filepath.Join(dir, name+".gz")
		if ok, _ := fileHasHash(path, want.sha256); ok {
			continue
		}
		if err := fetchFile(set.name, strings.TrimSuffix(baseURL, "/")+"/"+name+".gz", path, want); err != nil {
			return err
		}
	}
	return nil
}

func fileHasHash(path, want string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == want, nil
}

// fetchFile downloads url to path, which it writes only if the download
// has want's size and hash; what names the data set in messages.
func fetchFile(what, url, path string, want fileSum) error {
	resp, err := fetchClient.Get(url)
	if err != nil {
		return fmt.Errorf("data: fetching %s: %w", what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("data: fetching %s: GET %s: %s", what, url, resp.Status)
	}
	var fetchErr error // the download's own failure, kept apart from the file system's
	err = fsutil.WriteFile(path, 0o644, func(w io.Writer) error {
		h := sha256.New()
		// Read at most one byte more than the real file, so that a wrong
		// server cannot fill the disk.
		n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(resp.Body, want.size+1))
		if err != nil {
			fetchErr = fmt.Errorf("data: fetching %s: GET %s: %w", what, url, err)
			return fetchErr
		}
		if got := hex.EncodeToString(h.Sum(nil)); n != want.size || got != want.sha256 {
			fetchErr = fmt.Errorf("data: fetching %s: %s: checksum mismatch (got %d bytes with SHA-256 %s, want %d bytes with %s); not saved",
				what, url, n, got, want.size, want.sha256)
			return fetchErr
		}
		return nil
	})
	if err != nil && err != fetchErr {
		return fmt.Errorf("data: %w", err)
	}
	return err
}
