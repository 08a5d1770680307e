//go:build !plan9

package fsutil

import (
	"errors"
	"os"
	"syscall"
)

// processAlive reports whether a process with id pid runs, as far as this
// system can tell; when it cannot, it says yes.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid) // fails on Windows for a process that is gone
	if err != nil {
		return false
	}
	defer p.Release()
	err = p.Signal(syscall.Signal(0)) // checks, sends nothing
	return !errors.Is(err, os.ErrProcessDone)
}
