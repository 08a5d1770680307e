package fsutil

// processAlive cannot tell on Plan 9: it says yes.
func processAlive(int) bool { return true }
