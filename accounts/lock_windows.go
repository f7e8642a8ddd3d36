//go:build windows

package accounts

import (
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive LockFileEx lock on f, waiting for other writers.
func lockFile(f *os.File) error {
	var ol windows.Overlapped
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &ol)
}

// syncDir is a no-op: Windows cannot fsync a directory, and MoveFileEx is
// durable enough for a config file.
func syncDir(string) error { return nil }

func isWindows() bool { return true }
