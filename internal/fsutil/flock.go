//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// errWouldBlock is flock's answer for a file another open file has locked.
var errWouldBlock = errors.New("locked")

// flock takes an exclusive flock on f without waiting. It returns
// errWouldBlock when another open file holds one.
func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errWouldBlock
		}
		return err
	}
}

func lockTemp(f *os.File) bool { return flock(f) == nil }

// removeUnlocked removes the temporary file at path if no process holds
// its lock, while holding that lock itself (see createTemp).
func removeUnlocked(path string) (removed, known bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, true, nil
	}
	if err != nil {
		return false, false, nil // let the file's age decide
	}
	defer f.Close()
	switch err := flock(f); {
	case err == errWouldBlock:
		return false, true, nil
	case err != nil:
		return false, false, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, true, err
	}
	return true, true, nil
}

// lock is Lock with flock: the kernel releases it when the holder exits.
func lock(dir, path string) (func() error, error) {
	for range 100 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, &fs.PathError{Op: "lock", Path: dir, Err: cause(err)}
		}
		if err := flock(f); err != nil {
			f.Close()
			if err == errWouldBlock {
				return nil, &LockedError{Dir: dir, LockFile: path, PID: readPID(path)}
			}
			return nil, &fs.PathError{Op: "lock", Path: dir, Err: err}
		}
		// The holder before may have removed the lock file between our
		// open and our flock (it removes it while still holding it): then
		// the lock is on a file no one else will open. Try again.
		fi, err1 := f.Stat()
		now, err2 := os.Lstat(path)
		if err1 != nil || err2 != nil || !os.SameFile(fi, now) {
			f.Close()
			continue
		}
		if err := writePID(f); err != nil {
			os.Remove(path)
			f.Close()
			return nil, &fs.PathError{Op: "lock", Path: dir, Err: cause(err)}
		}
		return func() error {
			// Remove while holding the lock, then let go of it.
			err := os.Remove(path)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return &fs.PathError{Op: "unlock", Path: dir, Err: cause(err)}
			}
			return nil
		}, nil
	}
	return nil, &fs.PathError{Op: "lock", Path: dir, Err: errors.New("the lock file keeps being replaced")}
}
