//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package fsutil

import "os"

// Without flock, temporary files are judged by their age (StaleAge) and
// locks are pid files (lockExcl).

func lockTemp(*os.File) bool { return false }

func removeUnlocked(string) (removed, known bool, err error) { return false, false, nil }

func lock(dir, path string) (func() error, error) { return lockExcl(dir, path) }
