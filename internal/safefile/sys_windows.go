//go:build windows

package safefile

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// openReadFlags is empty: opening a named pipe does not block on Windows.
const openReadFlags = 0

// tryLock takes an exclusive LockFileEx lock on the first byte of f without
// waiting; false means another handle holds it. Windows drops the lock when
// the handle is closed or its process dies.
func tryLock(f *os.File) (bool, error) {
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, new(windows.Overlapped))
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return false, nil
	}
	return err == nil, err
}

// unlock releases the lock tryLock took.
func unlock(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, new(windows.Overlapped))
}

// syncDir is a no-op: Windows cannot fsync a directory, and NTFS journals
// the rename (MoveFileEx) itself.
func syncDir(string) error { return nil }
