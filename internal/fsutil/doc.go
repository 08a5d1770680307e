// Package fsutil holds the file-system helpers that nabla's packages share:
// an atomic file write, the cleaning of the temporary files a killed
// writer leaves behind, a lock on a run folder and a check that a folder
// can be written before work starts.
//
// # Atomic writes
//
// WriteFile writes a file through a temporary file in the same folder,
// named "." + the file's name + ".nabla-tmp-" + digits, then syncs it,
// sets its permissions, renames it over the target and syncs the folder.
// A reader sees the old file or the whole new one, never part of one; on
// any error the temporary file is removed and the target is untouched.
// While it writes, WriteFile holds an advisory lock (flock) on the
// temporary file where the system has one, so that CleanTemps can tell a
// file being written from one whose writer was killed.
//
// # Locks
//
// Lock takes an exclusive lock on a run folder through the file .lock in
// it, which holds the holder's process id. Where the system has flock
// (Linux, macOS, the BSDs) the kernel drops the lock when its holder dies,
// however it dies; elsewhere the lock file is created exclusively and a
// lock file whose process no longer runs is taken over.
//
// # Errors
//
// Errors name the path concerned and say what failed, without a package
// prefix: the caller adds its own. Failures of the file system are
// *fs.PathError values (errors.Is(err, fs.ErrPermission) works); a lock
// held by another process is a *LockedError.
//
// # Concurrency
//
// The functions share no state and may be called from several goroutines.
package fsutil
