package fsutil

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"time"
)

// tempMarker sits between a file's name and the random digits in the
// names of WriteFile's temporary files: ".model.safetensors.nabla-tmp-123".
const tempMarker = ".nabla-tmp-"

// StaleAge is how old (by modification time) a temporary file must be
// for CleanTemps to remove it when it cannot ask the writer's lock: on
// systems without flock, and for the temporary files of nabla versions
// before this package, which held no lock.
const StaleAge = time.Minute

// WriteFile writes the file at path atomically: write writes the content
// to a temporary file in the same folder (see the package documentation
// for its name), which is then synced to disk, given the permissions perm
// (not masked by the umask), renamed over path, and the folder synced, so
// that the rename too survives a crash. If write or any step fails, path
// is left as it was (absent, or the old file), the temporary file is
// removed and the error is returned: write's own error as it is, a
// failure of the file system as an *fs.PathError naming path. A path that
// names a folder is an error. Only when syncing the folder fails, after
// the rename, does path hold the new content with an error returned (an
// *fs.PathError with Op "sync folder" naming the folder).
//
// write gets the open temporary file, unbuffered: it should buffer many
// small writes itself.
func WriteFile(path string, perm os.FileMode, write func(io.Writer) error) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return &fs.PathError{Op: "write", Path: path, Err: errIsDir}
	}
	dir, base := filepath.Split(path)
	if base == "" {
		return &fs.PathError{Op: "write", Path: path, Err: errIsDir}
	}
	if dir == "" {
		dir = "."
	}
	f, locked, err := createTemp(dir, base)
	if err != nil {
		return &fs.PathError{Op: "write", Path: path, Err: cause(err)}
	}
	tmp := f.Name()
	closed, done := false, false
	defer func() { // on errors and on a panic in write
		if !done {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	fail := func(err error) error { return &fs.PathError{Op: "write", Path: path, Err: cause(err)} }
	if err := write(f); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if !locked { // nothing to keep; and Windows renames only closed files
		closed = true
		if err := f.Close(); err != nil {
			return fail(err)
		}
	}
	// Rename before closing where the temporary file is locked: the lock
	// must last until it has its final name, or CleanTemps could take it
	// for stale.
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	done = true // in place: nothing to remove whatever follows
	if !closed {
		if err := f.Close(); err != nil { // the content was synced
			return fail(err)
		}
	}
	return SyncDir(dir)
}

// createTemp creates WriteFile's temporary file for base in dir and locks
// it where the system can. CleanTemps removes an unlocked temporary file
// while it holds the file's lock, so a file found still in place once
// locked is safe from it; one removed between its creation and its lock
// is created again.
func createTemp(dir, base string) (f *os.File, locked bool, err error) {
	for range 10 {
		f, err = os.CreateTemp(dir, "."+base+tempMarker+"*")
		if err != nil {
			return nil, false, err
		}
		if !lockTemp(f) {
			return f, false, nil
		}
		fi, err1 := f.Stat()
		now, err2 := os.Lstat(f.Name())
		if err1 == nil && err2 == nil && os.SameFile(fi, now) {
			return f, true, nil
		}
		f.Close()
	}
	return nil, false, errors.New("temporary file removed as soon as created, repeatedly")
}

// WriteFileBytes is WriteFile for content already in memory.
func WriteFileBytes(path string, perm os.FileMode, data []byte) error {
	return WriteFile(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// SyncDir syncs the folder dir, making the creation, renaming and removal
// of files in it durable. It does nothing on Windows, which cannot open a
// folder for syncing.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return &fs.PathError{Op: "sync folder", Path: dir, Err: cause(err)}
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return &fs.PathError{Op: "sync folder", Path: dir, Err: cause(err)}
	}
	return nil
}

var errIsDir = errors.New("is a directory")

// cause returns the error under an *fs.PathError or *os.LinkError, so
// that the error built from it names the path the caller knows rather
// than a temporary one.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// Temporary files of WriteFile, and those of nabla's writers before it:
// ".name.tmp123" (safetensors, plot), ".name.123.tmp" (the MNIST
// download) and ".config-123.json" (a run's config.json).
var (
	tempName   = regexp.MustCompile(`^\..+` + regexp.QuoteMeta(tempMarker) + `[0-9]+$`)
	legacyName = regexp.MustCompile(`^(\..+\.tmp[0-9]+|\..+\.[0-9]+\.tmp|\.config-[0-9]+\.json)$`)
)

// IsTemp reports whether name (a file name without its folder) is that of
// a temporary file of WriteFile or of an earlier nabla writer, the files
// CleanTemps considers.
func IsTemp(name string) bool { return tempName.MatchString(name) || legacyName.MatchString(name) }

// CleanTemps removes from dir the temporary files that writers killed
// before they finished left behind, and returns their paths. It removes a
// temporary file of WriteFile only when no process holds its lock (on
// systems with flock) or, elsewhere, when it is older than StaleAge; the
// temporary files of earlier nabla versions (which held no lock) when
// older than StaleAge. It touches no other file. A folder that does not
// exist holds nothing to clean. A file that cannot be removed is passed
// over, and the first such failure returned with the files removed.
func CleanTemps(dir string) (removed []string, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var first error
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !IsTemp(name) {
			continue
		}
		path := filepath.Join(dir, name)
		if tempName.MatchString(name) {
			ok, known, err := removeUnlocked(path)
			if ok {
				removed = append(removed, path)
			}
			if err != nil && first == nil {
				first = err
			}
			if known || err != nil {
				continue
			}
		}
		if !olderThan(e, now, StaleAge) {
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			if first == nil {
				first = err
			}
			continue
		}
		removed = append(removed, path)
	}
	return removed, first
}

func olderThan(e fs.DirEntry, now time.Time, age time.Duration) bool {
	fi, err := e.Info()
	return err == nil && now.Sub(fi.ModTime()) > age
}
