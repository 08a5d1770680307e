package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LockFile is the name of the lock file Lock keeps in a locked folder.
const LockFile = ".lock"

// LockedError is the error Lock returns for a folder another holder has
// locked.
type LockedError struct {
	Dir      string // the folder
	LockFile string // its lock file
	PID      int    // the holder's process id; 0 when the lock file does not say
}

func (e *LockedError) Error() string {
	who := "another process"
	switch {
	case e.PID == os.Getpid():
		who = fmt.Sprintf("this process (%d)", e.PID)
	case e.PID > 0:
		who = fmt.Sprintf("process %d", e.PID)
	}
	return fmt.Sprintf("run folder %s is in use by %s (lock file %s)", e.Dir, who, e.LockFile)
}

// Lock takes an exclusive lock on the folder dir, which must exist,
// through the file LockFile in it, which holds the holder's process id
// while the lock is held. It does not wait: when another process, or
// another Lock in this one, holds the lock, the error is a *LockedError
// naming the holder's process id.
//
// release removes the lock file and lets go of the lock; it may be called
// more than once (the later calls do nothing). A process that exits
// without calling it, however it exits, frees the lock on systems with
// flock (Linux, macOS, the BSDs), leaving a lock file that the next Lock
// reuses. Elsewhere the lock file is created exclusively, and one whose
// process no longer runs is taken over.
func Lock(dir string) (release func() error, err error) {
	path := filepath.Join(dir, LockFile)
	rel, err := lock(dir, path)
	if err != nil {
		return nil, err
	}
	done := false
	return func() error {
		if done {
			return nil
		}
		done = true
		return rel()
	}, nil
}

// readPID returns the process id written in the lock file at path, or 0.
func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// lockExcl is Lock without flock: the lock file is created with O_EXCL,
// and one whose process has ended (or that is empty and older than
// StaleAge) is removed and created again. Two processes that find the
// same stale file at the same moment may both succeed; flock, where there
// is one, has no such window.
func lockExcl(dir, path string) (func() error, error) {
	for range 3 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			if err := writePID(f); err != nil {
				f.Close()
				os.Remove(path)
				return nil, &fs.PathError{Op: "lock", Path: dir, Err: cause(err)}
			}
			if err := f.Close(); err != nil {
				os.Remove(path)
				return nil, &fs.PathError{Op: "lock", Path: dir, Err: cause(err)}
			}
			return func() error {
				if err := os.Remove(path); err != nil {
					return &fs.PathError{Op: "unlock", Path: dir, Err: cause(err)}
				}
				return nil
			}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, &fs.PathError{Op: "lock", Path: dir, Err: cause(err)}
		}
		pid := readPID(path)
		if pid == os.Getpid() || (pid > 0 && processAlive(pid)) {
			return nil, &LockedError{Dir: dir, LockFile: path, PID: pid}
		}
		if pid == 0 {
			fi, err := os.Stat(path)
			if err == nil && time.Since(fi.ModTime()) <= StaleAge {
				return nil, &LockedError{Dir: dir, LockFile: path} // being written
			}
		}
		if readPID(path) != pid { // taken over meanwhile
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, &fs.PathError{Op: "lock", Path: dir, Err: cause(err)}
		}
	}
	return nil, &LockedError{Dir: dir, LockFile: path, PID: readPID(path)}
}

// CheckWritable reports, as an error, a folder dir in which files cannot
// be created and removed (read-only, immutable, on a read-only
// file system, full to the last inode), by creating and removing a probe
// file; and each of files (names inside dir, or absolute paths) that
// exists but cannot be opened for appending. Run it before long work
// that ends by writing there. A dir that does not exist, or is not a
// folder, is an error too.
func CheckWritable(dir string, files ...string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return &fs.PathError{Op: "check folder", Path: dir, Err: cause(err)}
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	f, err := os.CreateTemp(dir, ".probe"+tempMarker+"*")
	if err != nil {
		return fmt.Errorf("folder %s cannot be written: %w", dir, cause(err))
	}
	probe := f.Name()
	_, err = f.Write([]byte{0})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(probe); err == nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("folder %s cannot be written: %w", dir, cause(err))
	}
	for _, name := range files {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, name)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s cannot be written: %w", path, cause(err))
		}
		f.Close()
	}
	return nil
}
