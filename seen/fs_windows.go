//go:build windows

package seen

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// tryLockSeenFile takes an exclusive LockFileEx lock on the first byte of f
// without waiting; false means another process holds it. Windows drops the
// lock when the handle is closed or its process dies.
func tryLockSeenFile(f *os.File) (bool, error) {
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, new(windows.Overlapped))
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return false, nil
	}
	return err == nil, err
}

// unlockSeenFile releases the lock tryLockSeenFile took.
func unlockSeenFile(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, new(windows.Overlapped))
}

// syncSeenDir is a no-op: Windows cannot fsync a directory, and NTFS journals
// the rename (MoveFileEx) itself.
func syncSeenDir(string) error { return nil }
